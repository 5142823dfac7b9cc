"""Sentence embeddings from the packaged all-MiniLM-L6-v2, offline.

``Embedder`` is the one place that loads the model; ``ChromaEmbedding`` wraps
it in chromadb's ``EmbeddingFunction`` protocol so Chroma never falls back to
its own (downloading) default.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from .offline import go_offline

BACKEND = "torch"


class Embedder:
    """Batched, L2-normalised embeddings; the model loads on first use."""

    def __init__(self, model_path: str, model_name: str, batch_size: int = 8) -> None:
        self.model_path = model_path
        self.model_name = model_name
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                go_offline()
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(self.model_path, device="cpu", local_files_only=True)
            return self._model

    @property
    def dim(self) -> int:
        """Read from the model's pooling config, so checking an index needs no torch."""
        config = Path(self.model_path) / "1_Pooling" / "config.json"
        return int(json.loads(config.read_text())["word_embedding_dimension"])

    @property
    def fingerprint(self) -> dict[str, str | int]:
        """What must match between an index and the model that queries it."""
        return {"embedding_model": self.model_name, "embedding_backend": BACKEND, "embedding_dim": self.dim}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


    def embed_query(self, text: str) -> np.ndarray:
        """One query, cached: a chat often repeats or refines the same question."""
        return self._cached_query(text)

    @functools.lru_cache(maxsize=512)  # noqa: B019 - one Embedder per model for the process's life
    def _cached_query(self, text: str) -> np.ndarray:
        vector = self.embed([text])[0]
        vector.setflags(write=False)
        return vector


_shared: dict[tuple[str, str], Embedder] = {}


def get_embedder(model_path: str, model_name: str, batch_size: int = 8) -> Embedder:
    """One model per process, however many indexes or UI sessions use it."""
    key = (model_path, model_name)
    if key not in _shared:
        _shared[key] = Embedder(model_path, model_name, batch_size)
    return _shared[key]


@register_embedding_function
class ChromaEmbedding(EmbeddingFunction[Documents]):
    """chromadb's embedding-function protocol over ``Embedder``."""

    def __init__(self, model_path: str, model_name: str) -> None:
        self._embedder = get_embedder(model_path, model_name)

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "news-rag-sentence-transformers"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"model_path": self._embedder.model_path, "model_name": self._embedder.model_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbedding:
        return ChromaEmbedding(config["model_path"], config["model_name"])
