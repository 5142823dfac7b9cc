"""Sentence features of the answer model: pure logic, no model needed."""

from __future__ import annotations

import numpy as np
import pytest

from rag.answer.features import FEATURES, SentenceVectors, candidates, near_duplicate, question_terms
from rag.schema import Hit
from rag.text import stem


def idf(term: str) -> float:
    return 1.0


def hit(text: str, doc: str = "d1", start: int = 0, score: float = 1.0, similarity: float = 0.5) -> Hit:
    return Hit(f"{doc}:{start}", doc, "title", "src", "", None, text, start, start + len(text), score, similarity)


def test_question_terms_find_names_numbers_and_kind() -> None:
    q = question_terms("How much did Isabeli Fontana earn in 2009?", idf)
    assert {stem("isabeli"), stem("fontana"), "2009"} <= set(q.names)
    assert q.phrases == ("isabeli fontana",)
    assert q.kind == "number"
    assert question_terms("Who painted the ceiling?", idf).kind == "name"
    assert question_terms("Why did the bridge close?", idf).kind == ""


def test_a_sentence_about_another_fontana_misses_the_name() -> None:
    q = question_terms("Who photographed Isabeli Fontana?", idf)
    text = "Lucio Fontana was an Italian painter. Mario Testino photographed Isabeli Fontana in Rio."
    rows = {c.text: c.features for c in candidates(q, [hit(text)])}
    wrong = rows["Lucio Fontana was an Italian painter."]
    right = rows["Mario Testino photographed Isabeli Fontana in Rio."]
    assert wrong["names_missing_sentence"] > 0 and right["names_missing_sentence"] == 0
    assert right["cov_sentence"] > wrong["cov_sentence"]
    assert set(FEATURES) == set(right)


def test_neighbour_coverage_sees_the_name_the_answer_sentence_calls_he() -> None:
    q = question_terms("When did Okonjo start playing chess?", idf)
    text = "Mira Okonjo plays chess at the club. She started in 2012. The weather was fine."
    rows = {c.text: c.features for c in candidates(q, [hit(text)])}
    answer = rows["She started in 2012."]
    assert answer["cov_neighbours"] > answer["cov_sentence"]
    assert answer["type_fit"] == 1.0 and rows["The weather was fine."]["type_missing"] == 1.0


def test_offsets_point_into_the_document_and_repeats_are_dropped() -> None:
    doc = "Intro line.\nThe bridge reopened on Monday. It cost 12 million euros."
    first = hit(doc[12:], start=12)
    again = hit(doc[12:], start=12)
    found = candidates(question_terms("When did the bridge reopen?", idf), [first, again])
    assert len(found) == 2
    for c in found:
        assert doc[c.start : c.end] == c.text


def test_similarity_uses_embedded_sentences_and_the_cache() -> None:
    import numpy as np

    calls: list[list[str]] = []

    def embed(texts):
        calls.append(list(texts))
        return np.array([[1.0, 0.0] if "bridge" in t else [0.0, 1.0] for t in texts])

    vectors = SentenceVectors(embed)
    q = question_terms("When did the bridge reopen?", idf)
    h = hit("The bridge reopened on Monday. Prices rose.", similarity=0.3)
    found = {c.text: c.features for c in candidates(q, [h], np.array([1.0, 0.0]), vectors)}
    assert found["The bridge reopened on Monday."]["similarity_sentence"] == 1.0
    assert found["Prices rose."]["similarity_gap"] == 1.0
    candidates(q, [h], np.array([1.0, 0.0]), vectors)
    assert len(calls) == 1  # the second time, every sentence came from the cache


def test_near_duplicates() -> None:
    assert near_duplicate("The bridge reopened on Monday after repairs.",
                          "On Monday the bridge reopened after repairs, officials said.")
    assert not near_duplicate("The bridge reopened on Monday.", "The repairs cost 12 million euros.")


def test_the_reader_reads_only_the_most_promising_sentences() -> None:
    q = question_terms("When did the Leeds factory close?", idf)
    text = ("The Leeds factory closed in 2019. It made biscuits. Workers were sad. The factory in Leeds was old. "
            "Rain fell.")
    asked: list[list[str]] = []

    def read(sentences):  # stands in for the reader: records what it was asked
        asked.append(list(sentences))
        return np.linspace(0.9, 0.1, len(sentences))

    rows = {c.text: c.features for c in candidates(q, [hit(text)], read=read, read_max=2)}
    assert len(asked) == 1 and len(asked[0]) == 2  # one batch, at most read_max sentences
    assert asked[0][0] == "The Leeds factory closed in 2019."  # most of the question's words first
    assert rows["The Leeds factory closed in 2019."]["reader"] == pytest.approx(0.9)
    assert rows["Rain fell."]["reader"] == 0.0 and rows["Rain fell."]["reader_gap"] == pytest.approx(0.9)
