"""`rag index --feed` against a feed and pages served from a loopback HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.cli import main

pytestmark = pytest.mark.slow  # the real model, servers or a browser

PAGE = """<html><head><title>{title}</title></head><body><nav>Menu</nav><article><h1>{title}</h1>
<p>{body}</p><p>{body}</p></article></body></html>"""


class Site:
    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, str]] = {}
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                if self.path not in site.pages:
                    self.send_error(404)
                    return
                kind, body = site.pages[self.path]
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def feed(self, entries: list[tuple[str, str]]) -> None:
        items = "".join(
            f"<item><title>{t}</title><link>{self.base}/{slug}.html</link>"
            f"<pubDate>Mon, 0{i + 1} Jul 2024 12:00:00 GMT</pubDate><description>Short {t}</description></item>"
            for i, (slug, t) in enumerate(entries)
        )
        rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Loopback Gazette</title>{items}</channel></rss>'
        self.pages["/feed.xml"] = ("application/rss+xml", rss)


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    thread = threading.Thread(target=s.server.serve_forever, daemon=True)
    thread.start()
    yield s
    s.server.shutdown()


def run_index(settings, *args: str, capsys) -> dict:
    code = main(["index", "--json", "--index-dir", str(settings.index_dir), "--corpus-dir", str(settings.corpus_dir),
                 *args])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def test_feed_entries_are_fetched_saved_and_indexed_once(settings, site, capsys) -> None:
    body = "The Loopback city council approved a new cycling lane along the river on Tuesday evening."
    for slug, title in [("lanes", "Cycling lanes approved"), ("zoo", "Zoo welcomes twin otters")]:
        site.pages[f"/{slug}.html"] = ("text/html", PAGE.format(title=title, body=body.replace("cycling", slug)))
    site.feed([("lanes", "Cycling lanes approved"), ("zoo", "Zoo welcomes twin otters")])

    report = run_index(settings, "--feed", f"{site.base}/feed.xml", capsys=capsys)
    assert report["docs_added"] == 2 and report["errors"] == []
    saved = sorted((settings.corpus_dir / "feeds" / "127.0.0.1").glob("*.json"))
    records = [json.loads(p.read_text()) for p in saved]
    lanes = next(r for r in records if r["title"] == "Cycling lanes approved")
    assert lanes["url"] == f"{site.base}/lanes.html" and lanes["source"] == "Loopback Gazette"
    assert lanes["published"] == "2024-07-01T12:00:00+00:00"
    assert "lanes lane along the river" in lanes["text"] and "Menu" not in lanes["text"]

    # A new entry appears; the two known ones are neither fetched again nor re-indexed.
    site.pages["/ferry.html"] = ("text/html", PAGE.format(title="Ferry", body=body.replace("cycling", "ferry")))
    site.feed([("ferry", "Night ferry returns"), ("lanes", "Cycling lanes approved"),
               ("zoo", "Zoo welcomes twin otters")])
    site.requests.clear()
    report = run_index(settings, "--feed", f"{site.base}/feed.xml", capsys=capsys)
    assert site.requests == ["/feed.xml", "/ferry.html"]
    assert (report["docs_added"], report["docs_unchanged"]) == (1, 2)


def test_unreachable_page_falls_back_to_feed_text_and_bad_feed_is_an_error(settings, site, capsys) -> None:
    site.feed([("missing", "Page that 404s")])
    report = run_index(settings, "--feed", f"{site.base}/feed.xml", capsys=capsys)
    assert report["docs_added"] == 1

    site.pages["/bad.xml"] = ("text/html", "<html>not a feed</html>")
    code = main(["index", "--index-dir", str(settings.index_dir), "--corpus-dir", str(settings.corpus_dir),
                 "--feed", f"{site.base}/bad.xml"])
    assert code == 1
    assert "not an RSS/Atom feed" in capsys.readouterr().err
