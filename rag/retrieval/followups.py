"""How a question asked after other turns uses the conversation: searched alone, with its history, or both.

The policy and its tuned constants live here (not in api.py) because evaluation and the training
scripts measure it too; ``rewrite.py`` says when a question needs its history and what to add.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..schema import Hit
from .hybrid import Filters, Retriever
from .rewrite import needs_context, with_context

if TYPE_CHECKING:
    from ..answer.extractive import ExtractiveAnswerer


# A question asked after other turns is searched twice: as asked, and with the earlier turns' words
# (fused, weight HISTORY_WEIGHT on the search with history). The answer model reads both lists and the
# more confident reading wins, so a change of subject keeps its own article and a follow-up finds the
# conversation's. A question that needs its history (rewrite.needs_context: an unresolved pronoun, too
# few words of its own, and no name, even one typed in lower case) keeps the history reading unless its own
# is more confident by NEEDS_CONTEXT_MARGIN ("What did he do next?" alone can match some other story's
# sentence quite confidently).
# A self-contained question whose own reading is at least SURE_ALONE is not searched with its history at
# all (latency: one search and one reading fewer). Measured on train articles: train/tune_followups.py
# (train/README.md): the lowest margin that keeps later-turn recall@5 >= 0.95, the lowest
# SURE_ALONE that loses nothing against higher ones.
HISTORY_WEIGHT = 0.8
NEEDS_CONTEXT_MARGIN = 0.7
SURE_ALONE = 0.3


def retrieve(
    retriever: Retriever,
    question: str,
    history: list[tuple[str, str]],
    k: int,
    filters: Filters,
    judge: ExtractiveAnswerer,
) -> tuple[list[Hit], str]:
    """The passages for a question and what was searched (see above); ``judge`` (the index's answer
    model) decides between the question's own search and the one with its history."""
    query = with_context(question, history)
    alone = retriever.search(question, k, filters)
    if query == question:
        return alone, question
    needs = needs_context(question, [h.text for h in alone])
    own = None if needs else judge.run(question, alone).confidence
    if own is not None and own >= SURE_ALONE:
        return alone, question
    fused = fuse_hits(retriever.search(query, k, filters), alone, k, HISTORY_WEIGHT)
    bar = judge.run(question, fused, query[len(question) :]).confidence + (NEEDS_CONTEXT_MARGIN if needs else 0.0)
    # A question that needs its history is read alone only when that reading could still win (bar < 1):
    # the history list is read first, as its answer is the usual one.
    if bar < 1.0 and (judge.run(question, alone).confidence if own is None else own) > bar:
        return alone, question
    return fused, query


def fuse_hits(first: list[Hit], second: list[Hit], k: int, weight: float) -> list[Hit]:
    """Weighted sum of two result lists' scores (a hit missing from a list scores 0 there); the best
    hit of ``second`` (the question's own search) always stays among the ``k``."""
    scores: dict[str, float] = {}
    by_id: dict[str, Hit] = {}
    for hits, w in ((first, weight), (second, 1 - weight)):
        for h in hits:
            scores[h.chunk_id] = scores.get(h.chunk_id, 0.0) + w * h.score
            known = by_id.get(h.chunk_id)
            if known is None or h.similarity > known.similarity:
                by_id[h.chunk_id] = h
    best = sorted(scores, key=lambda i: -scores[i])[:k]
    if second and second[0].chunk_id not in best and k > 1:
        best[-1] = second[0].chunk_id
    return [replace(by_id[i], score=round(scores[i], 6)) for i in best]
