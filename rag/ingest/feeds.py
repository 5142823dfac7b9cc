"""Read RSS/Atom feeds and their linked pages into the corpus.

Each entry becomes one JSON article file in the feed's folder, named after a hash of its link or
guid (the document id is the link, so a changed article replaces its old chunks). An entry is read
again only when the feed says it changed: its title, dates or summary (``entry_hash``). Feeds and
pages are fetched as bytes with a timeout (rag/ingest/fetch.py) and the bytes parsed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..errors import FetchError, LoadError
from ..schema import Document
from .fetch import fetch
from .loaders import FileError, feed_entry_document, html_document

MAX_ENTRIES = 100  # entries read per fetch of one feed, in the feed's order (newest first, as feeds list them)
FEED_MAX_BYTES = 5 * 1024 * 1024


@dataclass
class FeedResult:
    title: str = ""
    saved: list[Path] = field(default_factory=list)  # articles written: new entries and changed ones
    new: int = 0
    changed: int = 0
    known: int = 0  # entries unchanged since they were read
    errors: list[FileError] = field(default_factory=list)
    entries: dict[str, str] = field(default_factory=dict)  # entry key -> entry_hash, of every entry read or known
    not_modified: bool = False  # the server answered 304: nothing was read
    etag: str = ""
    last_modified: str = ""
    requests: int = 0
    bytes: int = 0


def feed_folder(corpus_dir: Path, url: str) -> Path:
    """``corpus/feeds/<host>-<hash of the URL>``: one folder a feed, so removing one touches no other."""
    host = urlparse(url).hostname or "feed"
    return Path(corpus_dir) / "feeds" / f"{_safe(host)}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"


def entry_file(folder: Path, key: str) -> Path:
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()[:20]}.json"


def entry_hash(entry: Any) -> str:
    """What says an entry changed: its title, dates and summary as the feed gives them."""
    get = functools.partial(dict.get, entry)  # dict's own get: feedparser's maps "updated" to "published", warning
    content = get("content") or [{}]
    parts = [get("title"), get("updated"), get("published"), get("summary"), content[0].get("value")]
    return hashlib.sha256(json.dumps([str(p or "") for p in parts]).encode()).hexdigest()[:16]


def parse_feed(body: bytes, url: str) -> Any:
    """feedparser's reading of a feed's bytes; an error for what is not a feed or declares its own entities."""
    import feedparser

    if b"<!ENTITY" in body[:65536].upper():
        raise FetchError(f"{url}: the feed declares its own XML entities (refused: entity expansion attacks)")
    parsed = feedparser.parse(body)
    if not parsed.entries:
        raise FetchError(f"{url}: not an RSS/Atom feed or no entries")
    return parsed


def known_entries(folder: Path) -> dict[str, str]:
    """Entry key -> entry_hash of the articles saved in a folder (for a one-off ``rag index --feed``)."""
    known: dict[str, str] = {}
    for path in folder.glob("*.json"):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            record = json.loads(path.read_text(encoding="utf-8"))
            known[str(record["entry"])] = str(record.get("entry_hash", ""))
    return known


def fetch_feed(
    url: str,
    corpus_dir: Path,
    *,
    known: dict[str, str] | None = None,
    etag: str = "",
    last_modified: str = "",
    source: str = "",
) -> FeedResult:
    """Save the new and changed entries of a feed in its folder. ``known``: entry key -> entry_hash of
    entries read before (default: those saved in the folder); ``source``: the name shown for its articles
    (default: the feed's title)."""
    folder = feed_folder(corpus_dir, url)
    known = known_entries(folder) if known is None else known
    response = fetch(url, etag=etag, last_modified=last_modified, max_bytes=FEED_MAX_BYTES)
    result = FeedResult(requests=1, bytes=len(response.body), not_modified=response.not_modified,
                        etag=response.etag, last_modified=response.last_modified)
    if response.not_modified:
        result.entries = dict(known)
        return result
    feed = parse_feed(response.body, url)
    result.title = str(feed.feed.get("title") or "")
    name = source or result.title or urlparse(url).hostname or "feed"
    for i, entry in enumerate(feed.entries[:MAX_ENTRIES]):
        key = str(entry.get("link") or entry.get("id") or f"{url}#{i}")
        digest = entry_hash(entry)
        if known.get(key) == digest:
            result.known += 1
            result.entries[key] = digest
            continue
        try:
            doc = _entry_article(entry, key, name, result)
        except (FetchError, LoadError) as exc:
            result.errors.append(FileError(key, str(exc)))
            continue
        _save(entry_file(folder, key), doc, key, digest)
        result.saved.append(entry_file(folder, key))
        result.entries[key] = digest
        if key in known:
            result.changed += 1
        else:
            result.new += 1
    return result


def _save(target: Path, doc: Document, key: str, digest: str) -> None:
    record = {"title": doc.title, "text": doc.text, "url": doc.url, "published": doc.published_iso or None,
              "source": doc.source, "entry": key, "entry_hash": digest}
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(target)


def _entry_article(entry: Any, key: str, source: str, counts: FeedResult) -> Document:
    """The linked page's article; the feed's own text when the page yields none."""
    link = str(entry.get("link") or "")
    from_feed: Document | None = None
    with contextlib.suppress(LoadError):
        from_feed = feed_entry_document(entry, fallback_id=key, path="", source=source)
    page_error = "entry has no link"
    if link:
        try:
            counts.requests += 1
            page = fetch(link)
            counts.bytes += len(page.body)
            article = html_document(page.body.decode(page.charset, errors="replace"), doc_id=link, path="",
                                    source=source, url=link)
            published = (from_feed.published if from_feed else None) or article.published
            title = str(entry.get("title") or "").strip() or article.title
            return Document(doc_id=link, title=title, text=article.text, url=link, published=published,
                            source=source)
        except (FetchError, LoadError, LookupError) as exc:
            page_error = str(exc)
    if from_feed is None:
        raise FetchError(f"no article text: {page_error}")
    return from_feed


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in name)[:80] or "feed"
