"""Answers written by a language model, released sentence by sentence once verified.

``GeneratingAnswerer`` first asks the extractive answerer whether the retrieved passages can
answer at all (no generation when they cannot), then streams the model's tokens, cuts them into
sentences as they complete, and releases each sentence only after ``verify.Verifier`` found
the span that supports it; the citation quotes that span. A model that fails, stalls or returns
nothing usable gives a notice and the extractive answer instead. The tokens come from a backend
(backends.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace

from ..answer.extractive import ExtractiveAnswerer
from ..errors import ModelError
from ..prompts import (
    MODEL_FAILED,
    MODEL_REFUSED,
    NOTHING_VERIFIED,
    REMOVED_SENTENCES,
    SYSTEM_PROMPT,
    citation,
    question_message,
)
from ..schema import Answer, Citation, Hit
from .backends import Backend, Messages
from .claims import contradicts
from .verify import Embed, SentenceBuffer, Span, Verdict, Verifier

HISTORY_TURNS = 3  # earlier turns passed to the model: enough for follow-ups, short enough for a small context
_MARKER = re.compile(r"\s*\[\d+\]")


def build_messages(question: str, hits: Sequence[Hit], history: Sequence[tuple[str, str]]) -> Messages:
    """System rules, earlier turns as real turns (so the model resolves follow-ups), then passages and question."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for asked, answered in list(history)[-HISTORY_TURNS:]:
        messages.append({"role": "user", "content": asked})
        messages.append({"role": "assistant", "content": " ".join(_MARKER.sub("", answered).split())})
    passages = [(h.title, h.text) for h in hits]
    messages.append({"role": "user", "content": question_message(question, passages)})
    return messages


@dataclass
class _Draft:
    """The verified answer as it grows."""

    hits: Sequence[Hit]
    sentences: list[str]
    citations: list[Citation]
    numbers: dict[tuple[str, int, int], int]

    claims: list[str] = field(default_factory=list)  # the released sentences without their citations

    def add(self, verdict: Verdict) -> str:
        span = verdict.span
        assert span is not None
        n = self.cite(span)
        text = f"{verdict.claim} {citation(n)}"
        self.sentences.append(text)
        self.claims.append(verdict.claim)
        return text

    def cite(self, span: Span) -> int:
        hit = self.hits[span.hit]
        key = (hit.doc_id, span.start, span.end)
        if key not in self.numbers:
            self.numbers[key] = n = len(self.citations) + 1
            self.citations.append(
                Citation(n, hit.doc_id, hit.title, hit.source, hit.url, hit.published, span.text, span.start, span.end)
            )
        return self.numbers[key]


