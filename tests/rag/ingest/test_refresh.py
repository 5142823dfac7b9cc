"""Subscriptions refreshed against a loopback news site: conditional GET, changed articles, failures
and backoff, removal, and the watcher's clean stop. Slow: refreshing indexes with the real model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from rag.api import close_all, search, stats
from rag.cli import main
from rag.index.locks import WriteLock
from rag.ingest import refresh
from rag.ingest.feeds import feed_folder
from tests.feed_site import Served

BODY = "The Loopback city council approved a new {thing} along the river on Tuesday evening after a long debate."


def rag(settings, capsys, *args: str) -> tuple[int, str]:
    code = main([*args, "--index-dir", str(settings.index_dir), "--corpus-dir", str(settings.corpus_dir)])
    return code, capsys.readouterr().out


def watch_once(settings, capsys) -> dict:
    code, out = rag(settings, capsys, "watch", "--once", "--json")
    assert code == 0, out
    close_all()
    return json.loads(out)


def state(settings, capsys) -> dict[str, dict]:
    code, out = rag(settings, capsys, "feeds", "list", "--json")
    assert code == 0
    return {row["url"]: row for row in json.loads(out)}


def test_refresh_reads_new_and_changed_articles_and_a_304_costs_one_request(settings, site, capsys) -> None:
    site.page("lane", "Lane", BODY.format(thing="cycling lane"))
    url = site.feed([("lane", "Cycling lane approved")])
    assert rag(settings, capsys, "feeds", "add", url, "--every", "30", "--source", "Gazette")[0] == 0

    first = watch_once(settings, capsys)
    assert first["feeds"][0]["status"] == "updated" and first["indexed"]["docs_added"] == 1
    hits = search("cycling lane river", 1, settings=settings)
    assert hits[0].source == "Gazette" and hits[0].doc_id == f"{site.base}/lane.html"

    site.requests.clear()
    unchanged = watch_once(settings, capsys)["feeds"][0]
    assert unchanged["status"] == "not-modified" and site.paths() == ["/feed.xml"]
    assert (unchanged["requests"], unchanged["bytes"]) == (1, 0)
    assert site.requests[0][1].get("If-None-Match")

    # A new item, and the known one changed (new title, new page text): both read, the old text replaced.
    site.page("lane", "Lane", BODY.format(thing="tram line"))
    site.page("ferry", "Ferry", BODY.format(thing="night ferry"))
    site.feed([("ferry", "Night ferry returns"), ("lane", "Tram line approved instead")])
    site.requests.clear()
    changed = watch_once(settings, capsys)
    assert sorted(site.paths()) == ["/feed.xml", "/ferry.html", "/lane.html"]
    assert (changed["feeds"][0]["new"], changed["feeds"][0]["changed"]) == (1, 1)
    assert (changed["indexed"]["docs_added"], changed["indexed"]["docs_updated"]) == (1, 1)
    lane = [h for h in search("tram line river", 5, settings=settings) if h.doc_id.endswith("/lane.html")]
    assert lane and "tram line" in lane[0].text and "cycling" not in lane[0].text

    row = state(settings, capsys)[url]
    assert (row["articles_added"], row["failures"], row["last_error"], row["every_minutes"]) == (2, 0, "", 30)
    assert row["last_success"] and row["next_due"] > row["last_success"]


def test_a_failing_feed_backs_off_records_its_error_and_never_stops_the_others(settings, site, capsys) -> None:
    site.page("lane", "Lane", BODY.format(thing="cycling lane"))
    good = site.feed([("lane", "Cycling lane approved")])
    bad = site.base + "/bad.xml"
    site.pages["/bad.xml"] = Served("text/plain", b"", 500)
    for url in (good, bad):
        refresh.add_feed(settings, url)

    report = watch_once(settings, capsys)
    outcome = {f["url"]: f for f in report["feeds"]}
    assert outcome[good]["status"] == "updated" and outcome[bad]["status"] == "failed"
    assert "HTTP 500" in outcome[bad]["error"]
    subs = {s.url: s for s in refresh.list_feeds(settings)}
    assert subs[bad].failures == 1 and subs[bad].next_due - subs[bad].last_attempt == pytest.approx(5 * 60)

    # Not due yet: a refresh of due feeds leaves it alone; forced, it fails again and waits twice as long.
    assert refresh.refresh(settings).feeds == []
    refresh.refresh(settings, due_only=False, urls=[bad])
    sub = next(s for s in refresh.list_feeds(settings) if s.url == bad)
    assert sub.failures == 2 and sub.next_due - sub.last_attempt == pytest.approx(10 * 60)

    # Broken in other ways: each is an error of that feed, and the index does not change.
    before = search("cycling lane river", 5, settings=settings)
    for served in (Served("text/html", b"<html><body>Not found, sorry</body></html>"),
                   Served("application/rss+xml", b"<rss>" + b"x" * (6 * 1024 * 1024) + b"</rss>"),
                   Served("application/rss+xml", b"", 429, (("Retry-After", "7200"),))):
        site.pages["/bad.xml"] = served
        result = refresh.refresh(settings, due_only=False, urls=[bad]).feeds[0]
        assert result.status == "failed" and result.error
    assert next(s for s in refresh.list_feeds(settings) if s.url == bad).next_due >= time.time() + 7000
    close_all()
    assert search("cycling lane river", 5, settings=settings) == before

    # Fixed: one success resets the failures.
    site.pages["/bad.xml"] = site.pages["/feed.xml"]
    refresh.refresh(settings, due_only=False, urls=[bad])
    sub = next(s for s in refresh.list_feeds(settings) if s.url == bad)
    assert (sub.failures, sub.last_error) == (0, "")


def test_an_index_that_cannot_be_written_fails_the_refresh_and_records_nothing(settings, site, capsys) -> None:
    site.page("lane", "Lane", BODY.format(thing="cycling lane"))
    url = site.feed([("lane", "Cycling lane approved")])
    refresh.add_feed(settings, url)
    with WriteLock(settings.index_dir):
        code = main(["watch", "--once", "--index-dir", str(settings.index_dir)])
    assert code == 1 and "another process is writing" in capsys.readouterr().err
    sub = refresh.list_feeds(settings)[0]
    assert (sub.last_attempt, sub.entries, sub.etag) == (0.0, {}, "")


def test_remove_keeps_articles_unless_purged(settings, site, capsys) -> None:
    site.page("lane", "Lane", BODY.format(thing="cycling lane"))
    url = site.feed([("lane", "Cycling lane approved")])
    refresh.add_feed(settings, url)
    watch_once(settings, capsys)
    assert rag(settings, capsys, "feeds", "remove", url)[0] == 0
    assert state(settings, capsys) == {}
    assert search("cycling lane river", 1, settings=settings)[0].doc_id.endswith("/lane.html")

    refresh.add_feed(settings, url)
    code, out = rag(settings, capsys, "feeds", "remove", url, "--purge")
    assert code == 0 and "1 of its articles removed" in out
    close_all()
    assert not feed_folder(settings.corpus_dir, url).exists()
    assert stats(settings).documents == 0
    assert main(["feeds", "remove", url, "--index-dir", str(settings.index_dir)]) == 1
    assert "no subscription" in capsys.readouterr().err


def test_watch_refreshes_when_due_and_stops_cleanly(settings, site, capsys) -> None:
    site.page("lane", "Lane", BODY.format(thing="cycling lane"))
    url = site.feed([("lane", "Cycling lane approved")])
    refresh.add_feed(settings, url)
    stop, reports = threading.Event(), []
    watcher = threading.Thread(target=refresh.watch, args=(settings, stop.is_set),
                               kwargs={"poll": 0.2, "on_report": reports.append})
    watcher.start()
    deadline = time.time() + 60
    while not reports and time.time() < deadline:
        time.sleep(0.1)
    stop.set()
    watcher.join(timeout=30)
    assert not watcher.is_alive() and reports[0].feeds[0].status == "updated"

    # The command: Ctrl+C (SIGINT) finishes the round under way and exits 0; a second watcher is refused.
    env = {**os.environ, "RAG_INDEX_DIR": str(settings.index_dir), "RAG_CORPUS_DIR": str(settings.corpus_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "rag", "watch"], env=env, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    assert "watching" in line
    second = subprocess.run([sys.executable, "-m", "rag", "watch"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert second.returncode == 1 and "watching the feeds" in second.stderr
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGINT):  # impatient: signals in a row stop it once
        proc.send_signal(sig)
        time.sleep(0.05)
    assert proc.wait(timeout=10) == 0 and "stopped" in proc.stderr.read()
