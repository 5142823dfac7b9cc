"""The local cache of the index: documents, chunk offsets and a BM25 index in SQLite.

Chroma holds the truth (chroma_documents.py: texts, hashes, chunk spans); this file is a copy of it
built by ``Index.refresh`` and kept current by comparing Chroma's change counter with the
one recorded here, so it can always be deleted and rebuilt. It exists because Chroma's
local and single-node modes have no lexical index: the FTS5 index of the chunks is
updated in the same transaction as the documents, so lexical search never drifts from
the cached text. Each chunk's vector is copied here too, so a small index is searched
exactly without opening Chroma (``nearest``; see ``rag.index.facade.EXACT_SEARCH_MAX_CHUNKS``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import DocumentNotFoundError
from ..schema import Chunk, Document
from .chroma_documents import StoredDocument

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    url TEXT NOT NULL,
    published TEXT NOT NULL,
    published_ts INTEGER,
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    indexed_at REAL NOT NULL,
    origin TEXT NOT NULL DEFAULT '',
    story TEXT NOT NULL DEFAULT ''  -- near-duplicate copies share it (rag/index/stories.py); '' is a story of its own
);
CREATE INDEX IF NOT EXISTS documents_path ON documents(path);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    idx INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    vector BLOB  -- float32, a copy of the chunk's vector in Chroma (rag.index.facade.EXACT_SEARCH_MAX_CHUNKS)
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='rowid', tokenize='porter unicode61'
);
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('generation', 0);
CREATE TABLE IF NOT EXISTS synced (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (key TEXT PRIMARY KEY, stamp TEXT NOT NULL, docs TEXT NOT NULL);
-- MinHash signatures of the documents' texts, kept for the writer's near-duplicate search (rag/index/stories.py)
CREATE TABLE IF NOT EXISTS signatures (doc_id TEXT PRIMARY KEY, sig BLOB NOT NULL);
"""
# Per connection: how many chunks hold each stem (FTS5 keeps the counts; a lookup is an index seek).
_VOCABULARY = "CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunk_stems USING fts5vocab(main, chunks_fts, row)"
# An in-memory FTS5 table with chunks_fts's tokenizer turns query terms into the stems it indexed.
_STEMMER = """CREATE VIRTUAL TABLE stemmer USING fts5(text, tokenize='porter unicode61');
CREATE VIRTUAL TABLE stemmer_terms USING fts5vocab(stemmer, instance);"""
# The most chunk entries BM25 may read for one query, rarest terms first. FTS5 scores every chunk that
# holds any query term, so without a limit BM25's time grows with the corpus; the common words left out
# weigh little in BM25 (low idf). Measured with python bench/bench_bm25.py (docs/benchmarks.md): at
# 100k chunks BM25 p95 77 -> 25 ms, hybrid hit@5 -1.3 points; at 11k no change in hit@5 or hit@30.
MAX_POSTINGS = 10_000
_DELETE_TRIGGER = """CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END"""


@dataclass(frozen=True)
class StoredChunk:
    """A chunk joined with its document's citation fields."""

    chunk_id: str
    doc_id: str
    title: str
    source: str
    url: str
    published: str
    text: str
    start: int
    end: int
    story: str = ""  # the document's story ("": its own)

    @property
    def story_key(self) -> str:
        """What groups copies: the story, or the document itself when it has none."""
        return self.story or self.doc_id


@dataclass(frozen=True)
class Article:
    """A row of the Articles list."""

    doc_id: str
    title: str
    source: str
    url: str
    published: datetime | None
    indexed_at: float  # when it was added (or last changed) in the index
    path: str  # its file, relative to the corpus when inside it


