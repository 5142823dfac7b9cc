"""The indexed documents themselves, kept in Chroma next to the chunk vectors.

Chroma holds the source of truth: each document's full text (what citations are checked
against), its metadata, its content hash (what makes indexing incremental) and the character
spans of its chunks. With a Chroma server every app instance shares it; the local SQLite file
(local_cache.py) is only a cache built from it. A change counter ``seq`` in a small state
collection goes up with every committed write, and each document records the ``seq`` that
wrote it, so a reader learns with one request whether its cache is current and then fetches
only what changed.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import IndexEmptyError
from ..schema import Chunk, Document

DOCUMENTS = "news_documents"
STATE = "news_state"
_SEQ = "seq"
_FIELDS = {"title", "url", "published", "source", "path", "content_hash", "indexed_at", "spans", "seq"}
_MAX_CHARS = 4_000_000  # text per write request: one request stays a few MB, whatever the batch size


@dataclass(frozen=True)
class StoredDocument:
    """A document as the catalog keeps it: its text, its chunks and when it was indexed."""

    document: Document
    chunks: list[Chunk]
    indexed_at: float
    origin: str = ""  # host:corpus folder of the instance that indexed it (prune stays within it)
    story: str = ""  # the story it is a copy of (the id of that story's first document); "": its own


def placeholder_vector(key: str) -> list[float]:
    """Chroma stores a vector with every record; these collections are never searched by one.
    A point on the unit circle from the key's hash keeps the graph from collapsing onto one point."""
    angle = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF * 2 * math.pi
    return [math.cos(angle), math.sin(angle)]


def state_collection(client: Any) -> Any:
    """The small collection holding the change counter and the writer lease."""
    return client.get_or_create_collection(STATE, embedding_function=None)


def bump(client: Any) -> int:
    """Raise the change counter by one (a rebuild: readers must notice); call with the lease held."""
    state = state_collection(client)
    seq = read_seq(state) + 1
    write_seq(state, seq)
    return seq


def read_seq(state: Any) -> int:
    got = state.get(ids=[_SEQ], include=["metadatas"])
    return int(got["metadatas"][0]["seq"]) if got["ids"] else 0


def write_seq(state: Any, seq: int) -> None:
    state.upsert(ids=[_SEQ], embeddings=[placeholder_vector(_SEQ)], metadatas=[{"seq": seq}])


class Catalog:
    """Documents, their chunk spans and the change counter in Chroma."""

    def __init__(self, client: Any, *, create: bool) -> None:
        self.client = client
        names = {c.name for c in client.list_collections()}
        if not create and DOCUMENTS not in names:
            raise IndexEmptyError(
                "the index is empty: run `rag index`"
                + (" (an index built before documents were kept in Chroma is brought up to date by it)"
                   if "news_chunks" in names else "")
            )
        self.documents = client.get_or_create_collection(DOCUMENTS, embedding_function=None)
        self.state = state_collection(client)
        self._max_batch = client.get_max_batch_size()

    @property
    def store_id(self) -> str:
        """Changes when the index is rebuilt (the collection is recreated): caches start over."""
        return str(self.documents.id)

    def seq(self) -> int:
        return read_seq(self.state)

    def set_seq(self, seq: int) -> None:
        write_seq(self.state, seq)

    def count(self) -> int:
        return int(self.documents.count())

    def ids(self) -> set[str]:
        return set(self.documents.get(include=[])["ids"])

    def put(self, items: Sequence[StoredDocument], seq: int) -> None:
        """Write documents with the change number ``seq`` (upsert: a repeat is harmless)."""
        batch: list[StoredDocument] = []
        size = 0
        for item in items:
            if batch and (len(batch) >= self._max_batch or size + len(item.document.text) > _MAX_CHARS):
                self._upsert(batch, seq)
                batch, size = [], 0
            batch.append(item)
            size += len(item.document.text)
        if batch:
            self._upsert(batch, seq)

    def _upsert(self, batch: list[StoredDocument], seq: int) -> None:
        self.documents.upsert(
            ids=[s.document.doc_id for s in batch],
            embeddings=[placeholder_vector(s.document.doc_id) for s in batch],
            documents=[s.document.text for s in batch],
            metadatas=[_metadata(s, seq) for s in batch],  # type: ignore[misc]
        )

    def remove(self, doc_ids: Sequence[str]) -> None:
        for lo in range(0, len(doc_ids), self._max_batch):
            self.documents.delete(ids=list(doc_ids[lo : lo + self._max_batch]))

    def changed_since(self, seq: int, page: int = 200) -> Iterator[list[StoredDocument]]:
        """Documents written after change ``seq``, a page at a time (ids first, so concurrent
        writes cannot shift a page and skip a document)."""
        where = {"seq": {"$gt": seq}} if seq > 0 else None
        ids = self.documents.get(where=where, include=[])["ids"]
        for lo in range(0, len(ids), page):
            got = self.documents.get(ids=ids[lo : lo + page], include=["documents", "metadatas"])
            rows = zip(got["ids"], got["documents"], got["metadatas"], strict=True)
            yield [_stored(i, t, m) for i, t, m in rows if m and m.keys() >= _FIELDS]  # skip records not ours


def _metadata(item: StoredDocument, seq: int) -> dict[str, str | int | float]:
    doc = item.document
    meta: dict[str, str | int | float] = {
        "title": doc.title,
        "url": doc.url,
        "published": doc.published_iso,
        "source": doc.source,
        "path": doc.path,
        "content_hash": doc.content_hash,
        "indexed_at": item.indexed_at,
        "origin": item.origin,
        "story": item.story,
        "spans": json.dumps([[c.start, c.end] for c in item.chunks], separators=(",", ":")),
        "seq": seq,
    }
    return meta


def _stored(doc_id: str, text: str, meta: dict[str, Any]) -> StoredDocument:
    published = str(meta.get("published") or "")
    doc = Document(
        doc_id=doc_id,
        title=str(meta["title"]),
        text=text,
        url=str(meta["url"]),
        published=datetime.fromisoformat(published) if published else None,
        source=str(meta["source"]),
        path=str(meta["path"]),
        content_hash=str(meta["content_hash"]),
    )
    chunks = [
        Chunk(Chunk.make_id(doc_id, s, text[s:e]), doc_id, n, s, e, text[s:e])
        for n, (s, e) in enumerate(json.loads(str(meta["spans"])))
    ]
    return StoredDocument(doc, chunks, float(meta["indexed_at"]), str(meta.get("origin") or ""),
                          str(meta.get("story") or ""))
