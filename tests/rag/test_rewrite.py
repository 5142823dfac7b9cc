"""When a question gets its history, and how the two searches are fused: pure logic."""

from __future__ import annotations

import pytest

from rag.api import HISTORY_WEIGHT, SELF_CONTAINED_KEEP, fuse_hits, retrieve
from rag.rewrite import needs_context, standalone, with_context
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


class Searches:
    """Stands in for the retriever: results by query (retrieve() only calls search)."""

    def __init__(self, results: dict[str, list[Hit]]) -> None:
        self.results, self.queries = results, []

    def search(self, query: str, k: int, filters: object) -> list[Hit]:
        self.queries.append(query)
        return self.results.get(query, [])[:k]


def test_a_self_contained_question_after_another_topic_keeps_its_own_best_passages() -> None:
    question = "Who won the national chess title in Dorrington?"
    searches = Searches({question: [hit("chess", 0.9), hit("chess2", 0.5)]})
    searches.results[with_context(question, HISTORY)] = [hit("bridge", 1.0), hit("chess", 0.7)]
    hits, query = retrieve(searches, question, HISTORY, 3, None)  # type: ignore[arg-type]
    assert query == question  # the answerer does not get the other topic's words
    assert len(searches.queries) == 2 and SELF_CONTAINED_KEEP == 2 and HISTORY_WEIGHT > 0.5
    assert [h.chunk_id for h in hits] == ["chess", "chess2", "bridge"]  # its own first two, then the fused list
    assert hits[0].score == 0.9  # with the scores of its own search


def test_a_follow_up_is_searched_with_its_history_and_as_asked() -> None:
    searches = Searches({})
    _, query = retrieve(searches, "How much did it cost?", HISTORY, 3, None)  # type: ignore[arg-type]
    assert "Kelvinport" in query and set(searches.queries) == {query, "How much did it cost?"}
    assert retrieve(searches, "How much did it cost?", [], 3, None)[1] == "How much did it cost?"  # type: ignore[arg-type]
