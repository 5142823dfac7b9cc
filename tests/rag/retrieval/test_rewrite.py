"""When a question needs its history, and what it becomes with it: pure logic."""

from __future__ import annotations

import pytest

from rag.retrieval.rewrite import names_subject, needs_context, standalone

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


def test_a_name_typed_in_lower_case_is_told_from_a_common_word_by_the_passages_found() -> None:
    found = ["Coach Walker joined the club in May. Walker works in Dorrington.",
             "Walker was hurt, Walker said. A walker saw it."]
    assert needs_context("where does walker work?")  # without passages: two words, no name
    assert not needs_context("where does walker work?", found)  # written "Walker" 4 times of 5
    assert needs_context("where does walker work?", ["Walker said so.", "a walker and a walker"])  # 1 of 3
    assert needs_context("where does she work?", found)
    assert needs_context("Walker?", found)  # one word is still too little to stand alone


def test_a_question_that_stands_alone_may_still_name_nothing() -> None:
    assert not needs_context("Who signed the oil deal?")  # enough to search on, no history added
    assert not names_subject("Who signed the oil deal?")  # but any story of an oil deal fits it
    assert names_subject("Who signed the Kelvinport oil deal?")
    assert names_subject("How many jobs went in 2004?")  # a number of its own
    assert names_subject("where does walker work?", ["Walker said. Coach Walker left."])
