"""A news site on a loopback HTTP server: a feed and its pages, changing between refreshes, with
validators and 304s, and ways to fail (status codes, Retry-After, slow answers, huge bodies)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

PAGE = """<html><head><title>{title}</title></head><body><nav>Menu</nav><article><h1>{title}</h1>
<p>{body}</p><p>{body}</p></article></body></html>"""


@dataclass
class Served:
    kind: str
    body: bytes
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


class Site:
    def __init__(self) -> None:
        self.pages: dict[str, Served] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, request headers)
        self.sent = 0  # body bytes sent
        self.validators = True  # send ETag and Last-Modified, and answer 304 to them
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append((self.path, dict(self.headers)))
                page = site.pages.get(self.path)
                if page is None:
                    self.send_error(404)
                    return
                time.sleep(page.delay)
                etag = f'"{hash(page.body) & 0xFFFFFFF:x}"'
                if site.validators and page.status == 200 and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(page.status)
                self.send_header("Content-Type", f"{page.kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(page.body)))
                if site.validators and page.status == 200:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", "Mon, 01 Jul 2024 12:00:00 GMT")
                for name, value in page.headers:
                    self.send_header(name, value)
                self.end_headers()
                site.sent += len(page.body)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client stopped reading
                    self.wfile.write(page.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def page(self, slug: str, title: str, body: str) -> None:
        self.pages[f"/{slug}.html"] = Served("text/html", PAGE.format(title=title, body=body).encode())

    def feed(self, entries: list[tuple[str, str]], path: str = "/feed.xml", title: str = "Loopback Gazette",
             summary: str = "Short") -> str:
        """An RSS feed of (slug, title) entries; returns its URL."""
        items = "".join(
            f"<item><title>{t}</title><link>{self.base}/{slug}.html</link>"
            f"<pubDate>Mon, 0{i + 1} Jul 2024 12:00:00 GMT</pubDate><description>{summary} {t}</description></item>"
            for i, (slug, t) in enumerate(entries)
        )
        rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>{items}</channel></rss>'
        self.pages[path] = Served("application/rss+xml", rss.encode())
        return self.base + path

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    thread = threading.Thread(target=s.server.serve_forever, daemon=True)
    thread.start()
    yield s
    s.server.shutdown()
    s.server.server_close()
