"""Fetching one URL from a loopback server: validators and 304, redirects, limits, rate limits."""

from __future__ import annotations

import email.utils

import pytest

from rag.errors import FetchError, RateLimitedError
from rag.ingest import fetch as fetching
from rag.ingest.fetch import fetch, retry_after
from tests.feed_site import Served


def test_a_second_fetch_with_the_validators_is_a_304_without_a_body(site) -> None:
    site.pages["/a"] = Served("text/plain", b"hello")
    first = fetch(site.base + "/a")
    assert (first.body, first.not_modified) == (b"hello", False) and first.etag and first.last_modified
    again = fetch(site.base + "/a", etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.body == b"" and again.etag == first.etag
    sent = site.requests[-1][1]
    assert sent["If-None-Match"] == first.etag and sent["If-Modified-Since"] == first.last_modified
    assert sent["User-Agent"].startswith("news-rag/")


def test_redirects_are_followed_a_few_times_and_only_to_http(site) -> None:
    for i in range(8):
        site.pages[f"/r{i}"] = Served("text/plain", b"", 302, (("Location", f"{site.base}/r{i + 1}"),))
    site.pages["/r8"] = Served("text/plain", b"end")
    assert fetch(site.base + "/r6").body == b"end"  # two redirects
    with pytest.raises(FetchError):
        fetch(site.base + "/r0")  # eight
    site.pages["/file"] = Served("text/plain", b"", 302, (("Location", "file:///etc/passwd"),))
    with pytest.raises(FetchError, match="file:"):
        fetch(site.base + "/file")
    with pytest.raises(FetchError, match="only http"):
        fetch("file:///etc/passwd")


def test_limits_and_failures_are_clear_errors(site, monkeypatch) -> None:
    site.pages["/big"] = Served("text/plain", b"x" * 5000)
    with pytest.raises(FetchError, match="larger than"):
        fetch(site.base + "/big", max_bytes=1000)
    site.pages["/slow"] = Served("text/plain", b"late", delay=2.0)
    monkeypatch.setattr(fetching, "TIMEOUT", 0.3)
    with pytest.raises(FetchError, match="timed out"):
        fetch(site.base + "/slow")
    site.pages["/gone"] = Served("text/plain", b"", 500)
    with pytest.raises(FetchError, match="HTTP 500"):
        fetch(site.base + "/gone")


def test_429_and_503_carry_retry_after(site) -> None:
    site.pages["/busy"] = Served("text/plain", b"", 429, (("Retry-After", "120"),))
    with pytest.raises(RateLimitedError) as caught:
        fetch(site.base + "/busy")
    assert caught.value.retry_after == 120
    later = email.utils.formatdate(1_000_000 + 90, usegmt=True)
    assert retry_after(later, now=1_000_000) == 90
    assert retry_after("") == 0 and retry_after("soon") == 0
