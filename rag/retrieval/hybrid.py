"""Hybrid retrieval: dense (exact over the cached vectors, or Chroma's HNSW for a large index) and
BM25 (SQLite FTS5) candidates, fused.

Fusion is a weighted sum of scores normalised over the candidate set, not
reciprocal-rank fusion: RRF throws away how *much* better the top BM25 match is,
which on news questions full of names and numbers costs recall. The weight (DENSE_WEIGHT) was
tuned with `python train/tune_fusion.py` (train/README.md; results in train/results/tune_fusion.json).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import wait
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np

from ..errors import IndexEmptyError, InputError
from ..index.facade import Index
from ..index.local_cache import StoredChunk
from ..schema import Hit
from ..text import STOPWORDS, words
from ..threads import pool
from .dates import prefers_recent

Mode = Literal["hybrid", "dense", "bm25"]

DENSE_WEIGHT = 0.5  # train/tune_fusion.py
RECENCY_WEIGHT = 0.15  # a question about the current state ("latest", "still": dates.prefers_recent) prefers newer
MAX_QUERY_TERMS = 32
BM25_WORKERS = 4  # concurrent questions' BM25 searches do not queue behind one another


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    sources: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()  # document ids: a question asked within chosen articles
    group_stories: bool = True  # one copy of each story (near-duplicates: rag/index/stories.py); False: all

    def chroma_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.since:
            clauses.append({"published_ts": {"$gte": int(self.since.timestamp())}})
        if self.until:
            clauses.append({"published_ts": {"$lte": int(self.until.timestamp())}})
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if self.documents:
            clauses.append({"doc_id": {"$in": list(self.documents)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def sql_args(self) -> dict[str, Any]:
        """The same filters as keyword arguments of ``LocalCache.bm25`` and ``LocalCache.nearest``."""
        return {
            "since": int(self.since.timestamp()) if self.since else None,
            "until": int(self.until.timestamp()) if self.until else None,
            "sources": self.sources,
            "documents": self.documents,
        }


def make_filters(
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    sources: Any = None,
    documents: Any = None,
    group_stories: bool = True,
) -> Filters:
    """Filters from user input; a date without a time covers that whole day."""
    if isinstance(documents, str):
        documents = [documents]
    return Filters(_as_date(since, end=False), _as_date(until, end=True), tuple(sources or ()),
                   tuple(documents or ()), bool(group_stories))


def _as_date(value: datetime | str | None, *, end: bool) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"{value!r} is not a date: use YYYY-MM-DD") from exc
    if end and len(value.strip()) == 10:
        parsed = parsed.replace(hour=23, minute=59, second=59)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_NUMBER = re.compile(r"\d+(?:[.,:/-]\d+)+")


def query_terms(text: str) -> list[str]:
    """The text's content words for BM25, without quotes (``LocalCache.bm25`` quotes each: no syntax injection).

    A number written with separators ("1,140", "3.5", "2024-05-01") is one phrase of its digit
    groups, so it matches that number rather than every chunk containing "1" or "140".
    """
    numbers = [m.group() for m in _NUMBER.finditer(text)]
    rest = _NUMBER.sub(" ", text)
    terms = [" ".join(re.findall(r"\d+", n)) for n in numbers]
    terms += [w for w in words(rest) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    return list(dict.fromkeys(t.replace('"', "") for t in terms))[:MAX_QUERY_TERMS]


class Retriever:
    def __init__(self, index: Index, dense_weight: float = DENSE_WEIGHT) -> None:
        self.index = index
        self.dense_weight = dense_weight

    def search(
        self, query: str, k: int = 5, filters: Filters = Filters(), mode: Mode = "hybrid"
    ) -> list[Hit]:
        if self.index.docs.chunk_count() == 0:
            raise IndexEmptyError()
        n = max(30, 4 * k)  # candidates from each retriever before fusion
        dense: dict[str, float] = {}
        lexical: dict[str, float] = {}
        query_vector = None
        # BM25 (SQLite, one core) runs beside the query embedding and dense search: a follow-up's search
        # with its history 27-29 -> 20-22 ms mean on 2 cores (11k chunks; docs/confidence.md, Latency).
        lexical_future = pool("bm25", BM25_WORKERS).submit(self._bm25, query, n, filters) if mode != "dense" else None
        try:
            if mode in ("hybrid", "dense"):
                query_vector = self.index.embedder.embed_query(query)
                if self.index.exact:
                    dense = dict(self.index.docs.nearest(query_vector, n, **filters.sql_args()))
                else:
                    dense = dict(self.index.vectors.query(query_vector, n, filters.chroma_where()))
        except BaseException:
            # The caller may close the index on this error (a Chroma server gone): BM25 must be off its
            # SQLite connection first, or closing it under the running query crashes the process.
            if lexical_future is not None:
                wait([lexical_future])
            raise
        if lexical_future is not None:
            lexical = lexical_future.result()
        if mode == "bm25":
            scores = lexical
        else:
            self._complete_similarities(query_vector, dense, lexical)
            scores = self._fuse(dense, lexical) if mode == "hybrid" else dense
        if mode == "hybrid" and prefers_recent(query):
            scores = self._favour_recent(scores)
        ranked = sorted(scores, key=lambda i: -scores[i])
        if not filters.group_stories:
            stored = self.index.docs.chunks(ranked[:k])
            return [_hit(stored[i], scores[i], dense.get(i, 0.0)) for i in ranked[:k] if i in stored]
        return self._one_copy_per_story(ranked, scores, dense, k)

    def _one_copy_per_story(
        self, ranked: list[str], scores: dict[str, float], dense: dict[str, float], k: int
    ) -> list[Hit]:
        """The best ``k`` chunks from one document of each story (the best-ranked copy's), each naming the
        story's other copies: no result list, and so no answer, holds two copies of one story."""

        def in_order() -> Iterator[StoredChunk]:  # read a few more than k at a time: copies are rare
            for lo in range(0, len(ranked), 2 * k):
                page = ranked[lo : lo + 2 * k]
                stored = self.index.docs.chunks(page)
                yield from (stored[i] for i in page if i in stored)

        kept: dict[str, str] = {}  # story -> the document shown for it
        best: list[StoredChunk] = []
        for chunk in in_order():
            if kept.setdefault(chunk.story_key, chunk.doc_id) == chunk.doc_id:
                best.append(chunk)
                if len(best) == k:
                    break
        copies = self.index.docs.copies(kept)
        hits = []
        for chunk in best:
            others = [(d, s) for d, s in copies.get(chunk.story_key, []) if d != chunk.doc_id]
            hit = _hit(chunk, scores[chunk.chunk_id], dense.get(chunk.chunk_id, 0.0))
            hits.append(replace(hit, also_in=tuple(d for d, _ in others), also_in_sources=tuple(s for _, s in others)))
        return hits

    def _bm25(self, query: str, n: int, filters: Filters) -> dict[str, float]:
        terms = query_terms(query)
        return dict(self.index.docs.bm25(terms, n, **filters.sql_args())) if terms else {}

    def _complete_similarities(self, query_vector: Any, dense: dict[str, float], lexical: dict[str, float]) -> None:
        """Cosine similarity for BM25 candidates the dense search did not return."""
        missing = [i for i in lexical if i not in dense]
        for chunk_id, vector in self.index.docs.vectors(missing).items():
            dense[chunk_id] = float(np.dot(vector, query_vector))

    def _fuse(self, dense: dict[str, float], lexical: dict[str, float]) -> dict[str, float]:
        """Weighted sum of min-max normalised scores."""
        d = _normalise(dense)
        b = _normalise(lexical)
        w = self.dense_weight
        return {i: w * d.get(i, 0.0) + (1 - w) * b.get(i, 0.0) for i in set(d) | set(b)}

    def _favour_recent(self, scores: dict[str, float]) -> dict[str, float]:
        stored = self.index.docs.chunks(list(scores))
        stamps = {i: datetime.fromisoformat(c.published).timestamp() for i, c in stored.items() if c.published}
        if not stamps:
            return scores
        recency = _normalise(stamps)
        return {i: s + RECENCY_WEIGHT * recency.get(i, 0.0) for i, s in scores.items()}


def _normalise(scores: dict[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo < 1e-9:
        return dict.fromkeys(scores, 1.0)
    return {i: (s - lo) / (hi - lo) for i, s in scores.items()}


def _hit(c: Any, score: float, similarity: float) -> Hit:
    return Hit(
        chunk_id=c.chunk_id,
        doc_id=c.doc_id,
        title=c.title,
        source=c.source,
        url=c.url,
        published=datetime.fromisoformat(c.published) if c.published else None,
        text=c.text,
        start=c.start,
        end=c.end,
        score=round(score, 6),
        similarity=round(similarity, 6),
    )
