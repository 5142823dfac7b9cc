"""The committed answer model: loadable, well-formed, numpy inference behaves."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.decision import MODEL_PATH, AnswerModel, load_model
from rag.errors import ConfigError
from rag.evidence import FEATURES


def test_committed_weights_use_known_features() -> None:
    model = load_model()
    assert set(model.features) <= set(FEATURES) and "reader" in model.features
    assert model.mean.shape == model.scale.shape == model.coef.shape == (len(model.features),)
    assert 0.0 < model.min_confidence < 1.0
    assert "command" in json.loads(MODEL_PATH.read_text())  # how to reproduce the weights


def test_scores_are_probabilities_and_confidence_is_monotonic() -> None:
    model = load_model()
    rows = [dict.fromkeys(FEATURES, v) for v in (0.0, 0.5, 1.0)]
    scores = model.scores(rows)
    assert scores.shape == (3,) and np.all((scores > 0) & (scores < 1))
    confidences = [model.confidence(p) for p in (0.01, 0.2, 0.5, 0.9, 0.999)]
    assert confidences == sorted(confidences) and all(0 <= c <= 1 for c in confidences)
    assert model.scores([]).shape == (0,)


def test_malformed_weights_are_a_clear_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="malformed"):
        AnswerModel.from_json({"features": ["a"]})
    bad = tmp_path / "model.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read"):
        load_model(bad)
