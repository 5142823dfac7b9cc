"""Answerers turn retrieved hits into an ``Answer`` with verified citations.

The default ``ExtractiveAnswerer`` needs no LLM: it quotes the sentences of the
retrieved chunks that best cover the question's words (weighted by how rare
they are in the index), each followed by its ``[n]``. Because every answer
sentence *is* its quote, citations are exact by construction, and
``verify_citations`` checks them against the stored documents anyway, as it
will for LLM answerers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Protocol

from .chunking import sentence_spans
from .prompts import NO_ANSWER
from .schema import Answer, Citation, Document, Hit
from .text import content_stems, words

# Tuned with `rag eval` on CoQA (answerable) and SQuAD asked of a CoQA index (unanswerable); see README.
MIN_COVERAGE = 0.3
MIN_SIMILARITY = 0.3
ANSWER_TYPE_BONUS = 0.15
CONTEXT_WEIGHT = 0.3
CONTEXT_SHARE = 0.3  # tuned on CoQA later turns (bench/tune.py does the rest)
SECOND_SENTENCE = 0.9  # a second sentence must score this close to the best one
MAX_SENTENCES = 2
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


@dataclass(frozen=True)
class _Sentence:
    hit: Hit
    start: int
    end: int
    text: str
    coverage: float
    score: float


class ExtractiveAnswerer:
    """Quote the best-matching sentences; abstain when the evidence is weak."""

    def __init__(
        self, idf: Callable[[str], float], min_coverage: float = MIN_COVERAGE, min_similarity: float = MIN_SIMILARITY
    ) -> None:
        self.idf = idf
        self.min_coverage = min_coverage
        self.min_similarity = min_similarity

    def run(self, question: str, hits: Sequence[Hit], context: str = "") -> Answer:
        weights = {t: self.idf(t) for t in content_stems(question)}
        extra = {t: self.idf(t) for t in content_stems(context) if t not in weights}
        if extra:  # earlier turns count, but together at most CONTEXT_SHARE of the question's own words
            own, added = sum(weights.values()), sum(extra.values())
            scale = min(CONTEXT_WEIGHT, CONTEXT_SHARE * own / added) if own else CONTEXT_WEIGHT
            weights.update({t: scale * w for t, w in extra.items()})
        total = sum(weights.values())
        if not hits or total <= 0:
            return abstain(hits)
        candidates = self._sentences(question, hits, weights, total)
        if not candidates:
            return abstain(hits)
        best = candidates[0]
        if best.coverage < self.min_coverage or best.hit.similarity < self.min_similarity:
            return abstain(hits)
        chosen = [best]
        for s in candidates[1:]:
            if len(chosen) == MAX_SENTENCES or s.score < SECOND_SENTENCE * best.score:
                break
            if all(s.hit.doc_id != c.hit.doc_id or s.end <= c.start or s.start >= c.end for c in chosen):
                chosen.append(s)
        citations = [
            Citation(
                n=n,
                doc_id=s.hit.doc_id,
                title=s.hit.title,
                source=s.hit.source,
                url=s.hit.url,
                published=s.hit.published,
                quote=s.text,
                start=s.start,
                end=s.end,
            )
            for n, s in enumerate(chosen, start=1)
        ]
        text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
        return Answer(text=text, citations=citations, abstained=False, hits=list(hits))

    def _sentences(
        self, question: str, hits: Sequence[Hit], weights: dict[str, float], total: float
    ) -> list[_Sentence]:
        top = max(h.score for h in hits) or 1.0
        asked = set(words(question))
        seen: set[tuple[str, int]] = set()
        found: list[_Sentence] = []
        for rank, hit in enumerate(hits):
            for s, e in sentence_spans(hit.text):
                start, end = hit.start + s, hit.start + e
                if (hit.doc_id, start) in seen:
                    continue  # the same sentence in an overlapping chunk
                seen.add((hit.doc_id, start))
                text = hit.text[s:e]
                stems = set(content_stems(text))
                coverage = sum(w for t, w in weights.items() if t in stems) / total
                # Words the question does not already contain are what an answer adds.
                novel = len([w for w in words(text) if w not in asked]) > 1
                score = coverage + 0.25 * hit.score / top - 0.02 * rank - (0 if novel else 0.5)
                score += ANSWER_TYPE_BONUS * _fits_answer_type(question, asked, text)
                found.append(_Sentence(hit, start, end, text, coverage, score))
        found.sort(key=lambda s: -s.score)
        return found


_NUMBER_QUESTION = re.compile(
    r"\b(how (much|many|long|old|far|big|large|often|tall)|what (year|percentage|percent|number|age|date|time)|"
    r"when)\b", re.I)
_NAME_QUESTION = re.compile(r"\b(who|whom|whose|where|which (country|city|team|company|person))\b", re.I)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
    r"thousand|million|billion|dozen|half|monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|"
    r"february|march|april|may|june|july|august|september|october|november|december|yesterday|today|week|"
    r"month|year)s?\b", re.I)
_CAPITALISED = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+")


def _fits_answer_type(question: str, asked: set[str], sentence: str) -> bool:
    """Does the sentence hold the kind of thing asked for: a number or date, or a name?"""
    if _NUMBER_QUESTION.search(question):
        return bool(_NUMBER.search(sentence))
    if _NAME_QUESTION.search(question):
        return any(m.group().lower() not in asked for m in _CAPITALISED.finditer(sentence))
    return False


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
