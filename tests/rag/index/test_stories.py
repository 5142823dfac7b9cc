"""One story once: near-duplicate copies are grouped at index time and retrieval returns one copy,
naming the others. Slow: real model, real Chroma."""

from __future__ import annotations

import json

import pytest

import rag
from rag import api
from rag.index.sync import sync

pytestmark = pytest.mark.slow  # the real model, servers or a browser

STORY = (
    "The Dunmere river burst its banks on Saturday night, flooding forty homes in the lower town. "
    "Firefighters rescued an elderly couple from their roof using a borrowed fishing boat. "
    "The mayor said the new flood wall, promised in 2019, would have protected the lower town. "
    "Volunteers filled sandbags at the market hall until the water began to fall on Sunday morning. "
    "The regional water board said the river rose two metres in six hours after record rainfall."
)
# The same story as another outlet runs it: its own title, furniture around it, a few words changed.
COPY = (
    "Share this article. Sign up for our morning newsletter.\n\n"
    + STORY.replace("Saturday night", "late on Saturday").replace("borrowed fishing boat", "borrowed boat")
    + "\n\nCopyright The Valley Post. All rights reserved."
)
# The same topic, a different story.
OTHER = (
    "The Dunmere flood wall will finally be built next year, the council decided on Tuesday. "
    "The wall will run for two kilometres along the lower town and cost eleven million euros. "
    "Residents flooded last winter welcomed the decision but asked why it took five years."
)


def articles(settings, write, *records: dict) -> None:
    write(settings.corpus_dir / "news.json", json.dumps(list(records)))
    sync(settings, progress=False)
    api.close_all()


def test_copies_of_a_story_are_one_result_naming_the_others(settings, write) -> None:
    articles(settings, write,
             {"id": "herald-flood", "title": "River floods forty homes", "text": STORY, "source": "Dunmere Herald"},
             {"id": "post-flood", "title": "Night of the flood", "text": COPY, "source": "Valley Post"},
             {"id": "herald-wall", "title": "Flood wall approved", "text": OTHER, "source": "Dunmere Herald"})
    hits = rag.search("firefighters rescued a couple from the roof in the Dunmere flood", 5, settings=settings)
    flood = [h for h in hits if h.doc_id in ("herald-flood", "post-flood")]
    assert len(flood) == 1
    other = "post-flood" if flood[0].doc_id == "herald-flood" else "herald-flood"
    assert flood[0].also_in == (other,)
    assert flood[0].also_in_sources == ({"post-flood": "Valley Post", "herald-flood": "Dunmere Herald"}[other],)
    wall = [h for h in hits if h.doc_id == "herald-wall"]
    assert wall and wall[0].also_in == ()  # same topic, another story: not grouped

    every = rag.search("firefighters rescued a couple from the roof in the Dunmere flood", 5, settings=settings,
                       group_stories=False)
    assert {"herald-flood", "post-flood"} <= {h.doc_id for h in every}

    answer = rag.ask("How did firefighters rescue the elderly couple?", settings=settings)
    assert "borrowed" in answer.text and len({c.doc_id for c in answer.citations} & {"herald-flood",
                                                                                       "post-flood"}) == 1

    # A copy rewritten into another story leaves the group; the cache rebuilt from Chroma keeps the groups.
    articles(settings, write,
             {"id": "herald-flood", "title": "River floods forty homes", "text": STORY, "source": "Dunmere Herald"},
             {"id": "post-flood", "title": "Night of the flood", "text": OTHER.replace("Tuesday", "Monday") +
              " The council's vote was unanimous.", "source": "Valley Post"},
             {"id": "herald-wall", "title": "Flood wall approved", "text": OTHER, "source": "Dunmere Herald"})
    hits = rag.search("firefighters rescued a couple from the roof in the Dunmere flood", 5, settings=settings)
    assert next(h for h in hits if h.doc_id == "herald-flood").also_in == ()
    wall = next(h for h in rag.search("flood wall council decided two kilometres", 5, settings=settings)
                if h.doc_id in ("herald-wall", "post-flood"))
    assert len(wall.also_in) == 1
    for name in ("docs.sqlite", "docs.sqlite-wal", "docs.sqlite-shm"):
        (settings.index_dir / name).unlink(missing_ok=True)
    api.close_all()
    again = next(h for h in rag.search("flood wall council decided two kilometres", 5, settings=settings)
                 if h.doc_id in ("herald-wall", "post-flood"))
    assert again.also_in == wall.also_in
