"""What every answerer is, and the citation contract every answer is held to.

An answerer turns a question and retrieved hits into an ``Answer``: the extractive one
(extractive.py) and the language-model one (rag/llm/answerer.py) both fit ``Answerer``, and
``verify_citations`` checks any answer's citations against the stored documents before it is shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Sequence
from typing import Protocol

from ..prompts import NO_ANSWER
from ..schema import Answer, Citation, Document, Hit

_CITATION = re.compile(r"\[(\d+)\]")


class Answerer(Protocol):
    """Anything that answers from hits (the extractive answerer, the language-model answerer)."""

    def run(self, question: str, hits: Sequence[Hit], context: str = "") -> Answer:
        """``question`` as the user asked it; ``context``: words from earlier turns that
        retrieval added to it (see rag/retrieval/rewrite.py)."""
        ...


class StreamingAnswerer(Answerer, Protocol):
    """An answerer that yields its text as it is produced (language models, rag/llm/answerer.py).

    ``stream`` yields pieces of the answer's text, each already verified, and returns the final
    ``Answer``; ``history`` holds the earlier (question, answer) turns, for models that take them
    as turns. ``rag.answer.registry.stream_answer`` gives every answerer this form.
    """

    def stream(
        self, question: str, hits: Sequence[Hit], context: str = "", history: Sequence[tuple[str, str]] = ()
    ) -> Generator[str, None, Answer]: ...


def abstain(hits: Sequence[Hit] = ()) -> Answer:
    """The answer that says the articles do not answer the question."""
    return Answer(text=NO_ANSWER, citations=[], abstained=True, hits=list(hits))


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
