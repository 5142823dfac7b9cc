"""Which story? The question back for a first question with no subject of its own: pure logic."""

from __future__ import annotations

import pytest

from rag.answer import clarify
from rag.answer.clarify import CLOSE, clarification, stories_to_ask_about
from rag.schema import Hit


def hit(doc_id: str, score: float, text: str = "The council said the plan would go ahead.") -> Hit:
    return Hit(f"c-{doc_id}-{score}", doc_id, f"Story {doc_id}", "test", "", None, text, 0, len(text), score)


def test_a_subjectless_question_that_two_stories_match_gets_them_back() -> None:
    hits = [hit("a", 1.0), hit("b", CLOSE + 0.05), hit("a", 0.7), hit("c", CLOSE - 0.2)]
    stories = stories_to_ask_about("What happened?", hits)
    assert [s.doc_id for s in stories] == ["a", "b"]
    answer = clarification(stories, hits, "What happened?")
    assert answer.abstained and answer.clarify == stories and not answer.citations
    assert answer.text.startswith("Which story do you mean?") and "1) Story a (test)" in answer.text


def test_one_story_clearly_best_is_answered() -> None:
    assert stories_to_ask_about("What happened?", [hit("a", 1.0), hit("b", CLOSE - 0.1)]) == []


def test_a_question_naming_its_subject_is_answered() -> None:
    hits = [hit("a", 1.0), hit("b", 0.95)]
    assert stories_to_ask_about("What did the Kelvinport council decide about the bridge?", hits) == []


def test_at_most_three_stories() -> None:
    hits = [hit(d, 1.0 - i * 0.01) for i, d in enumerate("abcde")]
    assert len(stories_to_ask_about("What was his job?", hits)) == 3


def test_a_question_naming_nothing_is_asked_back_only_with_the_nameless_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    hits = [hit("a", 1.0), hit("b", 0.9)]
    monkeypatch.setattr(clarify, "NAMELESS_CONFIDENT", None)
    assert stories_to_ask_about("Who signed the oil deal?", hits) == []
    monkeypatch.setattr(clarify, "NAMELESS_CONFIDENT", 0.5)
    assert [s.doc_id for s in stories_to_ask_about("Who signed the oil deal?", hits)] == ["a", "b"]
    assert stories_to_ask_about("Who signed the Kelvinport oil deal?", hits) == []
