"""The index: Chroma (local or a server) and this instance's cache, opened together.

Chroma holds everything answers depend on: chunk vectors (chroma_vectors.py) and the documents
with their chunk spans and a change counter (chroma_documents.py). ``RAG_INDEX_DIR`` holds
``docs.sqlite``, the local cache with the BM25 index (local_cache.py), ``write.lock`` (locks.py)
and, without a Chroma server, the embedded store ``chroma/``. Embedded or on a server, it is one
code path.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..embedding.embedders import BACKENDS, DEFAULT_BACKEND, Embedder, get_embedder
from ..errors import IndexEmptyError, IndexMismatchError
from ..ingest.chunking import Chunker, ChunkerConfig
from ..offline import go_offline
from ..schema import Chunk, Document
from ..settings import Settings
from .chroma_documents import Catalog, StoredDocument

if TYPE_CHECKING:
    from .chroma_vectors import VectorStore

COPY_BATCH = 1000  # vectors read from Chroma per request when the cache lacks them


# Up to this many chunks, dense search is exact, over the vectors cached in docs.sqlite, and a process
# that only reads a local index never opens Chroma (whose import alone takes 1.1 s here). Measured with
# python bench/bench_exact.py (docs/benchmarks.md): exact p95 2.7 ms at 10k chunks and 5.5 ms at 30k
# (HNSW 3.8 / 4.2 ms, and it misses 3% of the 30 nearest), loading the vectors 0.1 / 0.36 s once per
# process; at 100k exact search takes 18 ms and loading 1 s, so larger indexes use Chroma's HNSW.
# Those exact times were with BLAS's threaded product. With numpy's own loop (rag.index.local_cache.similarities)
# exact search takes p95 4.5 ms at 11k and 11.7 ms at 30k against HNSW's 4.0 / 4.3 ms (recall of the
# exact 30: 0.99 / 0.98; bench/results/bench_exact-numpy-loop.json). Kept at 30k: 6-7 ms more per search at
# the limit leaves ask() far under its p95 target (87 ms at 30,167 chunks with HNSW, bench/bench_scale.py),
# and a cold reader still skips Chroma's import.
EXACT_SEARCH_MAX_CHUNKS = 30_000


class Index:
    """The stores and the model. Opening it brings the cache up to date with Chroma;
    writers hold a ``WriteLock`` and the store's ``Lease`` while it is open.

    A reader of a local index whose cache is complete and small enough for exact search opens
    Chroma only when asked for ``catalog`` or ``vectors``: every local writer commits to the same
    cache file, so the cache's generation tells it everything it needs to know."""

    def __init__(self, settings: Settings, *, create: bool = False) -> None:
        go_offline()
        from .local_cache import LocalCache

        self.settings = settings
        self.dir = Path(settings.index_dir)
        self.local = not settings.chroma_url
        self.where = str(self.dir) if self.local else settings.chroma_url
        if not create and self.local and not (self.dir / "chroma" / "chroma.sqlite3").exists():
            raise IndexEmptyError()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.chunker_config = ChunkerConfig(settings.chunk_tokens, settings.chunk_overlap)
        self.docs = LocalCache(self.dir / "docs.sqlite")
        self._catalog: Catalog | None = None
        self._vectors: VectorStore | None = None
        cached = self.docs.fingerprint()
        if create or not self.local or cached is None or not self._exact_search_possible():
            self._open_chroma(create=create)
        else:
            self.embedder = self._embedder(cached)
            if self.fingerprint != cached:
                raise IndexMismatchError.between(self.where, cached, self.fingerprint)
            self.synced_seq = self.docs.synced()[1]
        self.exact = self.local and self._exact_search_possible()  # a server's store is searched on the server
        self.generation = self.docs.generation()
        _seen_generation[str(self.docs.path)] = self.generation
        self._checked = time.monotonic()
        self._checking = threading.Lock()

    def _exact_search_possible(self) -> bool:
        return 0 < self.docs.chunk_count() <= EXACT_SEARCH_MAX_CHUNKS and not self.docs.without_vectors()

    def _embedder(self, stored_fingerprint: dict[str, Any] | None) -> Embedder:
        s = self.settings
        backend = choose_backend(s.embed_backend, stored_fingerprint)
        return get_embedder(s.resolved_model_path, s.model_name, backend, s.cache_dir, s.batch_size)

    def _open_chroma(self, *, create: bool) -> None:
        """Open the Chroma store, bring the cache up to date with it (vectors included) and check that
        the model and chunker are the ones it was built with."""
        from .chroma_vectors import ChromaEmbedding, VectorStore, chroma_client, stored_fingerprint
        from .local_cache import LocalCache

        db = str(self.docs.path)
        seen = _seen_generation.get(db)
        if self.local and seen is not None and seen != self.docs.generation() != LocalCache.written_here.get(db):
            _forget_chroma_clients()  # another process wrote the index: Chroma's in-process cache is stale
        client = chroma_client(self.settings)
        self._catalog = Catalog(client, create=create)
        before = self.docs.synced()
        self.synced_seq = self.refresh()
        if self.local and self.docs.synced() != before:
            # The cache caught up with writes of another process, whose vectors this process's
            # Chroma client has not loaded: open a fresh one.
            _forget_chroma_clients()
            client = chroma_client(self.settings)
            self._catalog = Catalog(client, create=create)
        if not hasattr(self, "embedder"):
            self.embedder: Embedder = self._embedder(stored_fingerprint(client))
        self._vectors = VectorStore(client, ChromaEmbedding(self.embedder), self.fingerprint, self.where)
        if self.docs.fingerprint() != self.fingerprint:
            self.docs.set_fingerprint(self.fingerprint)
        self.copy_vectors()

    def copy_vectors(self) -> int:
        """Copy into the cache the vectors it lacks (a cache filled from Chroma, or from before it kept
        vectors); returns how many were copied."""
        missing = self.docs.without_vectors()
        copied = 0
        for lo in range(0, len(missing), COPY_BATCH):
            found = self.vectors.embeddings(missing[lo : lo + COPY_BATCH])
            if found:  # each write moves the generation on, and readers reopen
                self.docs.set_vectors(found)
            copied += len(found)
        return copied

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._open_chroma(create=False)
        assert self._catalog is not None
        return self._catalog

    @property
    def vectors(self) -> VectorStore:
        if self._vectors is None:
            self._open_chroma(create=False)
        assert self._vectors is not None
        return self._vectors

    @property
    def fingerprint(self) -> dict[str, Any]:
        return {**self.embedder.fingerprint, "chunker": self.chunker_config.fingerprint}

    @cached_property
    def chunker(self) -> Chunker:
        return Chunker(self.chunker_config, self.embedder.model_path, self.settings.cache_dir)

    def refresh(self) -> int:
        """Bring the cache up to Chroma's state; returns the change number it now holds.

        Reads the counter first, then what changed since the cache's number: a write that
        lands in between is fetched now or at the next refresh, never lost. Documents
        deleted in Chroma are found by comparing ids. A rebuilt store (new id) starts the
        cache over."""
        store_id, seq = self.catalog.store_id, self.catalog.seq()
        cached_id, cached_seq = self.docs.synced()
        if cached_id != store_id:
            self.docs.clear()
            cached_seq = -1
        elif seq <= cached_seq:
            return cached_seq
        for page in self.catalog.changed_since(cached_seq):
            self.docs.apply(page, (), store_id=store_id, seq=cached_seq)
        gone = set(self.docs.hashes()) - self.catalog.ids()
        self.docs.apply((), sorted(gone), store_id=store_id, seq=seq)
        return seq

    def commit(
        self,
        items: Sequence[tuple[Document, list[Chunk]]],
        removed: Sequence[str] = (),
        origin: str = "",
        vectors: Mapping[str, np.ndarray] | None = None,
        stories: Mapping[str, str] | None = None,
    ) -> None:
        """Record documents as indexed (their vectors are stored in Chroma already; ``vectors`` are the
        new ones, for the cache; ``stories``: doc_id -> the story it is a copy of) and forget ``removed``:
        in Chroma first, then the change counter, then this instance's cache. Call with the lease held."""
        seq = self.synced_seq + 1
        now = time.time()
        stories = stories or {}
        stored = [StoredDocument(doc, chunks, now, origin, stories.get(doc.doc_id, "")) for doc, chunks in items]
        self.catalog.put(stored, seq)
        self.catalog.remove(list(removed))
        self.catalog.set_seq(seq)
        self.docs.apply(stored, removed, store_id=self.catalog.store_id, seq=seq, vectors=vectors)
        self.synced_seq = seq
        self.generation = self.docs.generation()

    def is_stale(self, *, now: bool = False) -> bool:
        """Has the index changed since this object opened it (written, rebuilt or deleted, here or,
        asked at most every ``sync_seconds`` unless ``now``, by another instance sharing the store)?"""
        if self.docs.replaced() or self.docs.generation() != self.generation:
            return True
        started = time.monotonic()
        if not now and started - self._checked < self.settings.sync_seconds:
            return False
        if not self._checking.acquire(blocking=now):
            return False
        try:
            self._checked = started
            return self._catalog is not None and self._catalog.seq() > self.synced_seq
        except Exception:  # an unreachable server: keep answering from what we have
            return False
        finally:
            self._checking.release()

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


