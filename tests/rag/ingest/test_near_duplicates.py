"""Near-duplicate stories: copies are grouped with their original, different articles are not (fast tier)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.ingest import near_duplicates as nd
from rag.ingest.near_duplicates import StoryIndex, jaccard, shingles, signature, signature_bytes

ROOT = Path(__file__).resolve().parents[3]

BRIDGE = """Harbour bridge reopens after storm repairs

The Kelvinport harbour bridge reopened to traffic on Monday morning after six weeks of repairs, the city
council said. Engineers replaced forty steel cables that were damaged when Storm Ilsa hit the coast in March,
and resurfaced the whole of the northern approach road.

The repairs cost 12 million euros, two million more than the council had planned, because a second inspection
found rust inside the eastern tower. Council leader Mara Vint said the extra work would add twenty years to
the life of the bridge and thanked residents for their patience during the long closure.

Ferry operators, who carried more than 80,000 extra passengers while the bridge was shut, said they would
return to their normal winter timetable from next week. Cyclists will have to wait until the end of the month
for the new protected lane on the western side, which still needs its final coat of paint."""

# The same story as another site serves it: new title, site furniture, a dozen words changed or dropped.
BRIDGE_COPY = """Kelvinport bridge open again

Skip to main content. Share this article. Share on Facebook. Listen to this article, 3 minutes.

The Kelvinport harbour bridge reopened to traffic on Monday after six weeks of repairs, the city council
announced. Engineers replaced forty steel cables that were damaged when Storm Ilsa struck the coast in March,
and resurfaced the northern approach road.

The repairs cost 12 million euros, two million more than the council had budgeted, because a second inspection
found rust inside the eastern tower. Council leader Mara Vint said the extra work would add twenty years to
the life of the bridge and thanked residents for their patience during the closure.

Ferry operators, who carried more than 80,000 additional passengers while the bridge was shut, said they would
return to their normal winter timetable from next week. Cyclists will have to wait until the end of the month
for the new protected lane on the western side, which still needs its final coat of paint.

Sign up for our newsletter to get the top stories every morning. Copyright 2024 Example News Ltd. All rights
reserved. More on this story."""

# Another story on the same topic (the bridge, the council, the storm), written separately.
BRIDGE_OTHER = """Council approves budget for storm damage

Kelvinport city council approved an emergency budget on Thursday to pay for damage caused by Storm Ilsa. The
package sets aside money for sea defences along the southern beaches, where the storm washed away two car
parks and part of the promenade.

Councillors argued for three hours over how much to spend on the harbour bridge, whose long closure angered
shop owners in the old town. The opposition wanted an independent review of why the repairs ran over budget.