class GeneratingAnswerer:
    """A language model's answer, every sentence verified against the retrieved passages."""

    def __init__(
        self,
        backend: Backend,
        gate: ExtractiveAnswerer,
        *,
        embed: Embed | None = None,
        passages: int = 3,
        max_tokens: int = 200,
        timeout: float = 30.0,
        learned: bool = False,
    ) -> None:
        self.backend = backend
        self.learned = learned  # the learned verifier beside the rules (rag/llm/consistency.py)
        self.gate = gate  # the extractive answerer: decides answer/abstain, judges relevance, and is the fallback
        self.embed = embed
        self.passages = passages
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.on_verdict: Callable[[Verdict], None] | None = None  # sees every generated sentence's verdict

    def run(
        self, question: str, hits: Sequence[Hit], context: str = "", history: Sequence[tuple[str, str]] = ()
    ) -> Answer:
        stream = self.stream(question, hits, context, history)
        while True:
            try:
                next(stream)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]

    def stream(
        self, question: str, hits: Sequence[Hit], context: str = "", history: Sequence[tuple[str, str]] = ()
    ) -> Generator[str, None, Answer]:
        """Yield each verified sentence as it completes; return the final ``Answer``."""
        extractive = self.gate.run(question, hits, context)
        if extractive.abstained:  # the passages cannot answer: no generation
            yield extractive.text
            return extractive
        verifier = Verifier(hits, min(self.passages, len(hits)), self.embed, learned=self.learned)
        answering = self.gate.answering(question, hits, context)
        draft = _Draft(hits, [], [], {})
        buffer = SentenceBuffer()
        generated = removed = repointed = 0
        refused = False
        try:
            tokens = self.backend.chat(build_messages(question, hits[: self.passages], history), self.max_tokens,
                                       self.timeout)
            received = False
            for delta in tokens:
                received = True
                for sentence in buffer.feed(delta):
                    verdict = self._check(verifier, sentence, draft, answering)
                    generated, removed, repointed, refused = _count(verdict, generated, removed, repointed, refused)
                    if verdict.supported:
                        yield draft.add(verdict)
            if not received:
                raise ModelError(f"{self.backend.description} returned no text")
            for sentence in buffer.flush():
                verdict = self._check(verifier, sentence, draft, answering)
                generated, removed, repointed, refused = _count(verdict, generated, removed, repointed, refused)
                if verdict.supported:
                    yield draft.add(verdict)
        except ModelError as exc:
            notice = MODEL_FAILED.format(reason=exc)
            yield from self._fallback(draft, extractive)
            text = " ".join(draft.sentences)
            return Answer(text, draft.citations, False, list(hits), notice=notice, generated=generated,
                          removed=removed, repointed=repointed, confidence=extractive.confidence)
        if not draft.sentences:  # the extractive answer is confident enough to be given: never say less
            notice = MODEL_REFUSED if refused and not generated else NOTHING_VERIFIED.format(generated=generated)
            yield from self._fallback(draft, extractive)
            return Answer(" ".join(draft.sentences), draft.citations, False, list(hits), notice=notice,
                          generated=generated, removed=removed, confidence=extractive.confidence)
        notice = REMOVED_SENTENCES.format(removed=removed, generated=generated) if removed else ""
        return Answer(" ".join(draft.sentences), draft.citations, False, list(hits), notice=notice,
                      generated=generated, removed=removed, repointed=repointed, confidence=extractive.confidence)

    def _check(self, verifier: Verifier, sentence: str, draft: _Draft, answering: set[tuple[str, int, int]]) -> Verdict:
        """The verifier's verdict, refused further when the span does not answer the question (the answer
        model's judgement) or the sentence contradicts one already shown."""
        verdict = verifier.check(sentence)
        span = verdict.span
        if span is not None:
            doc_id = verifier.hits[span.hit].doc_id
            if not any(d == doc_id and span.start <= s and e <= span.end for d, s, e in answering):
                verdict = replace(verdict, span=None, repointed=False, off_question=True)
            elif any(contradicts(verdict.claim, shown) for shown in draft.claims):
                verdict = replace(verdict, span=None, repointed=False, contradicts_answer=True)
        if self.on_verdict is not None:
            self.on_verdict(verdict)
        return verdict

    @staticmethod
    def _fallback(draft: _Draft, extractive: Answer) -> Iterator[str]:
        """Append the extractive answer's sentences (renumbered) to whatever was verified so far."""
        parts = re.findall(r"(.*?)\s*\[(\d+)\]", extractive.text)
        by_number = {c.n: c for c in extractive.citations}
        for body, n in parts:
            source = by_number.get(int(n))
            if source is None:
                continue
            hit_index = next((i for i, h in enumerate(draft.hits) if h.doc_id == source.doc_id), None)
            if hit_index is None:
                continue
            number = draft.cite(Span(hit_index, source.start, source.end, source.quote))
            text = f"{body.strip()} {citation(number)}"
            draft.sentences.append(text)
            yield text


def _count(verdict: Verdict, generated: int, removed: int, repointed: int, refused: bool) -> tuple[int, int, int, bool]:
    if verdict.refusal:
        return generated, removed, repointed, True
    generated += 1
    if not verdict.supported:
        removed += 1
    elif verdict.repointed:
        repointed += 1
    return generated, removed, repointed, refused
