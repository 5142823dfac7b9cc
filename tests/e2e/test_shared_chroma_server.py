"""Several app instances sharing one real `chroma run` server, each with its own empty local folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

import rag
from rag.api import close_all, open_index
from rag.errors import IndexLockedError, StoreUnavailableError
from rag.index.chroma_documents import Catalog
from rag.index.chroma_vectors import chroma_client
from rag.index.locks import Lease
from rag.index.sync import check, sync
from rag.settings import Settings

pytestmark = pytest.mark.slow  # the real model and a real Chroma server


def instance(root: Path, url: str, corpus: Path | None = None) -> Settings:
    """An app instance: its own local folder (only the cache goes there) on the shared server."""
    (root / "corpus").mkdir(parents=True, exist_ok=True)
    return Settings.from_env(index_dir=root / "index", corpus_dir=corpus or root / "corpus", chroma_url=url,
                             sync_seconds=0.5)


def index_in_process(settings: Settings, **env: str) -> subprocess.Popen[bytes]:
    """`rag index` as another instance would run it: a separate process."""
    env = {**os.environ, "RAG_INDEX_DIR": str(settings.index_dir), "RAG_CORPUS_DIR": str(settings.corpus_dir),
           "RAG_CHROMA_URL": settings.chroma_url, **env}
    return subprocess.Popen([sys.executable, "-m", "rag", "index", "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def run_index(settings: Settings) -> None:
    proc = index_in_process(settings)
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()[-3000:]


def write_articles(corpus: Path, articles: dict[str, str]) -> None:
    for name, text in articles.items():
        (corpus / name).write_text(text, encoding="utf-8")


@pytest.fixture(autouse=True)
def _fresh_indexes():
    close_all()
    yield
    close_all()


def test_an_article_indexed_by_one_instance_is_answered_by_another(tmp_path, chroma_server, articles) -> None:
    a, b = instance(tmp_path / "a", chroma_server), instance(tmp_path / "b", chroma_server)
    write_articles(a.corpus_dir, articles)
    run_index(a)

    answer = rag.ask("When did the Kelvinport harbour bridge reopen?", settings=b)
    assert not answer.abstained and "Monday" in answer.text
    for c in answer.citations:
        assert rag.document(c.doc_id, settings=b).text[c.start : c.end] == c.quote
    assert {p.name.partition("-")[0] for p in b.index_dir.iterdir()} == {"docs.sqlite"}  # the cache, no vectors
    assert rag.stats(settings=b).documents == 3

    # A new article through the first instance: the second, still running, answers it within seconds.
    (a.corpus_dir / "ferry.txt").write_text(
        "Night ferry to Oskarholm returns\n\nThe night ferry between Kelvinport and Oskarholm sails again from "
        "June, the operator said. A cabin on the night ferry to Oskarholm costs 38 euros.", encoding="utf-8")
    assert rag.ask("How much is a cabin on the night ferry to Oskarholm?", settings=b).abstained
    run_index(a)
    indexed = time.monotonic()
    while True:
        answer = rag.ask("How much is a cabin on the night ferry to Oskarholm?", settings=b)
        if not answer.abstained:
            break
        assert time.monotonic() - indexed < 10, "the second instance never saw the new article"
        time.sleep(0.2)
    assert "38 euros" in answer.text
    c = answer.citations[0]
    assert rag.document(c.doc_id, settings=b).text[c.start : c.end] == c.quote

    # Indexing an empty corpus through the second instance prunes nothing of the first's.
    assert sync(b, progress=False).docs_removed == 0
    # A deleted article is forgotten by every instance.
    (a.corpus_dir / "ferry.txt").unlink()
    run_index(a)
    time.sleep(0.6)
    assert rag.ask("How much is a cabin on the night ferry to Oskarholm?", settings=b).abstained
    assert rag.stats(settings=b).documents == 3 and check(b).ok


def test_a_writer_killed_mid_run_and_another_instance_converges(tmp_path, chroma_server) -> None:
    corpus = tmp_path / "shared-corpus"
    corpus.mkdir()
    for i in range(40):
        body = " ".join(f"Report {i} sentence {j} on the council budget of district {i}." for j in range(30))
        (corpus / f"a{i:03d}.txt").write_text(f"District {i} budget\n\n{body}")
    a, b = instance(tmp_path / "a", chroma_server, corpus), instance(tmp_path / "b", chroma_server, corpus)
    proc = index_in_process(a, RAG_WRITE_BATCH="8")
    catalog = Catalog(chroma_client(a), create=True)
    deadline = time.monotonic() + 180
    while catalog.count() < 4:
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
        assert time.monotonic() < deadline, "indexing made no progress"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    done = catalog.count()
    assert 4 <= done < 40

    # The dead writer's lease names a process of this machine that is gone: taken over at once.
    report = sync(b, progress=False)
    assert report.docs_added == 40 - done and report.docs_unchanged == done
    assert report.consistency.ok or report.consistency.repaired
    assert check(b).ok and catalog.count() == 40
    index = open_index(b)
    docs, chunks = index.docs.counts()
    assert docs == 40 and index.vectors.count() == chunks  # nothing duplicated, nothing missing
    # The dead instance's own folder catches up when it next opens.
    assert open_index(a).docs.counts() == (docs, chunks)


def test_a_second_writer_waits_for_the_lease(tmp_path, chroma_server, articles) -> None:
    a, b = instance(tmp_path / "a", chroma_server), instance(tmp_path / "b", chroma_server)
    write_articles(b.corpus_dir, articles)
    with Lease(chroma_client(a), 30), pytest.raises(IndexLockedError, match="another instance"):
        sync(b, progress=False)  # different folders: only the lease in the server keeps them apart
    assert sync(b, progress=False).docs_added == 3


def test_a_rebuild_through_one_instance_is_seen_by_the_others(tmp_path, chroma_server, articles) -> None:
    a, b = instance(tmp_path / "a", chroma_server), instance(tmp_path / "b", chroma_server)
    write_articles(a.corpus_dir, articles)
    sync(a, progress=False)
    assert rag.stats(settings=b).documents == 3
    (a.corpus_dir / "chess.txt").unlink()
    sync(a, rebuild=True, progress=False)
    time.sleep(0.6)
    assert rag.stats(settings=b).documents == 2
    assert rag.ask("Who won the national chess championship?", settings=b).abstained
    # A cache deleted by hand is rebuilt from the server.
    close_all()
    for name in ("docs.sqlite", "docs.sqlite-wal", "docs.sqlite-shm"):
        (b.index_dir / name).unlink(missing_ok=True)
    answer = rag.ask("Why was the apple harvest smaller in the Varn valley?", settings=replace(b))
    assert not answer.abstained and "frost" in answer.text


def test_a_server_that_goes_away_is_a_clear_error(tmp_path, articles, start_chroma) -> None:
    with start_chroma(tmp_path / "chroma-server") as url:
        a = instance(tmp_path / "a", url)
        write_articles(a.corpus_dir, articles)
        sync(a, progress=False)
        assert not rag.ask("When did the Kelvinport harbour bridge reopen?", settings=a).abstained
    with pytest.raises(StoreUnavailableError, match=r"Chroma server at http://127\.0\.0\.1:\d+ did not answer"):
        rag.ask("When did the Kelvinport harbour bridge reopen?", settings=a)
    close_all()
    with pytest.raises(StoreUnavailableError, match="cannot reach the Chroma server"):
        rag.search("bridge", settings=a)


def test_instances_share_feed_subscriptions_and_one_refresher_writes(tmp_path: Path, chroma_server: str,
                                                                    site) -> None:
    from rag.ingest import refresh

    a, b = instance(tmp_path / "a", chroma_server), instance(tmp_path / "b", chroma_server)
    site.page("lifeboat", "Lifeboat", "The Quillby lifeboat crew rescued four kayakers off Saltness Point.")
    url = site.feed([("lifeboat", "Quillby lifeboat rescues four kayakers")])
    refresh.add_feed(a, url, 15, "Courier")
    seen = refresh.list_feeds(b)
    assert [(s.url, s.every_minutes, s.source) for s in seen] == [(url, 15, "Courier")]

    with Lease(chroma_client(a), a.lease_seconds), pytest.raises(IndexLockedError):
        refresh.refresh(b, due_only=False)  # another instance holds the writer lease: B does not refresh
    assert refresh.list_feeds(b)[0].last_attempt == 0.0

    report = refresh.refresh(b, due_only=False)
    assert report.feeds[0].new == 1 and report.indexed["docs_added"] == 1
    assert refresh.list_feeds(a)[0].articles_added == 1  # A sees B's refresh
    assert rag.search("lifeboat kayakers rescued", 1, settings=a)[0].source == "Courier"
    refresh.remove_feed(a, url)
    assert refresh.list_feeds(b) == []
