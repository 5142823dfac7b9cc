"""The Feeds panel of the Articles tab, and the feed watcher ``rag serve`` runs beside the UI.

The watcher is its own process (`rag watch`): fetching and indexing never slow the UI's answers, and
its ``watch.lock`` keeps it to one per index, however often the UI is started or reloaded.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import gradio as gr

from rag.errors import IndexLockedError, RagError
from rag.ingest import refresh
from rag.settings import Settings

LOCK_PATIENCE = 30.0  # seconds a button waits for another writer (a refresh of new entries takes a few)
T = TypeVar("T")
COLUMNS = ["Feed", "Source", "Every (min)", "Last success", "Next due", "Failures", "Last error", "Articles added"]


def _when(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).astimezone().strftime("%Y-%m-%d %H:%M") if stamp else "never"


def feed_rows(settings: Settings) -> list[list[Any]]:
    """One row a subscription, for the panel's table."""
    try:
        subs = refresh.list_feeds(settings)
    except RagError:
        return []
    return [[s.url, s.source or s.title, s.every_minutes, _when(s.last_success),
             "now" if s.next_due <= datetime.now().timestamp() else _when(s.next_due), s.failures,
             s.last_error, s.articles_added] for s in subs]


def selected_url(evt: gr.SelectData) -> str:
    """The feed URL of the row clicked: the form then acts on it."""
    row = evt.row_value or []
    return str(row[0]) if row else ""


def add(settings: Settings, url: str, every: float | None, source: str) -> str:
    sub = refresh.add_feed(settings, url or "", int(every or 60), source or "")
    return f"Subscribed to {sub.url}, every {sub.every_minutes} min. “Refresh now” fetches it at once."


def patiently(call: Callable[[], T], seconds: float = LOCK_PATIENCE) -> T:
    """``call``, tried again while another writer (the watcher's refresh, an upload) holds the index."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except IndexLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def remove(settings: Settings, url: str, purge: bool) -> str:
    removed = patiently(lambda: refresh.remove_feed(settings, (url or "").strip(), purge=purge))
    kept = f"{removed} of its articles removed from the index." if purge else "Its articles stay in the index."
    return f"Unsubscribed from {url}. {kept}"


def refresh_now(settings: Settings, url: str) -> str:
    """Refresh one feed (the URL given) or all of them, now."""
    urls = [url.strip()] if url and url.strip() else None
    report = patiently(lambda: refresh.refresh(settings, due_only=False, urls=urls))
    if not report.feeds:
        return "No feeds yet: add one above."
    parts = []
    for f in report.feeds:
        if f.error:
            parts.append(f"{f.url}: failed ({f.error}); next try {_when(f.next_due)}")
        else:
            parts.append(f"{f.url}: {f.new} new, {f.changed} changed")
    return " · ".join(parts)


def _stop_with_parent() -> None:
    """In the child: a SIGTERM when the UI process dies, however it dies (Linux; elsewhere atexit only)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_watcher(settings: Settings) -> subprocess.Popen[bytes] | None:
    """Run `rag watch` for this index in its own process (``RAG_WATCH=0``: not at all); stopped at exit."""
    if not settings.watch:
        return None
    command = [sys.executable, "-m", "rag", "watch", "--index-dir", str(settings.index_dir),
               "--corpus-dir", str(settings.corpus_dir)]
    if settings.chroma_url:
        command += ["--chroma-url", settings.chroma_url]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, preexec_fn=_stop_with_parent)

    def stop() -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # the refresh under way finishes, then it exits
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()

    atexit.register(stop)
    return process