def wipe(settings: Settings) -> None:
    """Empty the index for a rebuild. Call with the ``WriteLock`` and the ``Lease`` held.

    The cache is emptied first, in one transaction, and its file is kept, so a serving
    process sees the generation change and reopens. Then the collections go and the change
    counter goes up, so other instances notice and rebuild their caches. A crash in between
    leaves a collection that the next run's consistency check cleans up.
    """
    directory = Path(settings.index_dir)
    if (directory / "docs.sqlite").exists():
        from .local_cache import LocalCache

        try:
            docs = LocalCache(directory / "docs.sqlite")
            try:
                docs.clear()
            finally:
                docs.close()
        except sqlite3.DatabaseError:  # a damaged file is what a rebuild is for
            for name in ("docs.sqlite", "docs.sqlite-wal", "docs.sqlite-shm"):
                (directory / name).unlink(missing_ok=True)
    from .chroma_documents import DOCUMENTS, bump
    from .chroma_vectors import COLLECTION, chroma_client, is_local

    if is_local(settings) and not (directory / "chroma").exists():
        return
    client = chroma_client(settings)
    names = {c.name for c in client.list_collections()}
    bump(client)  # before and after: a reader that fails on a deleted collection sees a change and reopens
    for name in (COLLECTION, DOCUMENTS):
        if name in names:
            client.delete_collection(name)
    bump(client)
