"""The reader (rag/answer/reader.py): the committed cross-encoder, run with onnxruntime."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from rag.answer.reader import READER_PATH, Reader, within_budget
from rag.errors import ConfigError
from rag.settings import Settings

pytestmark = pytest.mark.slow

CASES = [  # question, the sentence that answers it, sentences on the same subject that do not
    ("How much did the new harbour bridge cost?",
     "The harbour bridge cost 45 million pounds, twice the first estimate.",
     ["The harbour bridge was opened by the mayor on a windy Monday morning.",
      "Engineers said the harbour bridge would need repainting every decade."]),
    ("Who was appointed head coach of the national rugby team?",
     "The union appointed Maria Okafor as head coach of the national rugby team on Friday.",
     ["The national rugby team lost three of its last four matches.",
      "The head coach's contract runs until the next World Cup."]),
    ("When did the factory in Leeds close?",
     "The Leeds factory closed in March 2019 after ninety years of production.",
     ["The factory in Leeds employed 400 people at its peak.",
      "Workers at the factory in Leeds made biscuits and cakes."]),
]  # fmt: skip


@pytest.fixture(scope="module")
def model_dir() -> str:
    return str(Settings().resolved_model_path)  # the packaged MiniLM: its tokenizer


@pytest.fixture(scope="module")
def reader(model_dir: str) -> Reader:
    return Reader(model_dir)


@pytest.mark.parametrize(("question", "answer", "others"), CASES)
def test_the_answering_sentence_scores_highest(reader: Reader, question: str, answer: str, others: list[str]) -> None:
    scores = reader(question, [*others, answer])
    assert np.all((scores >= 0) & (scores <= 1))
    assert scores.argmax() == len(others), scores


def test_reading_stops_at_the_token_budget(model_dir: str) -> None:
    question, answer, others = CASES[1]
    sentences = [answer, *others]
    lengths = Reader(model_dir).lengths(question, sentences)
    assert within_budget(lengths, 10**6) == 3 and within_budget(lengths, 1) == 1  # at least one is read
    short = Reader(model_dir, max_tokens=lengths[0] + lengths[1])
    scores = short(question, sentences)
    assert scores[0] > 0.5 and scores[1] > 0 and scores[2] == 0.0  # the third is past the budget


def test_scores_do_not_depend_on_the_other_sentences_and_are_cached(model_dir: str, monkeypatch) -> None:
    question, answer, others = CASES[0]
    alone = Reader(model_dir)(question, [answer])
    mixed = Reader(model_dir)  # read again, among other pairs and in another order
    assert mixed(question, [*others, answer, *CASES[1][2], *CASES[2][2]])[2] == alone[0]
    calls = []
    monkeypatch.setattr(mixed, "_score", lambda encoding: calls.append(encoding) or 0.0)
    assert mixed(question, [answer, "The bridge has two lanes."])[0] == alone[0]  # from the cache
    assert len(calls) == 1  # only the pair not read before


def test_a_forked_child_reads_with_the_parents_reader(reader: Reader, child_exit) -> None:
    """A pre-forking server may load the reader before it forks its workers."""
    question, answer, others = CASES[0]
    expected = reader(question, [answer, *others])
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if it reads the same scores (the cache cleared: it must run)
        reader._cache.clear()
        os._exit(0 if np.array_equal(reader(question, [answer, *others]), expected) else 1)
    code = child_exit(pid, 60)
    if code is None:
        pytest.fail("the forked child hung reading")
    assert code == 0


def test_missing_weights_are_a_clear_error(model_dir: str, tmp_path: Path) -> None:
    assert READER_PATH.exists()
    with pytest.raises(ConfigError, match=r"reader model .* is missing"):
        Reader(model_dir, path=tmp_path / "none.onnx")("q", ["s"])
