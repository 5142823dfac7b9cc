"""Bring the index in line with the article files: add, update, skip, prune.

Crash safety comes from the order of writes for each batch of documents:
vectors are upserted (ids are content hashes, so a repeat is harmless), stale
vectors are deleted, and only then is the document with its new hash recorded
(catalog in Chroma, then the change counter, then the local cache). A run
killed at any point leaves the old hash recorded, so the next run simply redoes
that document, with no duplicate chunks; its consistency check removes vectors
the dead run wrote for nothing. One writer at a time: the folder's ``WriteLock``
and the store's ``Lease`` (which also works across machines sharing a server).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import os
import socket
import sys
import time
import traceback
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..ingest.loaders import FileError, describe, discover, load_file
from ..schema import Chunk, Document
from ..settings import Settings
from .chroma_vectors import chroma_client
from .facade import Index, wipe
from .local_cache import LocalCache
from .locks import Lease, WriteLock
from .stories import Stories


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
    errors: list[FileError] = field(default_factory=list)  # files, records or documents skipped
    warnings: list[FileError] = field(default_factory=list)  # indexed, but a field was dropped (a bad date)
    consistency: Consistency | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["errors"] = [e.to_json() for e in self.errors]
        data["warnings"] = [e.to_json() for e in self.warnings]
        data["consistency"] = self.consistency.to_json() if self.consistency else None
        data["seconds"] = round(self.seconds, 3)
        return data

    def summary(self) -> str:
        return (
            f"{self.docs_added} added, {self.docs_updated} updated, {self.docs_unchanged} unchanged, "
            f"{self.docs_removed} removed, {self.docs_duplicate} duplicates skipped; "
            f"{self.chunks_added} chunks added, {self.chunks_deleted} deleted, {self.chunks_total} in the index; "
            f"{len(self.errors)} files skipped; {self.seconds:.1f} s"
        )


@dataclass
class Consistency:
    """Chunk ids in the vector store against those in the document store."""

    orphan_vectors: int = 0  # vectors of no stored chunk: deleted by a repair
    missing_vectors: int = 0  # stored chunks without a vector: re-embedded by a repair
    repaired: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.orphan_vectors or self.missing_vectors)

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "ok": self.ok, "seconds": round(self.seconds, 3)}

    def summary(self) -> str:
        if self.ok:
            return f"stores consistent ({self.seconds:.2f} s)"
        done = "repaired" if self.repaired else "run `rag index` to repair"
        return (f"stores inconsistent: {self.orphan_vectors} orphan vectors, {self.missing_vectors} chunks "
                f"without vectors; {done} ({self.seconds:.2f} s)")


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
    with writer(settings) as lease:
        return sync_held(settings, lease, paths, prune=prune, rebuild=rebuild, progress=progress)


@contextlib.contextmanager
def writer(settings: Settings) -> Iterator[Lease]:
    """Hold this index's ``WriteLock`` and its store's writer ``Lease`` (one writer at a time)."""
    with WriteLock(settings.index_dir), Lease(chroma_client(settings), settings.lease_seconds) as lease:
        yield lease


def sync_held(
    settings: Settings,
    lease: Lease,
    paths: Sequence[Path] | None = None,
    *,
    prune: bool = True,
    rebuild: bool = False,
    progress: bool | None = None,
) -> IndexReport:
    """``sync`` for a caller that holds the writer lease already (the feed refresher)."""
    started = time.perf_counter()
    show = sys.stderr.isatty() if progress is None else progress
    roots = [Path(p) for p in (paths or [settings.corpus_dir])]
    report = IndexReport()
    if rebuild:
        wipe(settings)
    index = Index(settings, create=True)
    try:
        _sync(index, roots, report, lease, prune=prune, show=show)
        lease.check()
        report.consistency = check_stores(index, repair=True)
        report.chunks_total = index.vectors.count()
    finally:
        index.close()
    report.seconds = time.perf_counter() - started
    return report


DELETABLE = ("uploads", "feeds")  # corpus folders whose files the UI may delete: what it or the refresher wrote


def delete_article(settings: Settings, doc_id: str) -> IndexReport:
    """Delete an uploaded or feed article: its file, then its document (the folder is synced, which prunes
    it). A feed's entry stays known, so the refresher does not fetch it again unless the feed changes it."""
    with writer(settings) as lease:
        docs = LocalCache(Path(settings.index_dir) / "docs.sqlite")  # the path only: no need to open the index
        try:
            path = docs.document(doc_id).path
            others = len(docs.documents_from(path)) - 1
        finally:
            docs.close()
        corpus = Path(os.path.abspath(settings.corpus_dir))
        file = Path(os.path.abspath(corpus / path))
        parts = file.relative_to(corpus).parts if path and file.is_relative_to(corpus) else ()
        if len(parts) < 2 or parts[0] not in DELETABLE:
            raise InputError(f"{path or doc_id} is not an uploaded or feed article: remove its file and re-index")
        if others:
            raise InputError(f"{path} holds {others} other articles: edit that file and re-index")
        file.unlink(missing_ok=True)
        return sync_held(settings, lease, [file.parent], progress=False)


