"""The answer model: which sentence to quote, and how likely it is to hold the answer.

Two small fitted parts, both by ``train/train_answer_model.py`` on the train half of the
articles (hard negatives included: questions whose article was left out of the index):
a logistic regression over the sentence features of ``rag/answer/features.py`` picks the
sentence to quote; gradient-boosted trees over that sentence's score and features
decide how likely the answer is to be right (trees, because the decision depends on
combinations: a high reader score means less when the question's names are missing),
Platt-calibrated into ``Answer.confidence``. Inference is plain numpy over the small
committed weights in ``rag/answer/weights/answer_model.json`` (the command that reproduces
them is in the file).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from ..errors import ConfigError

MODEL_PATH = Path(__file__).parent / "weights" / "answer_model.json"


@dataclass(frozen=True)
class Trees:
    """Gradient-boosted regression trees summed into log-odds (sklearn's GradientBoostingClassifier, exported)."""

    features: tuple[str, ...]  # "best_score" (the logit of the sentence's score), then sentence features
    init: float
    learning_rate: float
    trees: tuple[np.ndarray, ...]  # per tree, rows of (feature, threshold, left, right, value); feature -1: a leaf

    def log_odds(self, x: Sequence[float]) -> float:
        total = self.init
        for tree in self.trees:
            node = 0
            while tree[node, 0] >= 0:
                go_left = x[int(tree[node, 0])] <= tree[node, 1]
                node = int(tree[node, 2] if go_left else tree[node, 3])
            total += self.learning_rate * tree[node, 4]
        return total

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Trees:
        return cls(
            features=tuple(data["features"]),  # type: ignore[arg-type]
            init=float(data["init"]),  # type: ignore[arg-type]
            learning_rate=float(data["learning_rate"]),  # type: ignore[arg-type]
            trees=tuple(np.asarray(t, dtype=np.float64).reshape(-1, 5) for t in data["trees"]),  # type: ignore[attr-defined]
        )


@dataclass(frozen=True)
class AnswerModel:
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    calibration: tuple[float, float]  # confidence = sigmoid(a * z + b); z: the trees' log-odds (or logit(best))
    min_confidence: float  # the default answer threshold, chosen on train articles
    second_share: float  # a second sentence needs this share of the first one's score
    decision: Trees | None = None

    def scores(self, rows: Sequence[dict[str, float]]) -> np.ndarray:
        """Probability that each sentence holds the answer (uncalibrated for the max)."""
        if not rows:
            return np.zeros(0)
        x = np.array([[r.get(name, 0.0) for name in self.features] for r in rows], dtype=np.float64)
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1 / (1 + np.exp(-z))

    def confidence(self, best: float, features: dict[str, float] | None = None) -> float:
        """Calibrated probability that an answer quoting the best sentence (its score ``best``, its
        ``features``) is right."""
        p = min(max(best, 1e-6), 1 - 1e-6)
        z = math.log(p / (1 - p))
        if self.decision is not None:
            row = features or {}
            z = self.decision.log_odds([z, *(row.get(name, 0.0) for name in self.decision.features[1:])])
        a, b = self.calibration
        return 1 / (1 + math.exp(-(a * z + b)))

    @classmethod
    def from_json(cls, data: dict[str, object]) -> AnswerModel:
        try:
            return cls(
                features=tuple(data["features"]),  # type: ignore[arg-type]
                mean=np.asarray(data["mean"], dtype=np.float64),
                scale=np.asarray(data["scale"], dtype=np.float64),
                coef=np.asarray(data["coef"], dtype=np.float64),
                intercept=float(data["intercept"]),  # type: ignore[arg-type]
                calibration=tuple(data["calibration"]),  # type: ignore[arg-type]
                min_confidence=float(data["min_confidence"]),  # type: ignore[arg-type]
                second_share=float(data.get("second_share", 0.8)),  # type: ignore[arg-type]
                decision=Trees.from_json(data["decision"]) if "decision" in data else None,  # type: ignore[arg-type]
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"answer model weights are malformed: {exc}") from exc


@cache
def load_model(path: Path = MODEL_PATH) -> AnswerModel:
    try:
        return AnswerModel.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the answer model {path}: {exc}") from exc
