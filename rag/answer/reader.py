"""The reader: a small cross-encoder that reads a question with one sentence and says how likely
the sentence answers it.

It is the packaged all-MiniLM-L6-v2 fine-tuned by ``train/train_reader.py`` on train articles only,
exported to int8 ONNX and committed as ``rag/answer/weights/reader-int8.onnx`` (the command is in that
script). Unlike question-sentence cosine, it sees both texts at once, so it can tell "how much did it
cost" from a sentence that names the thing but no amount. Runs with onnxruntime and ``tokenizers``:
no torch at query time.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..threads import pool

READER_PATH = Path(__file__).parent / "weights" / "reader-int8.onnx"
MAX_LENGTH = 128  # question + sentence wordpieces, as trained
# Wordpieces (question + sentence, summed over the sentences) read per question: the reader's cost grows
# with them, and long sentences made ask() slow. Reading stops before the sentence that would pass this
# (at least one is read). Measured: the "reader budget" table of train/train_answer_model.py's report
# (300 loses nothing on train articles against no limit; 250 loses 0.7 points of selection).
READ_TOKENS = 300
# Each pair is its own onnxruntime call: the int8 model quantises its activations per call, so pairs read
# together changed each other's scores (batches of 4: by up to 0.28; the reader's best sentence differed in
# 13 of 300 readings). Single-threaded calls on WORKERS threads are also faster than batches of 4 on two
# threads (16-23% less time). Measured on 2 cores: bench/bench_reader.py (bench/results/bench_reader.json); the
# cap of 4 is a guess for larger machines (a reading is 5-8 pairs).
WORKERS = max(1, min(4, os.cpu_count() or 1))


def within_budget(lengths: Sequence[int], max_tokens: int) -> int:
    """How many of the sentences, in the order given, are read within ``max_tokens`` (at least one)."""
    total = 0
    for i, n in enumerate(lengths):
        total += n
        if total > max_tokens and i:
            return i
    return len(lengths)


def open_session(path: Path, threads: int) -> Any:
    """An onnxruntime session for the reader model with ``threads`` intra-op threads (no idle spinning)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class Reader:
    """Scores (question, sentence) pairs; loads lazily, caches recent pairs (related questions
    bring back the same passages)."""

    def __init__(self, model_dir: str, path: Path = READER_PATH, max_tokens: int = READ_TOKENS,
                 cache_size: int = 20000) -> None:
        self.model_dir = model_dir  # the packaged MiniLM folder: its tokenizer.json
        self.path = path
        self.max_tokens = max_tokens
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._cache_size = cache_size

    def preload(self) -> None:
        """Load the session in a background thread: a cold process overlaps it with the search (0.2 s)."""
        if self._session is None:
            threading.Thread(target=self._load_quietly, daemon=True, name="reader-load").start()

    def _load_quietly(self) -> None:
        with contextlib.suppress(Exception):  # raised again, as a readable error, where the reader is used
            self._load()

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            from tokenizers import Tokenizer

            if not self.path.exists():
                raise ConfigError(f"the reader model {self.path} is missing: reinstall the package")
            tokenizer = Tokenizer.from_file(str(Path(self.model_dir) / "tokenizer.json"))
            tokenizer.enable_truncation(MAX_LENGTH, strategy="longest_first")
            tokenizer.no_padding()  # one pair per call: nothing to pad
            self._tokenizer = tokenizer
            self._session = open_session(self.path, threads=1)  # pairs run side by side instead (WORKERS)

    def __call__(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """Probability that each sentence answers the question. Sentences are read in the order given
        (most promising first) until ``max_tokens`` are spent; the others get 0."""
        encodings = self._encode(question, sentences)
        n = within_budget([len(e.ids) for e in encodings], self.max_tokens)
        missing = {s: e for s, e in zip(sentences[:n], encodings, strict=False) if (question, s) not in self._cache}
        order = sorted(missing, key=lambda s: -len(missing[s].ids))  # longest first: the threads finish together
        scores = pool("reader", WORKERS).map(self._score, [missing[s] for s in order])
        for sentence, p in zip(order, scores, strict=True):
            self._cache[(question, sentence)] = p
        out = np.zeros(len(sentences))
        out[:n] = [self._cache[(question, s)] for s in sentences[:n]]
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return out

    def lengths(self, question: str, sentences: Sequence[str]) -> list[int]:
        """Wordpieces of each (question, sentence) pair as the reader reads it."""
        return [len(e.ids) for e in self._encode(question, sentences)]

    def _encode(self, question: str, sentences: Sequence[str]) -> list[Any]:
        self._load()
        return self._tokenizer.encode_batch([(question, s) for s in sentences])

    def _score(self, encoding: Any) -> float:
        """One pair, one onnxruntime call (thread-safe): its score depends on nothing else."""
        feed = {"input_ids": np.array([encoding.ids], dtype=np.int64),
                "attention_mask": np.ones((1, len(encoding.ids)), dtype=np.int64),
                "token_type_ids": np.array([encoding.type_ids], dtype=np.int64)}
        (logits,) = self._session.run(None, feed)
        return float(1 / (1 + np.exp(-float(logits[0, 0]))))


@cache
def get_reader(model_dir: str) -> Reader:
    """One reader per process (its session and cache are shared by every answerer)."""
    return Reader(model_dir)
