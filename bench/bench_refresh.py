"""What a feed refresh costs: requests, bytes and seconds for an unchanged feed and for one with a new item.

A loopback site serves one RSS feed of N entries, each linking to a page of about 4 KB (invented text);
a subscription to it is refreshed through ``rag.ingest.refresh.refresh`` into a fresh index (the real
model and stores), in this order:
  1. first      every entry is new: the feed and N pages are read and indexed;
  2. unchanged  the server answers the validators with 304: one request, no body, nothing indexed;
  3. no-validators  the same feed again from a server that sends no ETag/Last-Modified: the feed's body
                is read, every entry is known, no page is fetched, nothing indexed;
  4. one-new    one entry added: the feed and that page are read, one article indexed.
Each step is repeated ``--rounds`` times (steps 2-4 on fresh copies of the state) and the medians kept.

Run: .venv/bin/python bench/bench_refresh.py [--entries 30] [--rounds 3] --out bench/results/bench_refresh.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rag.api import close_all
from rag.ingest import refresh
from rag.settings import Settings

PARAGRAPH = ("The harbour authority of {town} said on {day} that the new quay would open next spring, after "
             "two years of work and a budget of {n} million. Fishing crews welcomed the plan, while residents "
             "asked for quieter building hours and a footpath along the water. ")


class Site:
    def __init__(self, entries: int) -> None:
        self.entries = entries
        self.validators = True
        self.requests = 0
        self.sent = 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests += 1
                body, kind = site.body(self.path)
                etag = f'"{hash(body) & 0xFFFFFFF:x}"'
                if site.validators and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                if site.validators:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)
                site.sent += len(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def body(self, path: str) -> tuple[bytes, str]:
        if path == "/feed.xml":
            items = "".join(
                f"<item><title>Quay plan {i}</title><link>{self.base}/story{i}.html</link>"
                f"<pubDate>Mon, 01 Jul 2024 12:{i % 60:02d}:00 GMT</pubDate><description>Quay {i}</description></item>"
                for i in range(self.entries - 1, -1, -1)
            )
            return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench Courier</title>{items}'
                    "</channel></rss>").encode(), "application/rss+xml"
        i = int(path.removeprefix("/story").removesuffix(".html"))
        text = "".join(PARAGRAPH.format(town=f"Port {i}", day=d, n=i + k) for k, d in enumerate(["Monday"] * 12))
        return f"<html><body><article><h1>Quay plan {i}</h1><p>{text}</p></article></body></html>".encode(), \
            "text/html"


def step(site: Site, settings: Settings) -> dict[str, Any]:
    site.requests = site.sent = 0
    started = time.perf_counter()
    report = refresh.refresh(settings, due_only=False)
    seconds = time.perf_counter() - started
    close_all()
    feed = report.feeds[0]
    indexed = report.indexed or {}
    return {"requests": site.requests, "bytes": site.sent, "seconds": round(seconds, 3), "status": feed.status,
            "new": feed.new, "indexed": indexed.get("docs_added", 0) + indexed.get("docs_updated", 0)}


def _median(rows: list[dict[str, Any]], key: str) -> Any:
    values = [r[key] for r in rows]
    return statistics.median(values) if isinstance(values[0], (int, float)) else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {"first": [], "unchanged": [], "no-validators": [], "one-new": []}
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings.from_env(index_dir=Path(tmp) / "index", corpus_dir=Path(tmp) / "corpus")
            site = Site(args.entries)
            refresh.add_feed(settings, site.base + "/feed.xml")
            runs["first"].append(step(site, settings))
            runs["unchanged"].append(step(site, settings))
            site.validators = False
            runs["no-validators"].append(step(site, settings))
            site.validators = True
            site.entries += 1
            runs["one-new"].append(step(site, settings))
            site.server.shutdown()
    summary = {name: {key: _median(rows, key) for key in rows[0]} | {"runs": rows} for name, rows in runs.items()}
    result = {"entries": args.entries, "rounds": args.rounds, "steps": summary}
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    for name, row in summary.items():
        print(f"{name:<14} {row['requests']:>4} requests {row['bytes']:>8} bytes {row['seconds']:>7.3f} s "
              f"({row['status']}, {row['new']} new, {row['indexed']} indexed)")


if __name__ == "__main__":
    main()
