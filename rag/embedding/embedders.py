"""Sentence embeddings from the packaged all-MiniLM-L6-v2, offline, by one of three backends.

``torch`` runs the model through sentence-transformers; ``onnx`` and
``onnx-int8`` run a local ONNX export of the same weights (``rag.embedding.onnx_export``)
with onnxruntime, tokenising with ``tokenizers`` and pooling in numpy, so a
process that only queries an ONNX index never imports torch. ``BACKENDS`` is the
one place that maps a backend name to its class. Nothing here imports chromadb
(``rag.index.chroma_vectors.ChromaEmbedding`` adapts an ``Embedder`` to it).
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError
from ..offline import go_offline

# The model's window in wordpieces (sentence_bert_config.json max_seq_length); chunks fit it (rag.ingest.chunking).
MAX_LENGTH = 256


class Embedder:
    """Batched, L2-normalised embeddings; the model loads on first use."""

    backend: ClassVar[str] = ""

    def __init__(self, model_path: str, model_name: str, cache_dir: Path, batch_size: int = 8) -> None:
        self.model_path = model_path
        self.model_name = model_name
        self.cache_dir = Path(cache_dir)
        self.batch_size = batch_size
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        """Read from the model's pooling config, so checking an index needs no model."""
        config = Path(self.model_path) / "1_Pooling" / "config.json"
        return int(json.loads(config.read_text())["word_embedding_dimension"])

    @functools.cached_property
    def digest(self) -> str:
        from .model_hash import model_digest

        return model_digest(self.model_path, self.cache_dir)

    @property
    def fingerprint(self) -> dict[str, str | int]:
        """What must match between an index and the model that queries it: the files, not the name."""
        return {
            "embedding_model": self.model_name,
            "embedding_model_sha256": self.digest,
            "embedding_backend": self.backend,
            "embedding_dim": self.dim,
        }

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode(list(texts))

    def _encode(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def load(self) -> None:
        """Load the model now (warm-up); ``embed`` otherwise loads it on first use."""

    def embed_query(self, text: str) -> np.ndarray:
        """One query, cached: a chat often repeats or refines the same question."""
        return self._cached_query(text)

    @functools.lru_cache(maxsize=512)  # noqa: B019 - one Embedder per model for the process's life
    def _cached_query(self, text: str) -> np.ndarray:
        vector = self.embed([text])[0]
        vector.setflags(write=False)
        return vector


class TorchEmbedder(Embedder):
    """sentence-transformers on PyTorch: the reference the ONNX backends are measured against."""

    backend = "torch"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._model: Any = None

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                go_offline()
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(self.model_path, device="cpu", local_files_only=True)
            return self._model

    def load(self) -> None:
        _ = self.model

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


class OnnxEmbedder(Embedder):
    """onnxruntime over the local ONNX export; tokenising and mean pooling here, no torch."""

    backend = "onnx"
    int8: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session: Any = None
        self._tokenizer: Any = None

    def load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime
            from tokenizers import Tokenizer

            from .onnx_export import ensure_onnx

            path = ensure_onnx(self.model_path, self.digest, self.cache_dir, int8=self.int8)
            options = onnxruntime.SessionOptions()
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(Path(self.model_path) / "tokenizer.json"))
            tokenizer.enable_truncation(MAX_LENGTH)  # the file says 128; sentence-transformers uses 256
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest text of each batch
            self._tokenizer = tokenizer

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.load()
        # Sort by length so each batch pads little, as sentence-transformers does.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for lo in range(0, len(texts), self.batch_size):
            rows = order[lo : lo + self.batch_size]
            out[rows] = self._batch([texts[i] for i in rows])
        return out

    def _batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.zeros_like(ids)
        (hidden,) = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)


class OnnxInt8Embedder(OnnxEmbedder):
    """The ONNX export with onnxruntime's dynamic int8 quantisation of the weights."""

    backend = "onnx-int8"
    int8 = True


BACKENDS: dict[str, Callable[..., Embedder]] = {
    "torch": TorchEmbedder,
    "onnx": OnnxEmbedder,
    "onnx-int8": OnnxInt8Embedder,
}
# For new indexes; an existing index keeps the backend it was built with (see rag.index.facade.choose_backend).
# The fastest backend that loses at most 0.5 points of recall@5 (bench/benchmarks-notes.md): indexing the
# BBC demo (8,526 chunks) took 256 s with onnx-int8, 335 s with onnx (bench/bench_index.py); hybrid recall@5
# 0.9465 vs 0.949 on 2,000 SQuAD questions, 0.9463 for both on 1,497 CoQA turns (bench/bench_eval_backends.py).
DEFAULT_BACKEND = "onnx-int8"


def check_backend(name: str) -> str:
    if name not in BACKENDS:
        raise ConfigError(f"unknown embedding backend {name!r}: choose one of {', '.join(BACKENDS)}")
    return name


_shared: dict[tuple[str, str, str, str], Embedder] = {}


def get_embedder(
    model_path: str, model_name: str, backend: str, cache_dir: Path, batch_size: int = 8
) -> Embedder:
    """One model per backend per process, however many indexes or UI sessions use it."""
    key = (model_path, model_name, check_backend(backend), str(cache_dir))
    if key not in _shared:
        _shared[key] = BACKENDS[backend](model_path, model_name, Path(cache_dir), batch_size)
    return _shared[key]