def similarities(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``vectors @ query`` in numpy's own loop, not BLAS: OpenBLAS ran this product on every core and its
    idle threads then busy-waited for about 0.1 s, taking a core from the reader that runs next (a
    reading after a search 83 -> 60 ms mean: python bench/bench_blas_threads.py). 3-4 ms at 11k chunks."""
    return np.einsum("ij,j->i", vectors, query)


@dataclass(frozen=True)
class _Matrix:
    """Every chunk vector of one generation of the cache, with what the filters need."""

    generation: int
    ids: list[str]
    vectors: np.ndarray  # (chunks, dim) float32, L2-normalised
    published_ts: np.ndarray  # float; NaN for undated documents
    sources: np.ndarray  # str
    doc_ids: np.ndarray  # str


class LocalCache:
    """One SQLite file; each thread gets its own connection, so readers in many threads
    (the UI's workers) never share a cursor or a transaction."""

    # db path -> the last generation this process committed: lets a reader tell its own
    # writes from another process's (see store.Index).
    written_here: ClassVar[dict[str, int]] = {}

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.conn.executescript(_SCHEMA)
        self.conn.execute(_DELETE_TRIGGER)
        columns = {r[1] for r in self.conn.execute("PRAGMA table_info(documents)")}
        if "origin" not in columns:  # a file from before the cache design: it is rebuilt from Chroma
            with self.conn:
                self.conn.execute("ALTER TABLE documents ADD COLUMN origin TEXT NOT NULL DEFAULT ''")
        if "story" not in columns:  # a cache from before stories: rebuilt from Chroma by Index.refresh's next change
            with self.conn:
                self.conn.execute("ALTER TABLE documents ADD COLUMN story TEXT NOT NULL DEFAULT ''")
        if "vector" not in {r[1] for r in self.conn.execute("PRAGMA table_info(chunks)")}:
            with self.conn:  # a cache from before vectors were kept here: Index fills them from Chroma
                self.conn.execute("ALTER TABLE chunks ADD COLUMN vector BLOB")
        self.conn.execute("CREATE INDEX IF NOT EXISTS documents_story ON documents(story)")  # a story's copies
        self.conn.execute("CREATE INDEX IF NOT EXISTS documents_published ON documents(published_ts)")
        # Finding the chunks without a vector is then a look-up, not a scan of every vector (each open asks).
        self.conn.execute("CREATE INDEX IF NOT EXISTS chunks_without_vector ON chunks(chunk_id) WHERE vector IS NULL")
        self.file_id = _file_id(path)
        self._chunk_count = (-1, 0)  # (generation, chunks)
        self._matrix: _Matrix | None = None
        self._matrix_lock = threading.Lock()

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_VOCABULARY)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @property
    def _stemmer(self) -> sqlite3.Connection:
        """This thread's in-memory FTS5 table for stemming query terms."""
        conn: sqlite3.Connection | None = getattr(self._local, "stemmer", None)
        if conn is None:
            conn = sqlite3.connect(":memory:", check_same_thread=False)
            conn.executescript(_STEMMER)
            self._local.stemmer = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def replaced(self) -> bool:
        """Was the file deleted or swapped for another since it was opened?"""
        return _file_id(self.path) != self.file_id

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    # ------------------------------------------------------------------ reads

    def hashes(self) -> dict[str, tuple[str, str, str]]:
        """doc_id -> (content_hash, path, origin) for every stored document."""
        rows = self.conn.execute("SELECT doc_id, content_hash, path, origin FROM documents")
        return {doc_id: (h, p, o) for doc_id, h, p, o in rows}

    def synced(self) -> tuple[str, int]:
        """(store id, change number) of the Chroma state this cache holds; ("", -1) when none."""
        state = dict(self.conn.execute("SELECT key, value FROM synced").fetchall())
        return state.get("store_id", ""), int(state.get("seq", -1))

    def chunk_ids(self, doc_id: str) -> list[str]:
        rows = self.conn.execute("SELECT chunk_id FROM chunks WHERE doc_id = ? ORDER BY idx", (doc_id,))
        return [r[0] for r in rows]

    def document(self, doc_id: str) -> Document:
        row = self.conn.execute(
            "SELECT doc_id, title, text, url, published, source, path, content_hash FROM documents WHERE doc_id = ?",
            (doc_id,),
        ).fetchone()
        if row is None:
            raise DocumentNotFoundError(f"no document with id {doc_id!r} in the index")
        doc_id, title, text, url, published, source, path, content_hash = row
        return Document(
            doc_id=doc_id,
            title=title,
            text=text,
            url=url,
            published=datetime.fromisoformat(published) if published else None,
            source=source,
            path=path,
            content_hash=content_hash,
        )

    def all_chunk_ids(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT chunk_id FROM chunks")}

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, StoredChunk]:
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self.conn.execute(
            f"""SELECT c.chunk_id, c.doc_id, d.title, d.source, d.url, d.published, c.text, c.start, c."end",
                       d.story FROM chunks c JOIN documents d ON d.doc_id = c.doc_id WHERE c.chunk_id IN ({marks})""",
            list(chunk_ids),
        )
        return {r[0]: StoredChunk(*r) for r in rows}

    def bm25(
        self,
        terms: Sequence[str],
        n: int,
        *,
        since: int | None = None,
        until: int | None = None,
        sources: Sequence[str] = (),
        documents: Sequence[str] = (),
        max_postings: int | None = MAX_POSTINGS,
    ) -> list[tuple[str, float]]:
        """(chunk_id, BM25 score) of the best ``n`` chunks holding any of ``terms``, higher is better;
        ``since``/``until`` are Unix times of the published date, ``sources`` source names, ``documents``
        document ids. Only the
        rarest terms within ``max_postings`` are searched (None: all), which bounds the time it takes."""
        if max_postings is not None:
            terms = self.rarest(terms, max_postings)
        match = " OR ".join(f'"{t.replace(chr(34), "")}"' for t in terms)
        where, params = "", []
        if since is not None:
            where += " AND d.published_ts >= ?"
            params.append(since)
        if until is not None:
            where += " AND d.published_ts <= ?"
            params.append(until)
        if sources:
            where += f" AND d.source IN ({','.join('?' * len(sources))})"
            params.extend(sources)
        if documents:
            where += f" AND d.doc_id IN ({','.join('?' * len(documents))})"
            params.extend(documents)
        if where:  # filters apply before the limit: join, then rank (FTS5's own sort by rank)
            sql = f"""SELECT c.chunk_id, -chunks_fts.rank FROM chunks_fts
                JOIN chunks c ON c.rowid = chunks_fts.rowid JOIN documents d ON d.doc_id = c.doc_id
                WHERE chunks_fts MATCH ?{where} ORDER BY chunks_fts.rank LIMIT ?"""
        else:  # the best n first, then their ids: 2.3 times faster at 100k chunks (bench/bench_bm25.py)
            sql = """SELECT c.chunk_id, -f.score FROM (SELECT rowid, bm25(chunks_fts) AS score FROM chunks_fts
                WHERE chunks_fts MATCH ? ORDER BY score LIMIT ?) f
                JOIN chunks c ON c.rowid = f.rowid ORDER BY f.score"""
        rows = self.conn.execute(sql, [match, *params, n]).fetchall()
        return [(chunk_id, float(score)) for chunk_id, score in rows]

    def postings(self, terms: Sequence[str]) -> list[int]:
        """For each term, how many chunk entries FTS5 reads to match it: the chunk counts of its stems."""
        stemmer = self._stemmer
        with stemmer:
            stemmer.execute("DELETE FROM stemmer")
            stemmer.executemany("INSERT INTO stemmer(rowid, text) VALUES (?, ?)", list(enumerate(terms)))
            stems = stemmer.execute("SELECT doc, term FROM stemmer_terms").fetchall()
        counts = [0] * len(terms)
        lookup = "SELECT doc FROM chunk_stems WHERE term = ?"
        for i, stem in stems:
            row = self.conn.execute(lookup, (stem,)).fetchone()
            counts[i] += row[0] if row else 0
        return counts

    def rarest(self, terms: Sequence[str], max_postings: int) -> list[str]:
        """The rarest terms whose postings add up to at most ``max_postings`` (the rarest one always)."""
        kept: list[str] = []
        total = 0
        for count, term in sorted(zip(self.postings(terms), terms, strict=True)):
            if kept and total + count > max_postings:
                break
            kept.append(term)
            total += count
        return kept

    def vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors of these chunks (those that have one)."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self.conn.execute(
            f"SELECT chunk_id, vector FROM chunks WHERE vector IS NOT NULL AND chunk_id IN ({marks})", list(chunk_ids)
        )
        return {chunk_id: np.frombuffer(blob, dtype=np.float32) for chunk_id, blob in rows}

    def without_vectors(self) -> list[str]:
        """Chunks whose vector is not cached yet (Index copies them from Chroma)."""
        return [r[0] for r in self.conn.execute("SELECT chunk_id FROM chunks WHERE vector IS NULL")]

    def nearest(
        self,
        query: np.ndarray,
        n: int,
        *,
        since: int | None = None,
        until: int | None = None,
        sources: Sequence[str] = (),
        documents: Sequence[str] = (),
    ) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) of the ``n`` chunks closest to ``query``: an exact search over
        every cached vector (the filters as in ``bm25``)."""
        matrix = self._load_matrix()
        scores = similarities(matrix.vectors, np.asarray(query, dtype=np.float32))
        keep = np.ones(len(scores), dtype=bool)
        if since is not None:
            keep &= matrix.published_ts >= since
        if until is not None:
            keep &= matrix.published_ts <= until
        if sources:
            keep &= np.isin(matrix.sources, list(sources))
        if documents:
            keep &= np.isin(matrix.doc_ids, list(documents))
        scores = np.where(keep, scores, -np.inf)
        n = min(n, int(keep.sum()))
        best = np.argpartition(-scores, n - 1)[:n] if n else np.zeros(0, dtype=int)
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(matrix.ids[i], float(scores[i])) for i in best]

    def _load_matrix(self) -> _Matrix:
        """All vectors, read once per generation (11k chunks: 17 MB)."""
        generation = self.generation()
        matrix = self._matrix
        if matrix is not None and matrix.generation == generation:
            return matrix
        with self._matrix_lock:
            rows = self.conn.execute(
                """SELECT c.chunk_id, c.vector, d.published_ts, d.source, d.doc_id FROM chunks c
                   JOIN documents d ON d.doc_id = c.doc_id WHERE c.vector IS NOT NULL"""
            ).fetchall()
            dim = len(rows[0][1]) // 4 if rows else 0
            self._matrix = matrix = _Matrix(
                generation,
                [r[0] for r in rows],
                np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), dim),
                np.array([np.nan if r[2] is None else r[2] for r in rows], dtype=float),
                np.array([r[3] for r in rows], dtype=object),
                np.array([r[4] for r in rows], dtype=object),
            )
        return matrix

    def chunk_items(self, chunk_ids: Sequence[str]) -> list[tuple[Document, Chunk]]:
        """Stored chunks with their documents, to re-embed chunks whose vectors are missing."""
        stored = self.chunks(chunk_ids)
        docs = {doc_id: self.document(doc_id) for doc_id in {c.doc_id for c in stored.values()}}
        rows = self.conn.execute(
            f"SELECT chunk_id, idx FROM chunks WHERE chunk_id IN ({','.join('?' * len(stored))})", list(stored)
        )
        index_of = dict(rows.fetchall())
        return [
            (docs[c.doc_id], Chunk(c.chunk_id, c.doc_id, index_of[c.chunk_id], c.start, c.end, c.text))
            for c in stored.values()
        ]

    def term_frequency(self, stem: str) -> int:
        """Number of chunks containing a word that starts with ``stem`` (a number: that number)."""
        term = stem.replace('"', "")
        query = f'"{term}"' if term.isdigit() else f'"{term}"*'
        row = self.conn.execute("SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (query,)).fetchone()
        return int(row[0])

    def generation(self) -> int:
        """Goes up with every committed change, whichever process made it."""
        return int(self.conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])

    def _changed(self) -> None:
        """Call inside a write transaction."""
        self.conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
        LocalCache.written_here[str(self.path)] = self.generation()

    def chunk_count(self) -> int:
        """Chunks in the cache, counted once per generation (a count reads a whole table: 2.6 ms at 100k)."""
        generation = self.generation()
        if self._chunk_count[0] != generation:
            self._chunk_count = (generation, int(self.conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]))
        return self._chunk_count[1]

    def counts(self) -> tuple[int, int]:
        docs = self.conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks = self.conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return int(docs), int(chunks)

    def last_update(self) -> float | None:
        value = self.conn.execute("SELECT MAX(indexed_at) FROM documents").fetchone()[0]
        return float(value) if value is not None else None

    def articles(self, title: str = "", limit: int = 200, since: float | None = None) -> list[Article]:
        """Indexed articles, newest first by when they were added; ``title``: words the title contains
        (case-insensitive); ``since``: only those added after this Unix time."""
        where, params = "WHERE 1", []
        for word in title.split():
            where += " AND title LIKE ? ESCAPE '\\'"
            params.append("%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        if since is not None:
            where += " AND indexed_at > ?"
            params.append(since)
        rows = self.conn.execute(
            f"SELECT doc_id, title, source, url, published, indexed_at, path FROM documents {where} "
            "ORDER BY indexed_at DESC, title LIMIT ?", [*params, limit]
        )
        return [Article(d, t, s, u, datetime.fromisoformat(p) if p else None, a, f) for d, t, s, u, p, a, f in rows]

    def published_between(self, since: float | None, until: float | None) -> bool:
        """Was any indexed article published in this range (Unix times, inclusive; None: open)?"""
        row = self.conn.execute(
            "SELECT 1 FROM documents WHERE published_ts IS NOT NULL AND published_ts >= ? AND published_ts <= ? "
            "LIMIT 1", (-(2**62) if since is None else since, 2**62 if until is None else until)).fetchone()
        return row is not None

    def documents_from(self, path: str) -> list[str]:
        """Ids of the documents read from one corpus file."""
        return [r[0] for r in self.conn.execute("SELECT doc_id FROM documents WHERE path = ?", (path,))]

    def copies(self, stories: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """story -> (doc_id, source) of every document in it."""
        wanted = sorted({s for s in stories if s})
        found: dict[str, list[tuple[str, str]]] = {s: [] for s in wanted}
        if wanted:
            rows = self.conn.execute(
                f"SELECT story, doc_id, source FROM documents WHERE story IN ({','.join('?' * len(wanted))}) "
                "ORDER BY indexed_at, doc_id", wanted)
            for story, doc_id, source in rows:
                found[story].append((doc_id, source))
        return found

    def signatures(self) -> dict[str, tuple[bytes, str]]:
        """doc_id -> (MinHash signature bytes, story) of the documents that have one."""
        rows = self.conn.execute("SELECT s.doc_id, s.sig, d.story FROM signatures s JOIN documents d USING (doc_id)")
        return {doc_id: (bytes(sig), story) for doc_id, sig, story in rows}

    def without_signatures(self) -> list[str]:
        rows = self.conn.execute("SELECT doc_id FROM documents WHERE doc_id NOT IN (SELECT doc_id FROM signatures)")
        return [r[0] for r in rows]

    def set_signatures(self, signatures: Mapping[str, bytes]) -> None:
        """Keep signatures (no generation change: they are the writer's, not what readers see)."""
        with self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO signatures VALUES (?, ?)", list(signatures.items()))

    def sources(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT source FROM documents ORDER BY source")]

    # ------------------------------------------------------------------ writes

    def apply(
        self,
        items: Iterable[StoredDocument],
        removed: Iterable[str],
        *,
        store_id: str,
        seq: int,
        vectors: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Store documents with exactly these chunks and forget ``removed``, in one transaction
        that also records which Chroma state the cache now holds. A chunk keeps its cached vector
        (ids are content hashes) unless ``vectors`` has a new one; one with neither is filled later."""
        vectors = vectors or {}
        with self.conn:
            for doc_id in removed:
                self.conn.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
                self.conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
                self.conn.execute("DELETE FROM signatures WHERE doc_id = ?", (doc_id,))
            for item in items:
                doc, chunks = item.document, item.chunks
                kept = dict(self.conn.execute(
                    "SELECT chunk_id, vector FROM chunks WHERE doc_id = ? AND vector IS NOT NULL", (doc.doc_id,)
                ).fetchall())
                self.conn.execute("DELETE FROM chunks WHERE doc_id = ?", (doc.doc_id,))
                self.conn.execute(
                    "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        doc.doc_id,
                        doc.title,
                        doc.text,
                        doc.url,
                        doc.published_iso,
                        int(doc.published.timestamp()) if doc.published else None,
                        doc.source,
                        doc.path,
                        doc.content_hash,
                        item.indexed_at,
                        item.origin,
                        item.story,
                    ),
                )
                self.conn.executemany(
                    'INSERT INTO chunks (chunk_id, doc_id, idx, start, "end", text, vector) VALUES (?,?,?,?,?,?,?)',
                    [(c.chunk_id, c.doc_id, c.index, c.start, c.end, c.text,
                      _blob(vectors[c.chunk_id]) if c.chunk_id in vectors else kept.get(c.chunk_id))
                     for c in chunks],
                )
            self.conn.executemany(
                "INSERT OR REPLACE INTO synced VALUES (?, ?)", [("store_id", store_id), ("seq", str(seq))]
            )
            self._changed()

    def set_vectors(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Cache the vectors of chunks stored already."""
        with self.conn:
            self.conn.executemany(
                "UPDATE chunks SET vector = ? WHERE chunk_id = ?", [(_blob(v), i) for i, v in vectors.items()]
            )
            self._changed()

    def fingerprint(self) -> dict[str, Any] | None:
        """The model and chunker the cached vectors come from (as in Chroma's collection metadata)."""
        row = self.conn.execute("SELECT value FROM synced WHERE key = 'fingerprint'").fetchone()
        return json.loads(row[0]) if row else None

    def set_fingerprint(self, fingerprint: Mapping[str, Any]) -> None:
        with self.conn:
            value = json.dumps(dict(fingerprint))
            self.conn.execute("INSERT OR REPLACE INTO synced VALUES ('fingerprint', ?)", (value,))

    def file_memos(self) -> dict[str, tuple[str, list[list[str]]]]:
        """What each corpus file parsed into when last read, with the stamp it had (see rag.index.sync)."""
        rows = self.conn.execute("SELECT key, stamp, docs FROM files")
        return {key: (stamp, json.loads(docs)) for key, stamp, docs in rows}

    def set_file_memos(self, memos: Mapping[str, tuple[str, list[list[str]]]], forget: Iterable[str]) -> None:
        """Store and forget file memos. The generation stays: what a file parses into is not the index."""
        with self.conn:
            self.conn.executemany("DELETE FROM files WHERE key = ?", [(key,) for key in forget])
            self.conn.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?)",
                [(key, stamp, json.dumps(docs)) for key, (stamp, docs) in memos.items()],
            )

    def clear(self) -> None:
        """Forget every document, keeping the file: readers in other processes notice the
        generation change and reopen, instead of reading a deleted file."""
        with self.conn:
            self.conn.execute("BEGIN")  # the trigger's drop and re-creation belong to the same transaction
            self.conn.execute("DROP TRIGGER IF EXISTS chunks_ad")  # 'delete-all' is one step, not one per row
            self.conn.execute("DELETE FROM chunks")
            self.conn.execute("DELETE FROM documents")
            self.conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('delete-all')")
            self.conn.execute(_DELETE_TRIGGER)
            self.conn.execute("DELETE FROM synced")
            self.conn.execute("DELETE FROM files")  # a rebuild reads every file again
            self.conn.execute("DELETE FROM signatures")
            self._changed()


def _blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino
