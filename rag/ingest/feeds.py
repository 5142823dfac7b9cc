"""Fetch RSS/Atom feeds and their linked pages into the corpus.

Each entry becomes one JSON article file named after a hash of its link or
guid; an entry whose file exists was fetched before and is not fetched again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from ..errors import FetchError, LoadError
from ..schema import Document
from .loaders import FileError, feed_entry_document, html_document

USER_AGENT = "news-rag/0.1 (+offline-first news Q&A)"
MAX_BYTES = 10 * 1024 * 1024


@dataclass
class FeedResult:
    saved: list[Path] = field(default_factory=list)
    known: int = 0
    errors: list[FileError] = field(default_factory=list)


def fetch(url: str, timeout: float = 20.0) -> tuple[bytes, str]:
    """The body and content type of an http(s) URL."""
    if urlparse(url).scheme not in ("http", "https"):
        raise FetchError(f"{url}: only http and https URLs can be fetched")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(MAX_BYTES + 1)
            kind = response.headers.get_content_charset() or "utf-8"
    except (OSError, ValueError) as exc:
        raise FetchError(f"{url}: {getattr(exc, 'reason', None) or exc}") from exc
    if len(body) > MAX_BYTES:
        raise FetchError(f"{url}: larger than {MAX_BYTES // 1_000_000} MB")
    return body, kind


def fetch_feed(feed_url: str, corpus_dir: Path) -> FeedResult:
    """Save every new entry of a feed as ``corpus/feeds/<host>/<hash>.json``."""
    import feedparser

    body, _ = fetch(feed_url)
    feed = feedparser.parse(body)
    if not feed.entries:
        raise FetchError(f"{feed_url}: not an RSS/Atom feed or no entries")
    host = urlparse(feed_url).hostname or "feed"
    folder = Path(corpus_dir) / "feeds" / _safe(host)
    source = str(feed.feed.get("title") or host)
    result = FeedResult()
    for i, entry in enumerate(feed.entries):
        key = str(entry.get("link") or entry.get("id") or f"{feed_url}#{i}")
        target = folder / f"{hashlib.sha256(key.encode()).hexdigest()[:20]}.json"
        if target.exists():
            result.known += 1
            continue
        try:
            doc = _entry_article(entry, key, source)
        except (FetchError, LoadError) as exc:
            result.errors.append(FileError(key, str(exc)))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        record = {
            "title": doc.title,
            "text": doc.text,
            "url": doc.url,
            "published": doc.published_iso or None,
            "source": doc.source,
        }
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(target)
        result.saved.append(target)
    return result


def _entry_article(entry: object, key: str, source: str) -> Document:
    """The linked page's article; the feed's own text when the page yields none."""
    get = entry.get  # type: ignore[attr-defined]
    link = str(get("link") or "")
    from_feed: Document | None = None
    with contextlib.suppress(LoadError):
        from_feed = feed_entry_document(entry, fallback_id=key, path="", source=source)
    page_error = "entry has no link"
    if link:
        try:
            body, charset = fetch(link)
            page = html_document(body.decode(charset, errors="replace"), doc_id=link, path="", source=source, url=link)
            published = (from_feed.published if from_feed else None) or page.published
            return Document(
                doc_id=link,
                title=str(get("title") or "").strip() or page.title,
                text=page.text,
                url=link,
                published=published,
                source=source,
            )
        except (FetchError, LoadError) as exc:
            page_error = str(exc)
    if from_feed is None:
        raise FetchError(f"no article text: {page_error}")
    return from_feed


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in name)[:80] or "feed"