def check(settings: Settings) -> Consistency:
    """``rag index --check``: compare the stores, change nothing."""
    index = Index(settings)
    try:
        return check_stores(index, repair=False)
    finally:
        index.close()


def check_stores(index: Index, *, repair: bool) -> Consistency:
    """Compare chunk ids of both stores (two id scans; no texts or vectors are read) and,
    with ``repair``, delete orphan vectors, embed the missing ones and copy into the cache the vectors it lacks."""
    started = time.perf_counter()
    stored = index.docs.all_chunk_ids()
    vectors = index.vectors.all_ids()
    orphans, missing = sorted(vectors - stored), sorted(stored - vectors)
    result = Consistency(len(orphans), len(missing))
    if repair and not result.ok:
        index.vectors.delete(orphans)
        for lo in range(0, len(missing), index.settings.write_batch):
            items = index.docs.chunk_items(missing[lo : lo + index.settings.write_batch])
            embedded = index.embedder.embed([c.text for _, c in items])
            index.vectors.upsert(items, embedded)
            # The cache takes the same vectors: int8 vectors depend slightly on the batch a text is embedded in.
            index.docs.set_vectors({c.chunk_id: v for (_, c), v in zip(items, embedded, strict=True)})
        result.repaired = True
    if repair:
        index.copy_vectors()  # the cache's copies of vectors it lacks (e.g. those just repaired)
    result.seconds = time.perf_counter() - started
    return result


def origin_of(settings: Settings) -> str:
    """Which instance's corpus a document came from: with a shared server, a run prunes only its own."""
    return f"{socket.gethostname()}:{os.path.abspath(settings.corpus_dir)}"


