"""Which story? A first question with no subject of its own ("What happened?", "What was his job?")
that several stories match gets the question back, naming the two or three stories that match best,
instead of a quote from whichever story happened to match a little better.

Only first questions (a follow-up takes its subject from the conversation), only without a chosen
article (``ask(document=...)`` is how a user answers the question back), only when a second story's
best passage scores at least ``CLOSE`` of the best one's, and only when the answer model is less than
``CONFIDENT`` that its answer holds: a subject-less question that one story clearly answers is answered.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..prompts import CLARIFY, CLARIFY_STORY
from ..retrieval.rewrite import names_subject, needs_context
from ..schema import Answer, Hit, Story
from .interface import Answerer

# A second story matches "as well" at this share of the best story's retrieval score (fused, 0-1), and the
# question is asked back only below this confidence of the extractive answer. Chosen on CoQA train first
# questions (bench/bench_clarify.py; docs/trust.md, "Which story?"); CONFIDENT chosen again (0.6 -> 0.4) for
# the answer model refitted with news: the fewest abstentions with false answers <= 10%
# (bench/results/bench_clarify-train-news-model.json).
CLOSE = 0.5
CONFIDENT = 0.4
MAX_STORIES = 3
# A first question that stands alone as a sentence but names nothing ("Who signed the oil deal?") is asked
# back below this confidence; None (the default): only subject-less ones are (needs_context). Off because on
# train articles it traded false answers for abstentions one for one (bench/bench_clarify.py with a third
# value; docs/trust.md, section 3, "What the questions name").
NAMELESS_CONFIDENT: float | None = None


def stories_to_ask_about(question: str, hits: Sequence[Hit], judge: Answerer | None = None) -> list[Story]:
    """The stories to offer, best first, or [] when the question should simply be answered; ``judge``
    (the extractive answerer) gives the confidence of the answer it would give."""
    if not hits:
        return []
    found = [h.text for h in hits]
    if needs_context(question, found):
        confident = CONFIDENT
    elif NAMELESS_CONFIDENT is not None and not names_subject(question, found):
        confident = NAMELESS_CONFIDENT
    else:
        return []
    best: dict[str, Hit] = {}
    for hit in sorted(hits, key=lambda h: -h.score):
        best.setdefault(hit.doc_id, hit)
    ranked = list(best.values())
    top = ranked[0].score
    close = [h for h in ranked if top > 0 and h.score >= CLOSE * top][:MAX_STORIES]
    if len(close) < 2 or (judge is not None and judge.run(question, hits).confidence >= confident):
        return []
    return [Story(h.doc_id, h.title, h.source, h.url, h.published) for h in close]


def clarification(stories: Sequence[Story], hits: Sequence[Hit], query: str) -> Answer:
    """The question back, as an answer that abstains and lists the stories."""
    listed = "; ".join(
        CLARIFY_STORY.format(n=n, title=s.title or s.doc_id, source=s.source,
                             date=f", {s.published:%Y-%m-%d}" if s.published else "")
        for n, s in enumerate(stories, start=1)
    )
    return Answer(CLARIFY.format(stories=listed), [], True, list(hits), query=query, clarify=list(stories))
