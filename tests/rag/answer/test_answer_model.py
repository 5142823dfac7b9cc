"""The committed answer model: loadable, well-formed, numpy inference behaves."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.answer.answer_model import MODEL_PATH, AnswerModel, Trees, load_model
from rag.answer.features import FEATURES
from rag.errors import ConfigError


def test_committed_weights_use_known_features() -> None:
    model = load_model()
    assert set(model.features) <= set(FEATURES) and "reader" in model.features
    assert model.mean.shape == model.scale.shape == model.coef.shape == (len(model.features),)
    assert 0.0 < model.min_confidence < 1.0
    assert "command" in json.loads(MODEL_PATH.read_text())  # how to reproduce the weights


def test_scores_are_probabilities_and_confidence_follows_the_evidence() -> None:
    model = load_model()
    rows = [dict.fromkeys(FEATURES, v) for v in (0.0, 0.5, 1.0)]
    scores = model.scores(rows)
    assert scores.shape == (3,) and np.all((scores > 0) & (scores < 1))
    assert model.scores([]).shape == (0,)
    assert model.decision is not None and model.decision.features[1:] == model.features
    strong = {"cov_sentence": 1.0, "cov_neighbours": 1.0, "cov_chunk": 1.0, "type_fit": 1.0, "reader": 0.98,
              "similarity_chunk": 0.8, "retrieval_score": 1.0, "doc_share": 1.0}
    weak = {"cov_sentence": 0.2, "cov_neighbours": 0.2, "cov_chunk": 0.2, "names_missing_sentence": 1.0,
            "names_missing_neighbours": 1.0, "phrase_missing": 1.0, "reader": 0.02, "similarity_chunk": 0.2,
            "retrieval_score": 0.1, "doc_share": 0.2}
    high, low = model.confidence(0.95, strong), model.confidence(0.05, weak)
    assert 0.0 <= low < model.min_confidence < high <= 1.0


def test_trees_follow_their_splits() -> None:
    # one tree: x0 <= 0.5 -> leaf 1 (value -2), else leaf 2 (value 4); log-odds = init + rate * value
    trees = Trees.from_json({"features": ["best_score", "reader"], "init": 0.5, "learning_rate": 0.1,
                             "trees": [[[0, 0.5, 1, 2, 0.0], [-1, 0.0, -1, -1, -2.0], [-1, 0.0, -1, -1, 4.0]]]})
    assert trees.log_odds([0.5, 9.0]) == pytest.approx(0.5 - 0.2)
    assert trees.log_odds([0.6, 9.0]) == pytest.approx(0.5 + 0.4)


def test_malformed_weights_are_a_clear_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="malformed"):
        AnswerModel.from_json({"features": ["a"]})
    bad = tmp_path / "model.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read"):
        load_model(bad)
