"""The answer model: which sentence to quote, and how likely it is to hold the answer.

A logistic regression over the sentence features of ``rag/evidence.py``, fitted by
``bench/train_answer_model.py`` on the train half of the articles (hard negatives
included: questions whose article was left out of the index), then a Platt
calibration of the best sentence's score against whether the answer was right.
Inference is plain numpy over the small committed weights in
``rag/weights/answer_model.json`` (the command that reproduces them is in the file).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from .errors import ConfigError

MODEL_PATH = Path(__file__).parent / "weights" / "answer_model.json"


@dataclass(frozen=True)
class AnswerModel:
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    calibration: tuple[float, float]  # confidence = sigmoid(a * logit(best) + b)
    min_confidence: float  # the default answer threshold, chosen on train articles
    second_share: float  # a second sentence needs this share of the first one's score

    def scores(self, rows: Sequence[dict[str, float]]) -> np.ndarray:
        """Probability that each sentence holds the answer (uncalibrated for the max)."""
        if not rows:
            return np.zeros(0)
        x = np.array([[r.get(name, 0.0) for name in self.features] for r in rows], dtype=np.float64)
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1 / (1 + np.exp(-z))

    def confidence(self, best: float) -> float:
        """Calibrated probability that an answer quoting the best sentence is right."""
        p = min(max(best, 1e-6), 1 - 1e-6)
        a, b = self.calibration
        return 1 / (1 + math.exp(-(a * math.log(p / (1 - p)) + b)))

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
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"answer model weights are malformed: {exc}") from exc


@cache
def load_model(path: Path = MODEL_PATH) -> AnswerModel:
    try:
        return AnswerModel.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the answer model {path}: {exc}") from exc