def _sync(index: Index, roots: list[Path], report: IndexReport, lease: Lease, *, prune: bool, show: bool) -> None:
    corpus = index.settings.corpus_dir
    origin = origin_of(index.settings)
    files, errors = discover(roots)
    report.errors.extend(FileError(file_key(Path(e.path), corpus), e.error) for e in errors)
    # A file or folder that could not be read keeps what was indexed from it: never prune under it.
    errored_paths = {e.path for e in report.errors}
    stored = index.docs.hashes()

    # First pass: what each document is, without keeping its text (the corpus is never held in memory).
    # A file whose stamp (size, mtime, inode, parser version) is the one recorded last time is not read:
    # its documents are what it parsed into then.
    found: list[_Seen] = []
    max_bytes = int(index.settings.max_file_mb * 1024 * 1024)
    memos, version = index.docs.file_memos(), parser_version()
    kept: set[str] = set()
    new_memos: dict[str, tuple[str, list[list[str]]]] = {}
    for path in _bar(files, show, "reading", "file"):
        key = file_key(path, corpus)
        stamp = _stamp(path, version, max_bytes)
        memo = memos.get(key)
        if stamp is not None and memo is not None and memo[0] == stamp:
            found.extend(_Seen(*fields, file=path, key=key) for fields in memo[1])  # type: ignore[misc]
            kept.add(key)
            continue
        loaded = load_file(path, key, max_bytes)
        seen = [_Seen(d.doc_id, d.path, d.content_hash, _text_hash(d), path, key) for d in loaded.documents]
        found.extend(seen)
        report.errors.extend(loaded.errors)
        report.warnings.extend(loaded.warnings)
        if loaded.errors:
            errored_paths.add(key)
        elif stamp is not None:
            new_memos[key] = (stamp, [[d.doc_id, d.path, d.content_hash, d.text_hash] for d in seen])

    # The same text twice is indexed once; a copy already indexed keeps its id.
    found.sort(key=lambda d: (stored.get(d.doc_id, ("",))[0] != d.content_hash, d.path, d.doc_id))
    by_hash: dict[str, _Seen] = {}
    by_id: dict[str, _Seen] = {}
    unique: list[_Seen] = []
    for doc in found:
        first = by_hash.get(doc.text_hash) or by_id.get(doc.doc_id)
        if first is not None:
            report.duplicates.append({"path": doc.path, "doc_id": doc.doc_id, "duplicate_of": first.doc_id})
            continue
        by_hash[doc.text_hash] = by_id[doc.doc_id] = doc
        unique.append(doc)
    report.docs_duplicate = len(report.duplicates)

    # Second pass: the changed documents are read again, a file at a time, as the writer reaches them.
    changed = [doc for doc in unique if stored.get(doc.doc_id, ("",))[0] != doc.content_hash]
    failed: set[str] = set()
    documents = _reread(changed, max_bytes, report, failed)
    failed |= _write(index, documents, len(changed), report, lease, origin, show)
    report.docs_unchanged = len(unique) - len(changed)
    report.docs_added = sum(1 for d in changed if d.doc_id not in stored and d.doc_id not in failed)
    report.docs_updated = sum(1 for d in changed if d.doc_id in stored and d.doc_id not in failed)
    # Memos of files not found any more, or whose documents were not what the memo said, are dropped.
    scopes = [file_key(r, corpus) for r in roots if r.exists()]
    doubtful = {d.key for d in changed if d.doc_id in failed}
    forget = [k for k in memos if (k not in kept and _in_scope(k, scopes)) or k in doubtful]
    index.docs.set_file_memos({k: m for k, m in new_memos.items() if k not in doubtful}, forget)

    if prune:
        seen = set(by_id) | failed
        shared = not index.local  # on a shared server, other instances' documents are not ours to prune
        gone = [
            doc_id
            for doc_id, (_, path, owner) in stored.items()
            if doc_id not in seen and _in_scope(path, scopes) and not _in_scope(path, list(errored_paths))
            and not (shared and owner != origin)
        ]
        ids = [i for doc_id in gone for i in index.docs.chunk_ids(doc_id)]
        lease.check()
        index.vectors.delete(ids)  # vectors first: a crash here is redone next run
        if gone:
            index.commit([], gone)
        report.chunks_deleted += len(ids)
        report.docs_removed = len(gone)


@dataclass(frozen=True)
class _Seen:
    """A document as the first pass keeps it: enough to deduplicate it and to find it again, no text."""

    doc_id: str
    path: str
    content_hash: str
    text_hash: str
    file: Path
    key: str  # the file's name in the index (file_key)


def _stamp(path: Path, version: str, max_bytes: int) -> str | None:
    """What must be unchanged for a file's memo to stand in for reading it."""
    try:
        st = path.stat()
    except OSError:
        return None
    return None if st.st_size > max_bytes else f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{version}"


@functools.cache
def parser_version() -> str:
    """Our loader code and the parsers it calls: a new version reads every file again."""
    from importlib.metadata import version

    from .. import schema
    from ..ingest import loaders

    parts = [Path(m.__file__ or "").read_bytes() for m in (loaders, schema)]
    parsers = ("trafilatura", "feedparser", "lxml", "charset-normalizer")
    parts += [f"{name} {version(name)}".encode() for name in parsers]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def _text_hash(doc: Document) -> str:
    return hashlib.sha256(doc.text.strip().encode()).hexdigest()


def _reread(changed: list[_Seen], max_bytes: int, report: IndexReport, failed: set[str]) -> Iterator[Document]:
    """The changed documents, loaded again file by file. One that is gone or different from the first
    pass (its file changed during the run) is reported and left as it was: the next run indexes it."""
    for file, group in itertools.groupby(changed, key=lambda d: d.file):
        wanted = list(group)
        loaded = {(d.doc_id, d.content_hash): d for d in load_file(file, wanted[0].key, max_bytes).documents}
        for seen in wanted:
            doc = loaded.get((seen.doc_id, seen.content_hash))
            if doc is None:
                failed.add(seen.doc_id)
                report.errors.append(FileError(seen.path, "changed while being indexed: the next run indexes it"))
            else:
                yield doc


