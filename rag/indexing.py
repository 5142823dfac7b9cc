"""Bring the index in line with the article files: add, update, skip, prune.

Crash safety comes from the order of writes for each batch of documents:
vectors are upserted (ids are content hashes, so a repeat is harmless), stale
vectors are deleted, and only then does the SQLite transaction record the
document's new hash. A run killed at any point leaves the old hash in SQLite,
so the next run simply redoes that document, with no duplicate chunks.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .loaders import FileError, discover, load_file
from .schema import Chunk, Document
from .settings import Settings
from .store import Index, WriteLock, wipe


@dataclass
class IndexReport:
    docs_added: int = 0
    docs_updated: int = 0
    docs_unchanged: int = 0
    docs_removed: int = 0
    docs_duplicate: int = 0
    chunks_added: int = 0
    chunks_deleted: int = 0
    chunks_total: int = 0
    duplicates: list[dict[str, str]] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["errors"] = [e.to_json() for e in self.errors]
        data["seconds"] = round(self.seconds, 3)
        return data

    def summary(self) -> str:
        return (
            f"{self.docs_added} added, {self.docs_updated} updated, {self.docs_unchanged} unchanged, "
            f"{self.docs_removed} removed, {self.docs_duplicate} duplicates skipped; "
            f"{self.chunks_added} chunks added, {self.chunks_deleted} deleted, {self.chunks_total} in the index; "
            f"{len(self.errors)} files skipped; {self.seconds:.1f} s"
        )


def file_key(path: Path, corpus_dir: Path) -> str:
    """Name of a file in the index: relative to the corpus when inside it."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(os.path.abspath(corpus_dir)).as_posix()
        return "" if relative == "." else relative
    except ValueError:
        return absolute.as_posix()


def _in_scope(key: str, scopes: list[str]) -> bool:
    return any(s == "" or key == s or key.startswith(s.rstrip("/") + "/") for s in scopes)


def sync(
    settings: Settings,
    paths: Sequence[Path] | None = None,
    *,
    prune: bool = True,
    rebuild: bool = False,
    progress: bool | None = None,
) -> IndexReport:
    """Index ``paths`` (default: the corpus folder) incrementally."""
    started = time.perf_counter()
    show = sys.stderr.isatty() if progress is None else progress
    roots = [Path(p) for p in (paths or [settings.corpus_dir])]
    report = IndexReport()
    with WriteLock(settings.index_dir):
        if rebuild:
            wipe(settings)
        index = Index(settings, create=True)
        try:
            _sync(index, roots, report, prune=prune, show=show)
            report.chunks_total = index.vectors.count()
        finally:
            index.close()
    report.seconds = time.perf_counter() - started
    return report


def _sync(index: Index, roots: list[Path], report: IndexReport, *, prune: bool, show: bool) -> None:
    corpus = index.settings.corpus_dir
    files, errors = discover(roots)
    report.errors.extend(FileError(file_key(Path(e.path), corpus), e.error) for e in errors)
    stored = index.docs.hashes()

    documents: list[Document] = []
    errored_paths: set[str] = set()
    max_bytes = int(index.settings.max_file_mb * 1024 * 1024)
    for path in _bar(files, show, "reading", "file"):
        key = file_key(path, corpus)
        loaded = load_file(path, key, max_bytes)
        documents.extend(loaded.documents)
        report.errors.extend(loaded.errors)
        if loaded.errors:
            errored_paths.add(key)

    # The same text twice is indexed once; a copy already indexed keeps its id.
    documents.sort(key=lambda d: (stored.get(d.doc_id, ("", ""))[0] != d.content_hash, d.path, d.doc_id))
    by_hash: dict[str, Document] = {}
    by_id: dict[str, Document] = {}
    unique: list[Document] = []
    for doc in documents:
        text_hash = hashlib.sha256(doc.text.strip().encode()).hexdigest()
        first = by_hash.get(text_hash) or by_id.get(doc.doc_id)
        if first is not None:
            report.duplicates.append({"path": doc.path, "doc_id": doc.doc_id, "duplicate_of": first.doc_id})
            continue
        by_hash[text_hash] = by_id[doc.doc_id] = doc
        unique.append(doc)
    report.docs_duplicate = len(report.duplicates)

    changed = []
    for doc in unique:
        old = stored.get(doc.doc_id)
        if old is not None and old[0] == doc.content_hash:
            report.docs_unchanged += 1
        else:
            changed.append(doc)
            if old is None:
                report.docs_added += 1
            else:
                report.docs_updated += 1
    _write(index, changed, report, show)

    if prune:
        scopes = [file_key(r, corpus) for r in roots if r.exists()]
        seen = set(by_id)
        gone = [
            doc_id
            for doc_id, (_, path) in stored.items()
            if doc_id not in seen and path not in errored_paths and _in_scope(path, scopes)
        ]
        for doc_id in gone:
            ids = index.docs.chunk_ids(doc_id)
            index.vectors.delete(ids)  # vectors first: a crash here is redone next run
            index.docs.remove([doc_id])
            report.chunks_deleted += len(ids)
        report.docs_removed = len(gone)


def _write(index: Index, changed: list[Document], report: IndexReport, show: bool) -> None:
    """Chunk, embed and store changed documents, a batch at a time.

    Documents are chunked as their batch is reached, so at most one write batch of chunks (and
    its vectors) is in memory, however large the corpus.
    """
    if not changed:
        return
    plans = ((doc, index.chunker.run(doc), set(index.docs.chunk_ids(doc.doc_id))) for doc in changed)
    bar = _bar(None, show, "indexing", "doc", total=len(changed))
    for batch in _batches(plans, index.settings.write_batch):
        new = [(doc, c) for doc, chunks, old in batch for c in chunks if c.chunk_id not in old]
        if new:
            vectors = index.embedder.embed([c.text for _, c in new])
            index.vectors.upsert(new, vectors)
        stale = [i for doc, chunks, old in batch for i in old - {c.chunk_id for c in chunks}]
        index.vectors.delete(stale)
        index.docs.replace((doc, chunks) for doc, chunks, _ in batch)
        report.chunks_added += len(new)
        report.chunks_deleted += len(stale)
        bar.update(len(batch))
    bar.close()


def _batches(
    plans: Iterable[tuple[Document, list[Chunk], set[str]]], limit: int
) -> Iterator[list[tuple[Document, list[Chunk], set[str]]]]:
    batch: list[tuple[Document, list[Chunk], set[str]]] = []
    size = 0
    for plan in plans:
        batch.append(plan)
        size += len(plan[1])
        if size >= limit:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _bar(items: Any, show: bool, desc: str, unit: str, total: int | None = None) -> Any:
    from tqdm import tqdm

    return tqdm(items, total=total, desc=desc, unit=unit, disable=not show, file=sys.stderr, leave=False)
