"""SQLite beside the Chroma store: documents, chunk offsets and a BM25 index.

Chroma keeps the vectors; this file keeps what citations are checked against
(the full document text) and an FTS5 full-text index of the chunks, updated in
the same transaction as the documents, so lexical search never drifts from the
stored text.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from .errors import DocumentNotFoundError
from .schema import Chunk, Document

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
    indexed_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_path ON documents(path);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    idx INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL
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
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
"""


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


class DocStore:
    # db path -> the last generation this process committed: lets a reader tell its own
    # writes from another process's (see store.Index).
    written_here: ClassVar[dict[str, int]] = {}

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------------ reads

    def hashes(self) -> dict[str, tuple[str, str]]:
        """doc_id -> (content_hash, path) for every stored document."""
        rows = self.conn.execute("SELECT doc_id, content_hash, path FROM documents")
        return {doc_id: (h, p) for doc_id, h, p in rows}

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

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, StoredChunk]:
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self.conn.execute(
            f"""SELECT c.chunk_id, c.doc_id, d.title, d.source, d.url, d.published, c.text, c.start, c."end"
                FROM chunks c JOIN documents d ON d.doc_id = c.doc_id WHERE c.chunk_id IN ({marks})""",
            list(chunk_ids),
        )
        return {r[0]: StoredChunk(*r) for r in rows}

    def term_frequency(self, stem: str) -> int:
        """Number of chunks containing a word that starts with ``stem``."""
        query = '"' + stem.replace('"', "") + '"*'
        row = self.conn.execute("SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (query,)).fetchone()
        return int(row[0])

    def generation(self) -> int:
        """Goes up with every committed change, whichever process made it."""
        return int(self.conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])

    def _changed(self) -> None:
        """Call inside a write transaction."""
        self.conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
        DocStore.written_here[str(self.path)] = self.generation()

    def counts(self) -> tuple[int, int]:
        docs = self.conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks = self.conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return int(docs), int(chunks)

    def last_update(self) -> float | None:
        value = self.conn.execute("SELECT MAX(indexed_at) FROM documents").fetchone()[0]
        return float(value) if value is not None else None

    def sources(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT source FROM documents ORDER BY source")]

    # ------------------------------------------------------------------ writes

    def replace(self, items: Iterable[tuple[Document, list[Chunk]]]) -> None:
        """Store documents with exactly these chunks, in one transaction."""
        now = time.time()
        with self.conn:
            for doc, chunks in items:
                self.conn.execute("DELETE FROM chunks WHERE doc_id = ?", (doc.doc_id,))
                self.conn.execute(
                    "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)",
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
                        now,
                    ),
                )
                self.conn.executemany(
                    'INSERT INTO chunks (chunk_id, doc_id, idx, start, "end", text) VALUES (?,?,?,?,?,?)',
                    [(c.chunk_id, c.doc_id, c.index, c.start, c.end, c.text) for c in chunks],
                )
            self._changed()

    def remove(self, doc_ids: Iterable[str]) -> None:
        with self.conn:
            for doc_id in doc_ids:
                self.conn.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
                self.conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
            self._changed()
