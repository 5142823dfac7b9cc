"""Feed subscriptions, kept in the Chroma store beside the documents.

With a Chroma server every instance sharing it sees the same subscriptions and their state
(validators for conditional GET, the entries read, errors and backoff), whichever instance
refreshed last. One record a feed: its state in the metadata, its entry map as JSON text.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from .chroma_documents import placeholder_vector

FEEDS = "news_feeds"
MAX_REMEMBERED = 5000  # entries remembered a feed (the newest): an entry older than those is read again if listed


@dataclass
class Subscription:
    url: str
    every_minutes: int = 60
    source: str = ""  # the name shown for its articles; empty: the feed's own title
    title: str = ""  # the feed's title at the last successful read
    added_at: float = 0.0
    last_attempt: float = 0.0
    last_success: float = 0.0
    last_error: str = ""
    failures: int = 0  # consecutive; the next try waits longer with each (rag/ingest/refresh.py)
    next_due: float = 0.0
    articles_added: int = 0
    etag: str = ""
    last_modified: str = ""
    entries: dict[str, str] = field(default_factory=dict)  # entry key -> entry_hash (rag/ingest/feeds.py)

    def to_json(self) -> dict[str, Any]:
        """What `rag feeds list --json` shows: times as ISO dates, the entry count instead of the map."""
        data = {k: v for k, v in asdict(self).items() if k not in ("entries", "etag", "last_modified")}
        for key in ("added_at", "last_attempt", "last_success", "next_due"):
            data[key] = _iso(data[key])
        data["entries_known"] = len(self.entries)
        return data


def _iso(stamp: float) -> str | None:
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds") if stamp else None


_STATE = [f.name for f in fields(Subscription) if f.name != "entries"]


class SubscriptionStore:
    """Read and write subscriptions; the refresher holds the writer lease while it writes states."""

    def __init__(self, client: Any) -> None:
        self.collection = client.get_or_create_collection(FEEDS, embedding_function=None)

    def all(self) -> list[Subscription]:
        got = self.collection.get(include=["metadatas", "documents"])
        subs = [_subscription(m, d) for m, d in zip(got["metadatas"], got["documents"], strict=True)]
        return sorted(subs, key=lambda s: s.added_at)

    def get(self, url: str) -> Subscription | None:
        got = self.collection.get(ids=[url], include=["metadatas", "documents"])
        return _subscription(got["metadatas"][0], got["documents"][0]) if got["ids"] else None

    def put(self, sub: Subscription) -> None:
        entries = dict(list(sub.entries.items())[-MAX_REMEMBERED:])
        self.collection.upsert(
            ids=[sub.url],
            embeddings=[placeholder_vector(sub.url)],
            metadatas=[{name: getattr(sub, name) for name in _STATE}],
            documents=[json.dumps(entries, ensure_ascii=False)],
        )

    def delete(self, url: str) -> None:
        self.collection.delete(ids=[url])


def _subscription(meta: Any, document: str | None) -> Subscription:
    known = {name: meta[name] for name in _STATE if name in meta}
    return Subscription(**known, entries=json.loads(document or "{}"))
