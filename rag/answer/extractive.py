"""Answerers turn retrieved hits into an ``Answer`` with verified citations.

The default ``ExtractiveAnswerer`` needs no LLM: it quotes the sentence of the
retrieved chunks that the answer model (rag/decision.py over rag/evidence.py
features) rates most likely to hold the answer, followed by its ``[n]``, or
abstains below a calibrated confidence. Because every answer sentence *is* its
quote, citations are exact by construction; ``verify_citations`` checks them
against the stored documents anyway, as it does for the LLM answerers.
"""

from __future__ import annotations

import copy
import math
import re
from collections import OrderedDict
from collections.abc import Callable, Generator, Sequence
from dataclasses import replace
from typing import Protocol

import numpy as np

from .decision import AnswerModel, load_model
from .evidence import Candidate, SentenceVectors, candidates, near_duplicate, question_terms
from .prompts import NO_ANSWER
from .schema import Answer, Citation, Document, Hit

MAX_SENTENCES = 2
# Rankings kept per answerer: retrieval's judge ranks a follow-up's lists and the answer then ranks the
# chosen one again, which cost 7.6 ms even with every reader score cached (the sentence features); 16
# covers a few conversations at once.
RANKINGS_KEPT = 16
# Below this calibrated confidence an answer is more likely wrong than right: the UI and CLI mark it weak.
WEAK_CONFIDENCE = 0.5
_CITATION = re.compile(r"\[(\d+)\]")


class Answerer(Protocol):
    """Anything that answers from hits: extractive now, LLMs later."""

    def run(self, question: str, hits: Sequence[Hit], context: str = "") -> Answer:
        """``question`` as the user asked it; ``context``: words from earlier turns that
        retrieval added to it (see rewrite.py)."""
        ...


class StreamingAnswerer(Answerer, Protocol):
    """An answerer that yields its text as it is produced (language models, rag/generation.py).

    ``stream`` yields pieces of the answer's text, each already verified, and returns the final
    ``Answer``; ``history`` holds the earlier (question, answer) turns, for models that take them
    as turns. ``rag.answerers.stream_answer`` gives every answerer this form.
    """

    def stream(
        self, question: str, hits: Sequence[Hit], context: str = "", history: Sequence[tuple[str, str]] = ()
    ) -> Generator[str, None, Answer]: ...


def abstain(hits: Sequence[Hit] = ()) -> Answer:
    return Answer(text=NO_ANSWER, citations=[], abstained=True, hits=list(hits))


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
            from .errors import InputError

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
        citations = [
            Citation(n, c.hit.doc_id, c.hit.title, c.hit.source, c.hit.url, c.hit.published, c.text, c.start, c.end)
            for n, c in enumerate(chosen, start=1)
        ]
        text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
        return Answer(text=text, citations=citations, abstained=False, hits=list(hits), confidence=confidence)


def verify_citations(answer: Answer, document: Callable[[str], Document]) -> Answer:
    """Keep the citation contract: drop citations whose quote is not at its offsets,
    renumber the rest, and abstain when nothing verifiable is left.

    Only markers outside the quoted text are citation markers: a quoted sentence that
    itself contains "[2]" (a footnote, a bracketed number) comes back unchanged.
    """
    if answer.abstained:
        return answer
    quoted = _quoted_regions(answer.text, [c.quote for c in answer.citations])
    markers = [m for m in _CITATION.finditer(answer.text) if not any(a <= m.start() < b for a, b in quoted)]
    used = {int(m.group(1)) for m in markers}
    kept = [c for c in answer.citations if c.n in used and document(c.doc_id).text[c.start : c.end] == c.quote]
    if not kept:
        return abstain(answer.hits)
    renumber = {c.n: n for n, c in enumerate(kept, start=1)}
    parts, last = [], 0
    for m in markers:
        n = renumber.get(int(m.group(1)))
        parts.append(answer.text[last : m.start()] + (f"[{n}]" if n else ""))
        last = m.end()
    text = "".join(parts) + answer.text[last:]
    citations = [
        Citation(renumber[c.n], c.doc_id, c.title, c.source, c.url, c.published, c.quote, c.start, c.end) for c in kept
    ]
    return Answer(text=" ".join(text.split()), citations=citations, abstained=False, hits=answer.hits)


def _quoted_regions(text: str, quotes: Sequence[str]) -> list[tuple[int, int]]:
    """Where the quotes stand in the answer text."""
    regions = []
    for quote in quotes:
        at = text.find(quote) if quote else -1
        while at >= 0:
            regions.append((at, at + len(quote)))
            at = text.find(quote, at + 1)
    return regions


def idf_from_counts(document_frequency: Callable[[str], int], total: int) -> Callable[[str], float]:
    """BM25's idf over chunks, with a cache: a rare word in a question matters most."""
    cache: dict[str, float] = {}

    def idf(term: str) -> float:
        if term not in cache:
            df = document_frequency(term)
            cache[term] = math.log(1 + (total - df + 0.5) / (df + 0.5))
        return cache[term]

    return idf
