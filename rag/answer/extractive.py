"""The default answerer, ``ExtractiveAnswerer``: no language model, every sentence a quote.

It quotes the sentence of the retrieved chunks that the answer model (answer_model.py over
features.py) rates most likely to hold the answer, followed by its ``[n]``, or abstains below a
calibrated confidence. Because every answer sentence *is* its quote, citations are exact by
construction; ``interface.verify_citations`` checks them against the stored documents anyway, as it
does for the language-model answerers.
"""

from __future__ import annotations

import copy
import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from ..retrieval.dates import prefers_recent
from ..schema import Answer, Citation, Hit
from .answer_model import AnswerModel, load_model
from .features import Candidate, SentenceVectors, candidates, near_duplicate, question_terms
from .interface import abstain

MAX_SENTENCES = 2
# Rankings kept per answerer: retrieval's judge ranks a follow-up's lists and the answer then ranks the
# chosen one again, which cost 7.6 ms even with every reader score cached (the sentence features); 16
# covers a few conversations at once.
RANKINGS_KEPT = 16
# Below this calibrated confidence an answer is more likely wrong than right: the UI and CLI mark it weak.
WEAK_CONFIDENCE = 0.5


class ExtractiveAnswerer:
    """Quote the sentence the answer model rates most likely to hold the answer; abstain
    when its calibrated confidence is below ``min_confidence``."""

    def __init__(
        self,
        idf: Callable[[str], float],
        *,
        embed_query: Callable[[str], np.ndarray] | None = None,
        embed: Callable[[Sequence[str]], np.ndarray] | None = None,
        reader: Callable[[str, Sequence[str]], np.ndarray] | None = None,
        min_confidence: float | None = None,
        model: AnswerModel | None = None,
    ) -> None:
        self.idf = idf
        self.model = model or load_model()
        self.min_confidence = self.model.min_confidence if min_confidence is None else min_confidence
        # Only what the fitted model uses is computed: embedding and reading sentences cost latency.
        uses = set(self.model.features)
        self.embed_query = embed_query if "similarity_sentence" in uses else None
        self.vectors = SentenceVectors(embed) if embed is not None and "similarity_sentence" in uses else None
        self.reader = reader if "reader" in uses else None
        # (question, context, hits) -> ranking; shared with with_min_confidence copies (ranking ignores it)
        self._rankings: OrderedDict[tuple[object, ...], tuple[list[Candidate], np.ndarray]] = OrderedDict()

    def with_min_confidence(self, min_confidence: float) -> ExtractiveAnswerer:
        """The same answerer (caches shared) answering down to another confidence."""
        if not 0.0 <= min_confidence <= 1.0:
            from ..errors import InputError

            raise InputError("min_confidence must be between 0 and 1")
        other = copy.copy(self)
        other.min_confidence = min_confidence
        return other

    def rank(self, question: str, hits: Sequence[Hit], context: str = "") -> tuple[list[Candidate], np.ndarray]:
        """The candidate sentences and their scores, best first; the same question over the same hits
        is ranked once (a follow-up's chosen list was already ranked when retrieval chose it)."""
        key = (question, context, tuple((h.chunk_id, h.score, h.similarity) for h in hits))
        ranking = self._rankings.get(key)
        if ranking is None:
            ranking = self._rankings[key] = self._rank(question, hits, context)
            while len(self._rankings) > RANKINGS_KEPT:
                self._rankings.popitem(last=False)
        return ranking

    def _rank(self, question: str, hits: Sequence[Hit], context: str) -> tuple[list[Candidate], np.ndarray]:
        q = question_terms(question, self.idf, context)
        if not hits or q.total <= 0:
            return [], np.zeros(0)
        vector = self.embed_query(question) if self.embed_query is not None else None
        reader = self.reader
        read = (lambda sentences: reader(question, sentences)) if reader is not None else None
        found = candidates(q, hits, vector, self.vectors, read)
        scores = self.model.scores([c.features for c in found])
        order = np.argsort(-scores, kind="stable")
        return [found[i] for i in order], scores[order]

    def answering(self, question: str, hits: Sequence[Hit], context: str = "") -> set[tuple[str, int, int]]:
        """The sentences (doc_id, start, end) the answer model judges as answering: the best, and those
        scoring at least ``second_share`` of it, the bar this answer's own second sentence must clear.
        A language model's sentence is shown only when its supporting span holds one of them."""
        ranked, scores = self.rank(question, hits, context)
        if not ranked:
            return set()
        bar = self.model.second_share * float(scores[0])
        return {(c.hit.doc_id, c.start, c.end) for c, score in zip(ranked, scores, strict=True) if score >= bar}

    def run(self, question: str, hits: Sequence[Hit], context: str = "") -> Answer:
        ranked, scores = self.rank(question, hits, context)
        if not ranked:
            return abstain(hits)
        confidence = self.model.confidence(float(scores[0]), ranked[0].features)
        if confidence < self.min_confidence:
            return replace(abstain(hits), confidence=confidence)
        chosen = [ranked[0]]
        for c, score in zip(ranked[1:], scores[1:], strict=True):
            if len(chosen) == MAX_SENTENCES or score < self.model.second_share * scores[0]:
                break
            overlaps = any(c.hit.doc_id == o.hit.doc_id and c.start < o.end and o.start < c.end for o in chosen)
            if not overlaps and not any(near_duplicate(c.text, o.text) for o in chosen):
                chosen.append(c)
        if prefers_recent(question):  # sources that differ over time: the newest report first, undated last
            chosen.sort(key=lambda c: c.hit.published.timestamp() if c.hit.published else float("-inf"), reverse=True)
        citations = [
            Citation(n, c.hit.doc_id, c.hit.title, c.hit.source, c.hit.url, c.hit.published, c.text, c.start, c.end)
            for n, c in enumerate(chosen, start=1)
        ]
        text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
        return Answer(text=text, citations=citations, abstained=False, hits=list(hits), confidence=confidence)


def idf_from_counts(document_frequency: Callable[[str], int], total: int) -> Callable[[str], float]:
    """BM25's idf over chunks, with a cache: a rare word in a question matters most."""
    cache: dict[str, float] = {}

    def idf(term: str) -> float:
        if term not in cache:
            df = document_frequency(term)
            cache[term] = math.log(1 + (total - df + 0.5) / (df + 0.5))
        return cache[term]

    return idf