The budget also funds a new warning system that will send text messages to residents when high tides and
strong winds are expected together, something the fire service had asked for since the floods of 2019."""


def index_of(*docs: tuple[str, str]) -> tuple[StoryIndex, dict[str, str]]:
    texts = dict(docs)
    index = StoryIndex()
    for doc_id, text in docs:
        index.add(doc_id, signature(shingles(text)), doc_id)
    return index, texts


def find(index: StoryIndex, texts: dict[str, str], text: str, exclude: str = "") -> str | None:
    sh = shingles(text)
    return index.find(signature(sh), sh, lambda d: shingles(texts[d]), exclude=exclude)


def test_a_copy_with_boilerplate_edits_and_a_new_title_joins_the_story() -> None:
    assert jaccard(shingles(BRIDGE), shingles(BRIDGE_COPY)) >= nd.THRESHOLD
    index, texts = index_of(("a/bridge.txt", BRIDGE), ("a/budget.txt", BRIDGE_OTHER))
    assert find(index, texts, BRIDGE_COPY) == "a/bridge.txt"


def test_different_articles_on_one_topic_are_not_grouped() -> None:
    assert jaccard(shingles(BRIDGE), shingles(BRIDGE_OTHER)) < 0.1
    index, texts = index_of(("a/bridge.txt", BRIDGE))
    assert find(index, texts, BRIDGE_OTHER) is None


def test_the_story_is_the_label_of_the_group_not_the_best_documents_id() -> None:
    index, texts = index_of(("a/bridge.txt", BRIDGE))
    index.add("b/copy.txt", signature(shingles(BRIDGE_COPY)), "a/bridge.txt")
    texts["b/copy.txt"] = BRIDGE_COPY
    assert index.story_of("b/copy.txt") == "a/bridge.txt"
    assert find(index, texts, BRIDGE_COPY, exclude="a/bridge.txt") == "a/bridge.txt"


def test_the_most_similar_document_wins() -> None:
    index = StoryIndex()
    texts = {"x": BRIDGE, "y": BRIDGE_COPY}
    index.add("x", signature(shingles(BRIDGE)), "story-x")
    index.add("y", signature(shingles(BRIDGE_COPY)), "story-y")
    assert find(index, texts, BRIDGE_COPY + " One more line.") == "story-y"
    assert find(index, texts, BRIDGE) == "story-x"


def test_remove_forgets_and_tolerates_absent_ids() -> None:
    index, texts = index_of(("a/bridge.txt", BRIDGE))
    index.remove("a/bridge.txt")
    assert index.story_of("a/bridge.txt") is None
    assert "a/bridge.txt" not in index and len(index) == 0
    assert find(index, texts, BRIDGE_COPY) is None
    index.remove("a/bridge.txt")
    index.remove("never/added.txt")


def test_exclude_ignores_the_document_itself() -> None:
    index, texts = index_of(("a/bridge.txt", BRIDGE))
    assert find(index, texts, BRIDGE) == "a/bridge.txt"
    assert find(index, texts, BRIDGE, exclude="a/bridge.txt") is None


def test_adding_an_id_again_replaces_it() -> None:
    index, texts = index_of(("a/bridge.txt", BRIDGE))
    index.add("a/bridge.txt", signature(shingles(BRIDGE_OTHER)), "a/bridge.txt")
    texts["a/bridge.txt"] = BRIDGE_OTHER
    assert len(index) == 1
    assert find(index, texts, BRIDGE) is None
    assert find(index, texts, BRIDGE_OTHER) == "a/bridge.txt"


def test_rebuilt_from_stored_bytes_it_finds_the_same() -> None:
    sig = signature(shingles(BRIDGE))
    data = signature_bytes(sig)
    assert len(data) == 8 * nd.NUM_PERM
    assert np.array_equal(nd.signature_from_bytes(data), sig)
    index = StoryIndex.from_signatures(
        [
            ("a/bridge.txt", data, "a/bridge.txt"),
            ("a/budget.txt", signature_bytes(signature(shingles(BRIDGE_OTHER))), "a/budget.txt"),
        ]
    )
    texts = {"a/bridge.txt": BRIDGE, "a/budget.txt": BRIDGE_OTHER}
    assert find(index, texts, BRIDGE_COPY) == "a/bridge.txt"
    with pytest.raises(ValueError):
        nd.signature_from_bytes(data[:-8])


def test_signatures_are_the_same_in_another_process() -> None:
    code = (
        "import sys; from rag.ingest.near_duplicates import shingles, signature, signature_bytes;"
        "sys.stdout.write(signature_bytes(signature(shingles(sys.stdin.read()))).hex())"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        input=BRIDGE,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    assert bytes.fromhex(other.stdout) == signature_bytes(signature(shingles(BRIDGE)))


def test_shingle_hashes_and_signatures_are_pinned() -> None:
    # Stored signatures depend on these: a change here means every stored signature must be recomputed.
    assert shingles("The harbour bridge") == {0xA748E45BB547EACA}
    assert signature({1, 2, 3})[:2].tolist() == [1476114537958890909, 4785071310207400667]


def test_empty_and_very_short_texts() -> None:
    assert shingles("") == set() and shingles("  ,.;  \n") == set()
    assert len(shingles("Hello")) == 1 and len(shingles("Hello, world!")) == 1
    assert shingles("Hello, world!") == shingles("hello world")
    empty = signature(set())
    assert empty.dtype == np.uint64 and empty.shape == (nd.NUM_PERM,)
    index = StoryIndex()
    index.add("empty", empty, "empty")
    index.add("short", signature(shingles("Hello world")), "short")
    texts = {"empty": "", "short": "Hello world"}
    assert find(index, texts, "") is None
    assert find(index, texts, "HELLO, world.") == "short"
    assert find(index, texts, "Goodbye world") is None
    assert jaccard(set(), set()) == 0.0


def test_lsh_proposes_pairs_at_the_threshold() -> None:
    index = StoryIndex()
    assert index.bands * index.rows <= nd.NUM_PERM
    assert index.lsh_threshold < index.threshold
    chance = 1 - (1 - index.threshold**index.rows) ** index.bands
    assert chance >= nd.CANDIDATE_RECALL
