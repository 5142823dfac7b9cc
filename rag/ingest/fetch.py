"""Download one http(s) URL: bytes with a timeout, a size cap, few redirects and conditional GET.

feedparser's own URL fetching has no timeout, so feeds and pages are fetched here and the bytes
parsed afterwards. A 304 answer to If-None-Match / If-Modified-Since comes back as ``not_modified``
(no body read); 429 and 503 raise ``RateLimitedError`` with the server's Retry-After.
"""

from __future__ import annotations

import email.utils
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlparse

from ..errors import FetchError, RateLimitedError

USER_AGENT = "news-rag/0.2 (+offline-first news Q&A; feed refresher)"
MAX_BYTES = 10 * 1024 * 1024  # a page or feed body larger than this is refused
MAX_REDIRECTS = 5
TIMEOUT = 15.0  # seconds to connect and between reads


@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    body: bytes  # empty when not modified
    charset: str
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follow at most ``MAX_REDIRECTS`` redirects, and only to http(s)."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if urlparse(newurl).scheme not in ("http", "https"):
            raise FetchError(f"{req.full_url}: redirected to {newurl}, which is not http(s)")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_opener = urllib.request.build_opener(_Redirects)


def fetch(
    url: str, *, etag: str = "", last_modified: str = "", timeout: float | None = None, max_bytes: int = MAX_BYTES
) -> Response:
    """The body of ``url``; with validators from an earlier 200, a 304 costs no body."""
    if urlparse(url).scheme not in ("http", "https"):
        raise FetchError(f"{url}: only http and https URLs can be fetched")
    headers = {"User-Agent": USER_AGENT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)
    try:
        with _opener.open(request, timeout=timeout or TIMEOUT) as answer:
            length = answer.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FetchError(f"{url}: {int(length) // 1_000_000} MB, larger than the limit of "
                                 f"{max_bytes // 1_000_000} MB")
            body = answer.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise FetchError(f"{url}: larger than the limit of {max_bytes // 1_000_000} MB")
            return Response(answer.geturl(), body, answer.headers.get_content_charset() or "utf-8",
                            answer.headers.get("ETag", ""), answer.headers.get("Last-Modified", ""))
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return Response(url, b"", "utf-8", etag, last_modified, not_modified=True)
        if exc.code in (429, 503):
            wait = retry_after(exc.headers.get("Retry-After", ""))
            raise RateLimitedError(f"{url}: HTTP {exc.code} {exc.reason}", wait) from exc
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except FetchError:
        raise
    except (OSError, ValueError, urllib.error.URLError) as exc:
        raise FetchError(f"{url}: {getattr(exc, 'reason', None) or exc}") from exc


def retry_after(value: str, now: float | None = None) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); 0 when absent or unreadable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
