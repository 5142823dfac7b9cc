"""Citation checks of rag/answer/extractive.py: pure logic, no model."""

from __future__ import annotations

from dataclasses import replace

from rag.answer.interface import verify_citations
from rag.prompts import NO_ANSWER
from rag.schema import Answer, Citation, Document

TEXT = "Headline\n\nThe court cited two rulings [2] and [3] in its decision. The appeal was dismissed on Friday."
DOC = Document(doc_id="d", title="Court", text=TEXT)


def cite(n: int, quote: str, *, offset: int = 0) -> Citation:
    start = TEXT.index(quote) + offset
    return Citation(n, "d", "Court", "", "", None, quote, start, start + len(quote))


def test_brackets_inside_a_quote_are_not_citation_markers() -> None:
    first = "The court cited two rulings [2] and [3] in its decision."
    second = "The appeal was dismissed on Friday."
    broken = cite(1, second, offset=1)  # not at its offsets: dropped, so the others are renumbered
    answer = Answer(f"{second} [1] {first} [2] {second} [3]", [broken, cite(2, first), cite(3, second)], False, [])
    verified = verify_citations(answer, lambda _: DOC)
    assert verified.text == f"{second} {first} [1] {second} [2]"  # the quote's own "[2] and [3]" unchanged
    assert [(c.n, c.quote) for c in verified.citations] == [(1, first), (2, second)]


def test_nothing_verifiable_abstains() -> None:
    answer = Answer("Made up. [1]", [cite(1, "The appeal was dismissed on Friday.", offset=2)], False, [])
    assert verify_citations(answer, lambda _: DOC).text == NO_ANSWER


def test_the_same_question_over_the_same_passages_is_read_once() -> None:
    """Retrieval's judge ranks a follow-up's list and the answer ranks it again: the second is free."""
    import numpy as np

    from rag.answer.extractive import ExtractiveAnswerer
    from rag.schema import Hit

    hits = [Hit(chunk_id="c", doc_id="d", title="Court", source="", url="", published=None, text=TEXT,
                start=0, end=len(TEXT), score=1.0, similarity=0.5)]
    read: list[str] = []

    def reader(question: str, sentences: list[str]) -> np.ndarray:
        read.append(question)
        return np.full(len(sentences), 0.9)

    answerer = ExtractiveAnswerer(lambda term: 1.0, reader=reader)
    first = answerer.run("When was the appeal dismissed?", hits)
    again = answerer.with_min_confidence(0.0).run("When was the appeal dismissed?", hits)
    assert again.text == first.text and again.confidence == first.confidence and len(read) == 1
    answerer.run("When was the appeal dismissed?", hits, context="court")  # other words added: ranked anew
    answerer.run("Which rulings did the court cite?", hits)
    answerer.run("When was the appeal dismissed?", [replace(hits[0], score=0.4)])  # other retrieval scores
    assert len(read) == 4
