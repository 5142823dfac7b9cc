"""Indexing against a real Chroma store on disk and the real embedding model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag.index import sync as sync_module
from rag.index.local_cache import LocalCache
from rag.embedding.embedders import Embedder
from rag.errors import IndexEmptyError, IndexLockedError, IndexMismatchError
from rag.index.sync import sync
from rag.settings import Settings
from rag.index.facade import Index
from rag.index.locks import WriteLock
from rag.index.chroma_vectors import COLLECTION, chroma_client

pytestmark = pytest.mark.slow  # the real model, servers or a browser


def consistent(settings: Settings) -> tuple[int, int]:
    """Check both stores agree and every chunk satisfies the offsets invariant."""
    index = Index(settings)
    try:
        docs, chunks = index.docs.counts()
        assert index.docs.without_vectors() == []  # asked first: opening Chroma (index.vectors) copies missing ones
        rows = index.docs.conn.execute('SELECT chunk_id, doc_id, start, "end", text FROM chunks').fetchall()
        assert index.vectors.all_ids() == {r[0] for r in rows}
        cached, stored = index.docs.vectors([r[0] for r in rows]), index.vectors.embeddings([r[0] for r in rows])
        assert cached.keys() == stored.keys() and all(np.allclose(cached[i], stored[i], atol=1e-6) for i in stored)
        assert index.vectors.count() == chunks == len(rows)
        texts = {}
        for chunk_id, doc_id, start, end, text in rows:
            if doc_id not in texts:
                texts[doc_id] = index.docs.document(doc_id).text
            assert texts[doc_id][start:end] == text, chunk_id
        got = index.vectors.collection.get(ids=[r[0] for r in rows[:50]], include=["metadatas", "documents"])
        for meta, text in zip(got["metadatas"], got["documents"], strict=True):
            assert texts[meta["doc_id"]][meta["start"] : meta["end"]] == text
        return docs, chunks
    finally:
        index.close()


def test_first_run_indexes_and_second_run_embeds_nothing(settings, corpus, monkeypatch) -> None:
    first = sync(settings)
    assert (first.docs_added, first.docs_unchanged, first.errors) == (3, 0, [])
    assert first.chunks_added == first.chunks_total > 0
    assert consistent(settings) == (3, first.chunks_total)

    calls: list[int] = []
    real = Embedder.embed
    monkeypatch.setattr(Embedder, "embed", lambda self, texts: calls.append(len(texts)) or real(self, texts))
    second = sync(settings)
    assert (second.docs_added, second.docs_updated, second.docs_unchanged, second.chunks_added) == (0, 0, 3, 0)
    assert calls == []
    assert second.chunks_total == first.chunks_total


def test_metadata_and_document_round_trip(settings, write) -> None:
    record = {
        "title": "Port strike ends",
        "text": "Dock workers in Kelvinport ended their strike on Friday after a pay deal.",
        "url": "https://news.example.org/port",
        "published": "2024-06-07T09:30:00Z",
        "source": "Example News",
    }
    write(settings.corpus_dir / "port.json", json.dumps(record))
    sync(settings)
    index = Index(settings)
    doc = index.docs.document("https://news.example.org/port")
    assert (doc.title, doc.source, doc.published.isoformat()) == (
        "Port strike ends", "Example News", "2024-06-07T09:30:00+00:00"
    )
    got = index.vectors.collection.get(include=["metadatas"])
    meta = got["metadatas"][0]
    assert meta["doc_id"] == doc.doc_id and meta["published"] == "2024-06-07T09:30:00+00:00"
    assert meta["published_ts"] == 1717752600 and meta["chunk_index"] == 0
    assert meta["url"] == record["url"] and meta["source"] == "Example News"
    assert index.vectors.collection.metadata["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert index.vectors.collection.metadata["embedding_dim"] == 384
    index.close()


def test_update_delete_and_prune(settings, corpus, write) -> None:
    sync(settings)
    harbour = corpus / "local" / "harbour.txt"
    write(harbour, harbour.read_text() + "\n\nThe mayor promised a second bridge by 2030.")
    (corpus / "local" / "chess.txt").unlink()
    kept = sync(settings, prune=False)
    assert (kept.docs_updated, kept.docs_unchanged, kept.docs_removed) == (1, 1, 0)
    assert kept.chunks_deleted >= 1 and kept.chunks_added >= 1
    assert consistent(settings)[0] == 3  # --no-prune keeps the deleted file's document

    pruned = sync(settings)
    assert (pruned.docs_removed, pruned.docs_unchanged) == (1, 2)
    assert consistent(settings)[0] == 2
    index = Index(settings)
    assert "second bridge" in index.docs.document("local/harbour.txt").text
    index.close()


def counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    real = sync_module.load_file
    monkeypatch.setattr(sync_module, "load_file", lambda path, *a: reads.append(path.name) or real(path, *a))
    return reads


def test_unchanged_files_are_not_read_and_changed_ones_twice(settings, corpus, write, monkeypatch) -> None:
    sync(settings)
    harbour = corpus / "local" / "harbour.txt"
    write(harbour, harbour.read_text() + "\n\nThe mayor promised a second bridge by 2030.")
    reads = counting_reads(monkeypatch)
    report = sync(settings)
    assert report.docs_updated == 1 and report.docs_unchanged == 2
    # First pass: only the file whose stamp changed, keeping no text; second pass: it again, as the writer
    # reaches it. The other files' documents are what they parsed into last time.
    assert reads == ["harbour.txt", "harbour.txt"]
    reads.clear()
    assert sync(settings).docs_unchanged == 3 and reads == []


def test_a_file_is_read_again_when_its_stamp_or_the_parser_changes(settings, corpus, monkeypatch) -> None:
    sync(settings)
    reads = counting_reads(monkeypatch)
    harbour = corpus / "local" / "harbour.txt"
    os.utime(harbour, ns=(harbour.stat().st_atime_ns, harbour.stat().st_mtime_ns + 10**9))  # touched, not edited
    report = sync(settings)
    assert (report.docs_unchanged, reads) == (3, ["harbour.txt"])  # read once, nothing to index
    reads.clear()
    monkeypatch.setattr(sync_module, "parser_version", lambda: "a newer parser")
    assert sync(settings).docs_unchanged == 3 and len(reads) == len(list((corpus / "local").iterdir()))
    reads.clear()
    assert sync(settings, rebuild=True).docs_added == 3 and len(reads) == 2 * len(list((corpus / "local").iterdir()))


def test_a_file_changed_during_the_run_is_reported_and_indexed_next_run(settings, corpus, write, monkeypatch) -> None:
    harbour = corpus / "local" / "harbour.txt"
    real = sync_module.load_file
    edited: list[bool] = []

    def edit_between_passes(path: Path, *args: object) -> object:
        loaded = real(path, *args)
        if path == harbour and not edited:  # after the first pass read it, the file changes
            edited.append(True)
            write(harbour, harbour.read_text() + "\n\nAn update: the toll is dropped.")
        return loaded

    monkeypatch.setattr(sync_module, "load_file", edit_between_passes)
    report = sync(settings)
    assert report.docs_added == 2
    assert [e.error for e in report.errors] == ["changed while being indexed: the next run indexes it"]
    monkeypatch.undo()
    again = sync(settings)
    assert (again.docs_added, again.docs_unchanged, again.errors) == (1, 2, [])
    index = Index(settings)
    assert "the toll is dropped" in index.docs.document("local/harbour.txt").text
    index.close()
    assert consistent(settings)[0] == 3


def test_indexing_a_subfolder_does_not_prune_the_rest(settings, corpus, write) -> None:
    sync(settings)
    write(corpus / "extra" / "new.txt", "Museum reopens\nThe city museum reopened its doors.")
    report = sync(settings, [corpus / "extra"])
    assert (report.docs_added, report.docs_removed) == (1, 0)
    assert consistent(settings)[0] == 4


def test_same_article_under_two_names_is_indexed_once(settings, corpus, write) -> None:
    write(corpus / "copies" / "harbour-copy.txt", (corpus / "local" / "harbour.txt").read_text())
    report = sync(settings)
    assert report.docs_added == 3 and report.docs_duplicate == 1
    assert report.duplicates[0]["duplicate_of"] in {"local/harbour.txt", "copies/harbour-copy.txt"}
    # The copy keeps the id already indexed, even though it sorts first by path.
    again = sync(settings)
    assert (again.docs_unchanged, again.docs_duplicate, again.chunks_added) == (3, 1, 0)


def test_bad_input_is_skipped_and_reported_and_the_rest_indexed(settings, corpus, write) -> None:
    bad = corpus / "bad"
    write(bad / "empty.txt", b"")
    write(bad / "binary.txt", os.urandom(4096))
    write(bad / "broken.html", b"<html><body><div><span></div>")
    write(bad / "broken.json", b'{"title": ')
    write(bad / "broken.rss", b"<rss version='2.0'><channel><item><title>")
    write(bad / "huge.txt", b"Headline\n" + b"word " * 2_200_000)
    (bad / "dangling.txt").symlink_to(bad / "missing.txt")
    (bad / "loop").symlink_to(corpus)
    os.mkfifo(bad / "fifo.txt")
    write(bad / "latin1.txt", "Café owners in Montréal protest\nThe café owners said prices rose.".encode("latin-1"))
    write(bad / "cp1252.txt", "“Smart” headline\nIt cost €5 – they said.".encode("cp1252"))
    report = sync(settings)
    reasons = {e.path: e.error for e in report.errors}
    assert reasons == {
        "bad/empty.txt": "empty file",
        "bad/binary.txt": "binary file",
        "bad/broken.html": "no article text found in HTML",
        "bad/broken.json": "invalid JSON: Expecting value at line 1",
        "bad/broken.rss": reasons["bad/broken.rss"],
        "bad/huge.txt": "file too large (10.5 MB, limit 10.0 MB)",
        "bad/dangling.txt": "unreadable: broken symbolic link",
        "bad/loop": "symlink loop: directory already visited",
        "bad/fifo.txt": "unreadable: not a regular file",
    }
    assert reasons["bad/broken.rss"].startswith("not a valid RSS/Atom feed")
    assert report.docs_added == 5  # three articles and the two legacy-encoded ones
    index = Index(settings)
    assert index.docs.document("bad/latin1.txt").title == "Café owners in Montréal protest"
    assert "€5 –" in index.docs.document("bad/cp1252.txt").text
    index.close()


def test_a_file_that_breaks_keeps_its_indexed_version(settings, corpus, write) -> None:
    sync(settings)
    write(corpus / "local" / "orchard.txt", b"\x00\x01\x02" * 100)
    report = sync(settings)
    assert report.docs_removed == 0 and report.errors[0].path == "local/orchard.txt"
    assert consistent(settings)[0] == 3


def test_a_small_local_index_is_searched_exactly_from_the_cache_without_chroma(settings, corpus) -> None:
    sync(settings)
    index = Index(settings)
    assert index.exact and index._catalog is None and index._vectors is None  # Chroma not opened
    query = index.embedder.embed(["When did the harbour bridge reopen?"])[0]
    exact = index.docs.nearest(query, 3)
    assert [i for i, _ in exact] == [i for i, _ in index.vectors.query(query, 3)]  # Chroma's HNSW agrees
    assert np.allclose([s for _, s in exact], [s for _, s in index.vectors.query(query, 3)], atol=1e-5)
    index.close()
    for name in ("docs.sqlite", "docs.sqlite-wal", "docs.sqlite-shm"):
        (settings.index_dir / name).unlink(missing_ok=True)
    rebuilt = Index(settings)  # the cache is rebuilt from Chroma, vectors included
    assert rebuilt.exact and [i for i, _ in rebuilt.docs.nearest(query, 3)] == [i for i, _ in exact]
    rebuilt.close()


def test_model_mismatch_is_a_clear_error_until_rebuild(settings, corpus) -> None:
    sync(settings)
    # Simulate an index built by another model: rewrite the stored fingerprint, in Chroma (what a
    # writer checks) and in the cache (what a reader that does not open Chroma checks).
    client = chroma_client(settings)
    collection = client.get_collection(COLLECTION)
    collection.modify(metadata={**collection.metadata, "embedding_model": "intfloat/e5-small-v2"})
    docs = LocalCache(settings.index_dir / "docs.sqlite")
    docs.set_fingerprint({**docs.fingerprint(), "embedding_model": "intfloat/e5-small-v2"})
    docs.close()
    with pytest.raises(IndexMismatchError, match=r"embedding_model=intfloat/e5-small-v2.*run `rag index --rebuild`"):
        Index(settings)
    with pytest.raises(IndexMismatchError, match=r"embedding_model=intfloat/e5-small-v2"):
        sync(settings)
    report = sync(settings, rebuild=True)
    assert report.docs_added == 3
    assert consistent(settings)[0] == 3


def test_empty_index_and_lock(settings) -> None:
    with pytest.raises(IndexEmptyError, match="run `rag index`"):
        Index(settings)
    with WriteLock(settings.index_dir), pytest.raises(IndexLockedError):
        sync(settings)


def _many_articles(corpus: Path, count: int) -> None:
    for i in range(count):
        body = " ".join(f"Report {i} sentence {j} on the council budget of district {i}." for j in range(30))
        (corpus / f"a{i:03d}.txt").write_text(f"District {i} budget\n\n{body}")


def _index_process(settings: Settings) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RAG_INDEX_DIR": str(settings.index_dir), "RAG_CORPUS_DIR": str(settings.corpus_dir),
           "RAG_WRITE_BATCH": "8"}
    # A shell running us in the background ignores SIGINT, and children inherit that: restore it.
    return subprocess.Popen([sys.executable, "-m", "rag", "index", "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_some_documents(settings: Settings, proc: subprocess.Popen[bytes]) -> None:
    import sqlite3

    deadline = time.time() + 120
    while time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        db = settings.index_dir / "docs.sqlite"
        if db.exists():
            with sqlite3.connect(db) as conn:
                try:
                    if conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] >= 4:
                        return
                except sqlite3.OperationalError:
                    pass
        time.sleep(0.05)
    raise AssertionError("indexing made no progress")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_run_leaves_a_usable_index_and_the_next_run_completes_it(settings, sig) -> None:
    _many_articles(settings.corpus_dir, 40)
    proc = _index_process(settings)
    _wait_for_some_documents(settings, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and b"interrupted" in err
    else:
        assert proc.returncode == -signal.SIGKILL
    index = Index(settings)  # usable: opens, counts, queries
    done, _ = index.docs.counts()
    assert 4 <= done < 40
    assert index.vectors.query(index.embedder.embed(["budget"])[0], 3)
    index.close()

    report = sync(settings)
    assert report.docs_added == 40 - done and report.docs_unchanged == done
    assert consistent(settings)[0] == 40


# --------------------------------------------------------------------------- one bad article, two stores


def test_hostile_articles_never_stop_the_run(settings, corpus, write, monkeypatch) -> None:
    # Each of these stopped `rag index` before: RecursionError in the chunker, "year 55840 is out of range".
    write(corpus / "world" / "zh.txt", "中国新闻\n\n" + "北京今天宣布新的经济政策以促进增长" * 300)
    write(corpus / "world" / "ms.json", json.dumps({"title": "Exported", "text": "Exported body text.",
                                                     "published": 1700000000000}))
    write(corpus / "world" / "nan.json", '{"title": "NaN date", "text": "Body.", "published": NaN}')
    write(corpus / "world" / "utf16.txt", "Wide text\nIn UTF-16 without a mark.".encode("utf-16-le"))
    real = Embedder.embed

    def embed(self, texts):  # a model failure on one document's text (stands in for a broken input)
        if any("chess" in t for t in texts):
            raise RuntimeError("model failed on this text")
        return real(self, texts)

    monkeypatch.setattr(Embedder, "embed", embed)
    report = sync(settings)
    assert report.docs_added == 6  # everything but chess
    (error,) = report.errors
    assert error.path == "local/chess.txt"
    assert error.error == "embedding failed: RuntimeError: model failed on this text" and "Traceback" in error.detail
    assert [w.path for w in report.warnings] == ["world/nan.json"]
    index = Index(settings)
    assert index.docs.document("world/ms.json").published.year == 2023
    index.close()
    assert consistent(settings)[0] == 6
    monkeypatch.setattr(Embedder, "embed", real)
    assert sync(settings).docs_added == 1  # the failed article is retried and added next run


def test_consistency_check_reports_and_repairs(settings, corpus) -> None:
    from rag.index.sync import check

    first = sync(settings)
    assert first.consistency.ok
    index = Index(settings)
    lost = sorted(index.vectors.all_ids())[:2]
    index.vectors.delete(lost)  # vectors gone behind the document store's back
    doc, chunk = index.docs.chunk_items(lost[:1])[0]
    orphan = chunk.__class__("f" * 32, doc.doc_id, 99, chunk.start, chunk.end, chunk.text)
    index.vectors.upsert([(doc, orphan)], index.embedder.embed([chunk.text]))
    index.close()
    found = check(settings)
    assert (found.orphan_vectors, found.missing_vectors, found.repaired) == (1, 2, False)
    assert check(settings).missing_vectors == 2  # --check changes nothing
    report = sync(settings)
    assert (report.docs_unchanged, report.consistency.repaired) == (3, True)
    assert check(settings).ok and consistent(settings)[0] == 3


def test_a_crashed_rebuild_is_repaired_not_reported_unchanged(settings, corpus) -> None:
    sync(settings)
    client = chroma_client(settings)  # a rebuild that died after deleting the vectors
    client.delete_collection(COLLECTION)
    report = sync(settings)
    assert report.docs_unchanged == 3 and report.consistency.missing_vectors == report.chunks_total > 0
    assert consistent(settings)[0] == 3


def test_an_unreadable_folder_never_prunes_what_was_indexed_from_it(settings, corpus, tmp_path, write) -> None:
    outside = tmp_path / "mounted"
    write(outside / "wire.txt", "Wire story\nA story from the wire service.")
    (corpus / "wire").symlink_to(outside)
    assert sync(settings).docs_added == 4
    outside.rename(tmp_path / "unmounted")  # the folder link is now broken
    report = sync(settings)
    assert report.docs_removed == 0 and report.errors[0].path == "wire"
    assert consistent(settings)[0] == 4


def test_rebuild_keeps_the_document_file_so_readers_notice(settings, corpus) -> None:
    sync(settings)
    reader = Index(settings)
    report = sync(settings, rebuild=True)
    assert report.docs_added == 3 and reader.is_stale()
    reader.close()