def _write(
    index: Index,
    changed: Iterable[Document],
    total: int,
    report: IndexReport,
    lease: Lease,
    origin: str,
    show: bool,
) -> set[str]:
    """Chunk, embed and store changed documents, a batch at a time.

    Documents are chunked as their batch is reached, so at most one write batch of chunks (and
    its vectors) is in memory, however large the corpus. A document whose chunking or embedding
    fails is reported and left as it was (its old version stays indexed); the rest go on.
    Failures of the stores themselves propagate. Returns the ids of the documents that failed.
    """
    failed: set[str] = set()
    stories: Stories | None = None  # built when there is something to write: it reads every signature
    bar = _bar(None, show, "indexing", "doc", total=total)
    for batch in _batches(_plans(index, changed, report, failed), index.settings.write_batch):
        kept, new, vectors = _embed(index, batch, report)
        failed |= {doc.doc_id for doc, _, _ in batch} - {doc.doc_id for doc, _, _ in kept}
        batch = kept
        lease.check()
        if new:
            index.vectors.upsert(new, vectors)
        stale = [i for doc, chunks, old in batch for i in old - {c.chunk_id for c in chunks}]
        index.vectors.delete(stale)
        if batch:
            new_vectors = dict(zip([c.chunk_id for _, c in new], vectors, strict=True)) if new else {}
            stories = stories or Stories(index.docs)
            assigned = {doc.doc_id: stories.assign(doc) for doc, _, _ in batch}
            index.commit([(doc, chunks) for doc, chunks, _ in batch], origin=origin, vectors=new_vectors,
                         stories=assigned)
            stories.save()
        report.chunks_added += len(new)
        report.chunks_deleted += len(stale)
        bar.update(len(batch))
    bar.close()
    return failed


Plan = tuple[Document, list[Chunk], set[str]]  # a document, its new chunks, the ids of its stored ones
Items = list[tuple[Document, Chunk]]


def _plans(index: Index, changed: Iterable[Document], report: IndexReport, failed: set[str]) -> Iterator[Plan]:
    for doc in changed:
        try:
            chunks = index.chunker.run(doc)
        except Exception as exc:
            _fail(report, doc, "chunking", exc)
            failed.add(doc.doc_id)
            continue
        yield doc, chunks, set(index.docs.chunk_ids(doc.doc_id))


def _embed(index: Index, batch: list[Plan], report: IndexReport) -> tuple[list[Plan], Items, Any]:
    """Vectors for the batch's new chunks; if the batch fails, each document alone, so
    only a document that breaks the model is left out.

    Chunks whose vectors are stored already (a run killed before it recorded its documents, an
    index from before the catalog) count as old: ids are content hashes, so the vector is the same.
    """
    candidates = [c.chunk_id for _, chunks, old in batch for c in chunks if c.chunk_id not in old]
    have = index.vectors.existing(candidates)
    batch = [(doc, chunks, old | (have & {c.chunk_id for c in chunks})) for doc, chunks, old in batch]
    new = [(doc, c) for doc, chunks, old in batch for c in chunks if c.chunk_id not in old]
    try:
        return batch, new, index.embedder.embed([c.text for _, c in new])
    except Exception:
        if len(batch) == 1:
            _fail(report, batch[0][0], "embedding", sys.exc_info()[1])  # type: ignore[arg-type]
            return [], [], None
    kept: list[Plan] = []
    items: Items = []
    vectors = []
    for plan in batch:
        part = [(plan[0], c) for c in plan[1] if c.chunk_id not in plan[2]]
        try:
            vectors.append(index.embedder.embed([c.text for _, c in part]))
        except Exception as exc:
            _fail(report, plan[0], "embedding", exc)
            continue
        kept.append(plan)
        items.extend(part)
    return kept, items, np.concatenate(vectors) if vectors else None


def _fail(report: IndexReport, doc: Document, step: str, exc: Exception) -> None:
    detail = "".join(traceback.format_exception(exc))
    report.errors.append(FileError(doc.path or doc.doc_id, f"{step} failed: {describe(exc)}", detail))


def _batches(plans: Iterable[Plan], limit: int) -> Iterator[list[Plan]]:
    batch: list[Plan] = []
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
