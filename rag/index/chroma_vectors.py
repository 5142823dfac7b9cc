"""The Chroma collection that holds one embedding per chunk, local or on a server.

The embedding model and chunker that built the collection are stored in its
metadata; opening it with different ones is refused, because mixing vectors
from two models silently ruins retrieval. ``ChromaEmbedding`` wraps an ``Embedder``
in chromadb's protocol so Chroma never falls back to its own (downloading) default.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings as ChromaSettings
from chromadb.utils.embedding_functions import register_embedding_function

from ..embedding.embedders import Embedder, get_embedder
from ..errors import IndexMismatchError, StoreUnavailableError
from ..schema import Chunk, Document
from ..settings import Settings

COLLECTION = "news_chunks"


def chroma_client(settings: Settings) -> Any:
    """The one way to open the store: a Chroma server when ``chroma_url`` is set, else the
    embedded store in ``index_dir/chroma`` (Chroma refuses two clients of a path with different settings)."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if not settings.chroma_url:
        return chromadb.PersistentClient(path=str(Path(settings.index_dir) / "chroma"), settings=chroma_settings)
    from urllib.parse import urlsplit

    url = urlsplit(settings.chroma_url)
    headers = {"Authorization": f"Bearer {settings.chroma_token}"} if settings.chroma_token else None
    try:
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            headers=headers,
            settings=chroma_settings,
        )
    except Exception as exc:
        raise StoreUnavailableError(f"cannot reach the Chroma server at {settings.chroma_url}: {exc}") from exc


def is_local(settings: Settings) -> bool:
    return not settings.chroma_url


def chunk_metadata(doc: Document, chunk: Chunk) -> dict[str, str | int]:
    meta: dict[str, str | int] = {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "source": doc.source,
        "url": doc.url,
        "chunk_index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
    }
    if doc.published:  # Chroma metadata has no null: undated chunks simply lack the keys
        meta["published"] = doc.published_iso
        meta["published_ts"] = int(doc.published.timestamp())
    return meta


def stored_fingerprint(client: Any) -> dict[str, Any] | None:
    """The metadata an existing collection was built with; None for a new index."""
    for collection in client.list_collections():
        if collection.name == COLLECTION:
            return dict(collection.metadata or {})
    return None


class VectorStore:
    def __init__(self, client: Any, embedding: ChromaEmbedding, fingerprint: dict[str, Any], where: str) -> None:
        self.client = client
        self.fingerprint = fingerprint
        self.collection = self.client.get_or_create_collection(
            COLLECTION,
            embedding_function=embedding,
            metadata=dict(fingerprint),
            configuration={"hnsw": {"space": "cosine"}},
        )
        stored = {k: self.collection.metadata.get(k) for k in fingerprint} if self.collection.metadata else {}
        if stored != fingerprint:
            raise IndexMismatchError.between(where, stored, fingerprint)
        self._max_batch = self.client.get_max_batch_size()

    def count(self) -> int:
        return self.collection.count()

    def upsert(self, items: Sequence[tuple[Document, Chunk]], embeddings: np.ndarray) -> None:
        for lo in range(0, len(items), self._max_batch):
            part = items[lo : lo + self._max_batch]
            self.collection.upsert(
                ids=[c.chunk_id for _, c in part],
                embeddings=embeddings[lo : lo + self._max_batch],
                documents=[c.text for _, c in part],
                metadatas=[chunk_metadata(d, c) for d, c in part],  # type: ignore[misc]
            )

    def delete(self, ids: Sequence[str]) -> None:
        for lo in range(0, len(ids), self._max_batch):
            self.collection.delete(ids=list(ids[lo : lo + self._max_batch]))

    def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of these chunk ids have a vector already."""
        found: set[str] = set()
        for lo in range(0, len(ids), self._max_batch):
            found.update(self.collection.get(ids=list(ids[lo : lo + self._max_batch]), include=[])["ids"])
        return found

    def all_ids(self) -> set[str]:
        return set(self.collection.get(include=[])["ids"])

    def embeddings(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these chunks (those that exist)."""
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(v) for i, v in zip(got["ids"], got["embeddings"], strict=True)}

    def query(self, embedding: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) pairs, best first."""
        result = self.collection.query(
            query_embeddings=[embedding], n_results=k, where=where or None, include=["distances"]
        )
        ids = result["ids"][0]
        distances = result["distances"][0] if result["distances"] else []
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]


@register_embedding_function
class ChromaEmbedding(EmbeddingFunction[Documents]):
    """chromadb's embedding-function protocol over ``Embedder``."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "news-rag-sentence-transformers"  # kept: Chroma refuses a collection whose name differs

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        e = self._embedder
        return {"model_path": e.model_path, "model_name": e.model_name, "backend": e.backend,
                "cache_dir": str(e.cache_dir)}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbedding:
        cache_dir = config.get("cache_dir") or str(Settings.cache_dir)
        backend = config.get("backend") or "torch"  # collections from before backends were torch
        return ChromaEmbedding(get_embedder(config["model_path"], config["model_name"], backend, Path(cache_dir)))
