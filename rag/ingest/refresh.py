"""Subscribed feeds, refreshed when due: `rag feeds`, `rag watch` and the UI's Feeds panel.

A refresh holds the writer lease (one refresher at a time, across instances sharing a store),
fetches the due feeds a few at a time, indexes the folders of those that brought new or changed
articles, and only then records each feed's new state: if indexing fails, nothing is recorded and
the next refresh reads the same entries again. A feed that fails records its error and waits
longer before each new try (``backoff_minutes``); it never stops the other feeds, never changes
what is indexed, and is never silently disabled.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..errors import ConfigError, FetchError, InputError, RateLimitedError
from ..index.subscriptions import Subscription, SubscriptionStore
from ..settings import Settings
from .feeds import FeedResult, feed_folder, fetch_feed
from .loaders import FileError, describe

MAX_CONCURRENT_FEEDS = 4  # feeds fetched at once in one refresh (each feed's pages one after another)
BACKOFF_FIRST_MINUTES = 5
BACKOFF_MAX_MINUTES = 24 * 60
MIN_EVERY_MINUTES = 1
WATCH_POLL_SECONDS = 30.0  # `rag watch` looks for due feeds (and new subscriptions) this often


def backoff_minutes(failures: int) -> float:
    """5, 10, 20, … minutes after 1, 2, 3, … failures in a row, at most a day."""
    return float(min(BACKOFF_FIRST_MINUTES * 2 ** max(0, failures - 1), BACKOFF_MAX_MINUTES))


@dataclass
class FeedOutcome:
    url: str
    status: str  # updated | unchanged | not-modified | failed
    new: int = 0
    changed: int = 0
    known: int = 0
    requests: int = 0
    bytes: int = 0
    seconds: float = 0.0
    error: str = ""
    entry_errors: list[FileError] = field(default_factory=list)
    next_due: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["entry_errors"] = [e.to_json() for e in self.entry_errors]
        data["seconds"] = round(self.seconds, 3)
        return data


@dataclass
class RefreshReport:
    feeds: list[FeedOutcome] = field(default_factory=list)
    indexed: dict[str, Any] | None = None  # the IndexReport of the folders that changed (None: nothing to index)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"feeds": [f.to_json() for f in self.feeds], "indexed": self.indexed, "seconds": round(self.seconds, 3)}

    def summary(self) -> str:
        if not self.feeds:
            return "no feed was due"
        lines = []
        for f in self.feeds:
            if f.error:
                detail = f"error: {f.error}"
            elif f.status == "not-modified":
                detail = "not modified since the last fetch (304)"
            else:
                detail = f"{f.new} new, {f.changed} changed, {f.known} unchanged"
            lines.append(f"{f.status:<12} {f.url}  {detail}  ({f.requests} requests, {f.bytes} bytes, "
                         f"{f.seconds:.2f} s)")
        if self.indexed:
            lines.append(f"indexed: {self.indexed['docs_added']} added, {self.indexed['docs_updated']} updated")
        return "\n".join(lines)


def _store(settings: Settings) -> SubscriptionStore:
    from ..index.chroma_vectors import chroma_client

    Path(settings.index_dir).mkdir(parents=True, exist_ok=True)
    return SubscriptionStore(chroma_client(settings))


def check_feed_url(url: str) -> str:
    url = url.strip()
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{url!r} is not a feed address: give an http:// or https:// URL")
    return url


def add_feed(settings: Settings, url: str, every_minutes: int = 60, source: str = "") -> Subscription:
    """Subscribe (or change an existing subscription's interval and name); it is due at once."""
    url = check_feed_url(url)
    if every_minutes < MIN_EVERY_MINUTES:
        raise ConfigError(f"--every must be at least {MIN_EVERY_MINUTES} minute")
    store = _store(settings)
    sub = store.get(url) or Subscription(url=url, added_at=time.time())
    sub.every_minutes, sub.source = int(every_minutes), source.strip()
    sub.next_due = min(sub.next_due, time.time()) if sub.failures == 0 else sub.next_due
    store.put(sub)
    return sub


def list_feeds(settings: Settings) -> list[Subscription]:
    return _store(settings).all()


def remove_feed(settings: Settings, url: str, *, purge: bool = False) -> int:
    """Unsubscribe; its articles stay indexed unless ``purge`` (then returns how many were removed)."""
    from ..index.sync import sync_held, writer

    store = _store(settings)
    if store.get(url) is None:
        raise InputError(f"no subscription to {url!r}: see `rag feeds list`")
    with writer(settings) as lease:
        store.delete(url)
        if not purge:
            return 0
        folder = feed_folder(settings.corpus_dir, url)
        if not folder.exists():
            return 0
        shutil.rmtree(folder)
        folder.mkdir(parents=True)  # an empty folder: the sync below prunes its documents
        try:
            return sync_held(settings, lease, [folder], progress=False).docs_removed
        finally:
            folder.rmdir()


def refresh(
    settings: Settings, *, due_only: bool = True, urls: list[str] | None = None, now: float | None = None
) -> RefreshReport:
    """Refresh the due feeds (all, or ``urls``, when not ``due_only``) and index what they brought."""
    from ..index.sync import sync_held, writer

    started = time.perf_counter()
    now = time.time() if now is None else now
    store = _store(settings)
    report = RefreshReport()
    subs = store.all()
    missing = sorted(set(urls or ()) - {s.url for s in subs})
    if missing:
        raise InputError(f"no subscription to {', '.join(missing)}: see `rag feeds list`")
    wanted = [s for s in subs if (not due_only or s.next_due <= now) and (urls is None or s.url in urls)]
    if not wanted:
        return report
    with writer(settings) as lease:
        with ThreadPoolExecutor(MAX_CONCURRENT_FEEDS, thread_name_prefix="rag-feed") as pool:
            fetched = list(pool.map(lambda sub: _fetch(settings, sub), wanted))
        folders = [feed_folder(settings.corpus_dir, sub.url) for sub, result, _ in fetched
                   if isinstance(result, FeedResult) and result.saved]
        if folders:  # an error here propagates: no feed state is recorded, the next refresh reads them again
            report.indexed = sync_held(settings, lease, folders, progress=False).to_json()
        for sub, result, seconds in fetched:
            outcome = _record(sub, result, now, seconds)
            if store.get(sub.url) is not None:  # not removed meanwhile
                store.put(sub)
            report.feeds.append(outcome)
    report.seconds = time.perf_counter() - started
    return report


def _fetch(settings: Settings, sub: Subscription) -> tuple[Subscription, FeedResult | Exception, float]:
    started = time.perf_counter()
    try:
        result: FeedResult | Exception = fetch_feed(sub.url, settings.corpus_dir, known=sub.entries, etag=sub.etag,
                                                    last_modified=sub.last_modified, source=sub.source)
    except Exception as exc:  # one broken feed never stops the others
        result = exc
    return sub, result, time.perf_counter() - started


def _record(sub: Subscription, result: FeedResult | Exception, now: float, seconds: float) -> FeedOutcome:
    """Update a subscription's state from one fetch."""
    sub.last_attempt = now
    if isinstance(result, Exception):
        sub.failures += 1
        sub.last_error = str(result) if isinstance(result, FetchError) else describe(result)
        wait = backoff_minutes(sub.failures) * 60
        if isinstance(result, RateLimitedError):
            wait = max(wait, result.retry_after)
        sub.next_due = now + wait
        return FeedOutcome(sub.url, "failed", requests=1, error=sub.last_error, seconds=seconds, next_due=sub.next_due)
    sub.failures, sub.last_error, sub.last_success = 0, "", now
    sub.next_due = now + sub.every_minutes * 60
    sub.entries.update(result.entries)
    sub.articles_added += result.new
    if not result.not_modified:  # validators only from a changed (200) response
        sub.etag, sub.last_modified = result.etag, result.last_modified
        sub.title = result.title or sub.title
    status = "not-modified" if result.not_modified else "updated" if result.saved else "unchanged"
    return FeedOutcome(sub.url, status, result.new, result.changed, result.known, result.requests, result.bytes,
                       seconds, entry_errors=result.errors, next_due=sub.next_due)


def watch(
    settings: Settings,
    stopped: Callable[[], bool],
    *,
    poll: float = WATCH_POLL_SECONDS,
    on_report: Callable[[RefreshReport | Exception], None] = lambda _: None,
) -> None:
    """Refresh feeds as they fall due until ``stopped()``, which is asked at least every second and never
    during a refresh (a stop lets the refresh under way finish). Errors of a round (the index locked by
    another writer, a store that is down) are reported and the next round tries again.

    It sleeps in short steps rather than waiting on an Event: a signal handler that sets an Event can
    deadlock on the Event's own lock, held by the wait it interrupted."""
    while not stopped():
        try:
            report = refresh(settings)
        except Exception as exc:
            on_report(exc)
        else:
            if report.feeds:
                on_report(report)
        wake = time.monotonic() + _until_due(settings, poll)
        while not stopped() and time.monotonic() < wake:
            time.sleep(min(1.0, max(0.0, wake - time.monotonic())))


def _until_due(settings: Settings, poll: float) -> float:
    try:
        due = [s.next_due for s in list_feeds(settings)]
    except Exception:
        return poll
    return max(0.5, min([poll, *(d - time.time() for d in due)]))
