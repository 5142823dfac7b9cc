"""Typed records passed between the parts of the pipeline."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Document:
    """One article. ``content_hash`` covers every stored field, so a write is
    skipped when nothing changed and an identical copy is recognised."""

    doc_id: str
    title: str
    text: str
    url: str = ""
    published: datetime | None = None
    source: str = ""
    path: str = ""  # the file it came from, relative to the corpus root when inside it
    content_hash: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.content_hash:
            object.__setattr__(self, "content_hash", self.compute_hash())

    def compute_hash(self) -> str:
        payload = json.dumps(
            [self.title, self.text, self.url, self.published_iso, self.source],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    @property
    def published_iso(self) -> str:
        return self.published.isoformat() if self.published else ""


@dataclass(frozen=True)
class Chunk:
    """A span of a document: ``document.text[start:end] == text``."""

    chunk_id: str
    doc_id: str
    index: int
    start: int
    end: int
    text: str

    @staticmethod
    def make_id(doc_id: str, start: int, text: str) -> str:
        """Content-derived id: re-writing the same chunk is idempotent."""
        digest = hashlib.sha256(f"{doc_id}\x00{start}\x00{text}".encode()).hexdigest()
        return digest[:32]


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with what a caller needs to show and cite it."""

    chunk_id: str
    doc_id: str
    title: str
    source: str
    url: str
    published: datetime | None
    text: str
    start: int
    end: int
    score: float  # fused retrieval score, comparable only within one result list
    similarity: float = 0.0  # cosine similarity of the chunk to the query
    # Other copies of the same story (near-duplicates: rag/index/stories.py), which results leave out by default.
    also_in: tuple[str, ...] = ()  # their document ids
    also_in_sources: tuple[str, ...] = ()  # their sources, in the same order

    def to_json(self) -> dict[str, object]:
        data = dict(self.__dict__)
        data["published"] = self.published.isoformat() if self.published else None
        return data


@dataclass(frozen=True)
class Citation:
    """``document(doc_id).text[start:end] == quote`` always holds."""

    n: int
    doc_id: str
    title: str
    source: str
    url: str
    published: datetime | None
    quote: str
    start: int
    end: int

    def to_json(self) -> dict[str, object]:
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "title": self.title,
            "source": self.source,
            "url": self.url,
            "published": self.published.isoformat() if self.published else None,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class Story:
    """An article offered when a question does not say which one it means (``Answer.clarify``)."""

    doc_id: str
    title: str
    source: str
    url: str
    published: datetime | None

    def to_json(self) -> dict[str, object]:
        return {"doc_id": self.doc_id, "title": self.title, "source": self.source, "url": self.url,
                "published": self.published.isoformat() if self.published else None}


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[Citation]
    abstained: bool
    hits: list[Hit]
    query: str = ""  # what retrieval searched for: the question, or its standalone rewrite
    # Language-model answerers (rag/llm/answerer.py): what verification did, and anything the user must be told.
    notice: str = ""  # e.g. "2 of 3 generated sentences were removed…" or "The language model did not answer…"
    generated: int = 0  # sentences the model wrote
    removed: int = 0  # of those, removed because no retrieved passage supports them
    repointed: int = 0  # kept, but cited to a different passage than the model named
    # Estimated probability that the answer holds what was asked (calibrated on held-out articles, see
    # docs/confidence.md); 0.0 for abstentions. A language model's answer carries the confidence of the
    # extractive decision that let it answer (its sentences are shown only where that model sees an answer).
    confidence: float = 0.0
    # A first question with no subject of its own that several stories match: the question back, with the
    # stories to choose from (ask again with ``document=story.doc_id``); such an answer counts as abstaining.
    clarify: list[Story] = field(default_factory=list)
    # A time expression of the question applied as a date filter, e.g. 'articles published 2026-11-01 to
    # 2026-11-30 (“last month”)'; empty when none was (rag/retrieval/dates.py).
    time_filter: str = ""

    def to_json(self, question: str) -> dict[str, object]:
        return {
            "question": question,
            "answer": self.text,
            "abstained": self.abstained,
            "confidence": round(self.confidence, 3),
            "citations": [c.to_json() for c in self.citations],
            "search_query": self.query or question,
            "notice": self.notice,
            "verification": {"generated": self.generated, "removed": self.removed, "repointed": self.repointed},
            "clarify": [story.to_json() for story in self.clarify],
            "time_filter": self.time_filter,
        }
