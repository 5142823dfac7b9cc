"""When a question gets its history, and how the two searches are fused: pure logic."""

from __future__ import annotations

import pytest

from rag.api import fuse_hits
from rag.rewrite import needs_context, standalone
from rag.schema import Hit

HISTORY = [("When did the Kelvinport harbour bridge reopen?", "It reopened on Monday. [1]")]


@pytest.mark.parametrize("question", [
    "Who won the Gold Cup in 2019?",  # "the" is no reason to add history
    "Who won the national chess title in Dorrington?",
    "What did Obama say about his plan?",  # the pronoun is resolved inside the question
    "which team won the national football championship final?",
])
def test_self_contained_questions_are_searched_as_asked(question: str) -> None:
    assert not needs_context(question)
    assert standalone(question, HISTORY) == question


@pytest.mark.parametrize("question", ["How much did it cost?", "what did she do next?", "Why?", "Who paid?",
                                      "where was the game played?"])
def test_questions_lacking_a_subject_get_history(question: str) -> None:
    assert needs_context(question)
    assert "Kelvinport" in standalone(question, HISTORY)


def hit(chunk: str, score: float) -> Hit:
    return Hit(chunk, "doc-" + chunk, "t", "s", "", None, "text", 0, 4, score, 0.5)


def test_fusion_keeps_what_the_question_alone_finds() -> None:
    with_history = [hit("a", 1.0), hit("b", 0.9), hit("c", 0.8)]
    alone = [hit("x", 1.0), hit("a", 0.2)]
    fused = fuse_hits(with_history, alone, 3, 0.6)
    assert [h.chunk_id for h in fused] == ["a", "b", "x"]  # the question's own best passage is not buried
    assert fused[0].chunk_id == "a" and fused[0].score == pytest.approx(0.6 * 1.0 + 0.4 * 0.2)
