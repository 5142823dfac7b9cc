"""The follow-up policy: when a question is searched with its history, and how the two searches are fused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.retrieval.followups import NEEDS_CONTEXT_MARGIN, SURE_ALONE, fuse_hits, retrieve
from rag.retrieval.rewrite import with_context
from rag.schema import Answer, Hit

HISTORY = [("When did the Kelvinport harbour bridge reopen?", "It reopened on Monday. [1]")]


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


class Judge:
    """Stands in for the answer model: its confidence is set by the first passage it reads."""

    def __init__(self, confidence: dict[str, float]) -> None:
        self.confidence = confidence
        self.read: list[str] = []  # the first passage of each list read

    def run(self, question: str, hits: list[Hit], context: str = "") -> Answer:
        first = hits[0].chunk_id if hits else ""
        self.read.append(first)
        return Answer("", [], False, hits, confidence=self.confidence.get(first, 0.0))


CHESS = "Who won the national chess title in Dorrington?"


def chess_searches() -> Searches:
    searches = Searches({CHESS: [hit("chess", 0.9), hit("chess2", 0.5)]})
    searches.results[with_context(CHESS, HISTORY)] = [hit("bridge", 1.0), hit("bridge2", 0.9)]
    return searches


def test_a_change_of_subject_that_reads_confidently_alone_is_searched_once() -> None:
    searches = chess_searches()
    hits, query = retrieve(searches, CHESS, HISTORY, 3, None, Judge({"chess": SURE_ALONE, "bridge": 0.9}))  # type: ignore[arg-type]
    assert searches.queries == [CHESS]  # no search with the other topic's words
    assert query == CHESS  # the answerer does not get the other topic's words
    assert [h.chunk_id for h in hits] == ["chess", "chess2"] and hits[0].score == 0.9  # its own list and scores


def test_a_change_of_subject_keeps_its_own_search_when_that_reads_better() -> None:
    searches = chess_searches()
    own = SURE_ALONE - 0.05
    hits, query = retrieve(searches, CHESS, HISTORY, 3, None, Judge({"chess": own, "bridge": own - 0.1}))  # type: ignore[arg-type]
    assert len(searches.queries) == 2 and query == CHESS and hits[0].chunk_id == "chess"


def test_a_self_contained_question_takes_the_history_reading_when_that_reads_better() -> None:
    hits, query = retrieve(chess_searches(), CHESS, HISTORY, 3, None, Judge({"chess": 0.2, "bridge": 0.25}))  # type: ignore[arg-type]
    assert query != CHESS and hits[0].chunk_id == "bridge"


@pytest.mark.parametrize(("own", "expected"), [(0.2 + NEEDS_CONTEXT_MARGIN - 0.05, "fused"),
                                               (0.2 + NEEDS_CONTEXT_MARGIN + 0.05, "alone")])
def test_a_follow_up_keeps_its_history_unless_its_own_reading_is_much_more_confident(own: float, expected: str) -> None:
    question = "How much did it cost?"
    query = with_context(question, HISTORY)
    searches = Searches({question: [hit("other", 0.9)], query: [hit("bridge", 1.0)]})
    hits, searched = retrieve(searches, question, HISTORY, 3, None, Judge({"other": own, "bridge": 0.2}))  # type: ignore[arg-type]
    assert set(searches.queries) == {query, question}
    assert (searched, hits[0].chunk_id) == ((query, "bridge") if expected == "fused" else (question, "other"))


def test_a_question_naming_its_subject_in_lower_case_is_read_alone_first() -> None:
    question = "where does walker work?"
    query = with_context(question, HISTORY)
    walker = replace(hit("walker", 0.9), text="Walker works at the mill, Walker said.")
    searches = Searches({question: [walker], query: [hit("bridge", 1.0)]})
    hits, searched = retrieve(searches, question, HISTORY, 3, None, Judge({"walker": SURE_ALONE}))  # type: ignore[arg-type]
    assert searches.queries == [question] and searched == question and hits[0].chunk_id == "walker"


def test_a_follow_up_whose_history_reads_confidently_is_not_read_alone() -> None:
    question = "How much did it cost?"
    query = with_context(question, HISTORY)
    judge = Judge({"other": 1.0, "bridge": 1.0 - NEEDS_CONTEXT_MARGIN})
    hits, searched = retrieve(Searches({question: [hit("other", 0.9)], query: [hit("bridge", 1.0)]}),  # type: ignore[arg-type]
                              question, HISTORY, 3, None, judge)  # type: ignore[arg-type]
    assert searched == query and hits[0].chunk_id == "bridge"
    assert judge.read == ["bridge"]  # its own reading cannot win by the margin: it is not read


def test_a_first_question_is_searched_once_as_asked() -> None:
    searches = Searches({})
    assert retrieve(searches, "How much did it cost?", [], 3, None, Judge({}))[1] == "How much did it cost?"  # type: ignore[arg-type]
    assert searches.queries == ["How much did it cost?"]
