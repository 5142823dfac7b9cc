"""The on-disk index: Chroma vectors and the SQLite document store, opened together.

Layout of ``RAG_INDEX_DIR``: ``chroma/`` (vectors), ``docs.sqlite`` (documents,
chunks, BM25) and ``write.lock`` (held by the one process allowed to write).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from .chunking import Chunker, ChunkerConfig
from .embedding import BACKENDS, DEFAULT_BACKEND, ChromaEmbedding, Embedder, get_embedder
from .errors import IndexEmptyError, IndexLockedError
from .offline import go_offline
from .settings import Settings


class Index:
    """Both stores and the model; writers hold a ``WriteLock`` while it is open."""

    def __init__(self, settings: Settings, *, create: bool = False) -> None:
        go_offline()
        self.settings = settings
        self.dir = Path(settings.index_dir)
        if not create and not (self.dir / "docs.sqlite").exists():
            raise IndexEmptyError()
        self.dir.mkdir(parents=True, exist_ok=True)
        model_path = settings.resolved_model_path
        self.chunker_config = ChunkerConfig(settings.chunk_tokens, settings.chunk_overlap)
        from .docstore import DocStore
        from .vectors import VectorStore, stored_fingerprint

        self.docs = DocStore(self.dir / "docs.sqlite")
        self.generation = self.docs.generation()
        db = str(self.docs.path)
        seen = _seen_generation.get(db)
        if seen is not None and seen != self.generation and DocStore.written_here.get(db) != self.generation:
            _forget_chroma_clients()  # another process wrote the index: Chroma's in-process cache is stale
        _seen_generation[db] = self.generation
        backend = choose_backend(settings.embed_backend, stored_fingerprint(self.dir / "chroma"))
        self.embedder: Embedder = get_embedder(
            model_path, settings.model_name, backend, settings.cache_dir, settings.batch_size
        )
        self.vectors = VectorStore(self.dir / "chroma", ChromaEmbedding(self.embedder), self.fingerprint)

    @property
    def fingerprint(self) -> dict[str, Any]:
        return {**self.embedder.fingerprint, "chunker": self.chunker_config.fingerprint}

    @cached_property
    def chunker(self) -> Chunker:
        return Chunker(self.chunker_config, self.embedder.model_path, self.settings.cache_dir)

    def is_stale(self) -> bool:
        """Has the index changed since this object opened it (written, rebuilt or deleted)?"""
        return self.docs.replaced() or self.docs.generation() != self.generation

    def close(self) -> None:
        self.docs.close()


def choose_backend(setting: str, stored: dict[str, Any] | None) -> str:
    """The embedding backend for an index: the setting when given, else the one it was built with.

    An empty setting means "whatever this index uses" (``DEFAULT_BACKEND`` for a new index), so an
    index built with torch keeps working after the default changed. An explicit backend that differs
    from the index's is refused by ``VectorStore`` with "run `rag index --rebuild`": vectors of two
    backends are never mixed.
    """
    if setting:
        return setting
    built = (stored or {}).get("embedding_backend")
    return built if built in BACKENDS else DEFAULT_BACKEND


# db path -> the generation this process last opened the index at.
_seen_generation: dict[str, int] = {}


def _forget_chroma_clients() -> None:
    """Chroma caches one client per path per process and never notices another process's writes."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


class WriteLock:
    """The single-writer lock of an index; the OS drops it if the process dies."""

    def __init__(self, index_dir: Path) -> None:
        self.path = Path(index_dir) / "write.lock"
        self._handle: IO[str] | None = None

    def __enter__(self) -> WriteLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise IndexLockedError(
                f"another process is writing to the index at {self.path.parent}; try again when it is done"
            ) from exc
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def wipe(settings: Settings) -> None:
    """Empty the index for a rebuild. Call with the ``WriteLock`` held.

    The document store is emptied first, in one transaction, and its file is kept, so a
    serving process sees the generation change and reopens. A crash before the vectors are
    deleted leaves orphan vectors, which the next run's consistency check removes; never
    "unchanged" documents without vectors.
    """
    directory = Path(settings.index_dir)
    if (directory / "docs.sqlite").exists():
        from .docstore import DocStore

        try:
            docs = DocStore(directory / "docs.sqlite")
            try:
                docs.clear()
            finally:
                docs.close()
        except sqlite3.DatabaseError:  # a damaged file is what a rebuild is for
            for name in ("docs.sqlite", "docs.sqlite-wal", "docs.sqlite-shm"):
                (directory / name).unlink(missing_ok=True)
    if (directory / "chroma").exists():
        from .vectors import COLLECTION, chroma_client

        client = chroma_client(directory / "chroma")
        if COLLECTION in [c.name for c in client.list_collections()]:
            client.delete_collection(COLLECTION)
