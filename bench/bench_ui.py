"""Measure the chat UI as a user meets it, and take the README screenshot.

    .venv/bin/python bench/bench_ui.py --index-dir index --corpus-dir corpus \
        [--question "..."]... [--screenshot docs/ui-screenshot.png] [--out bench/results/bench_ui.json]

Reports (1) seconds from starting ``rag serve`` to the first HTTP 200 on ``/``
(an empty index is built first, so run it over a built index to time a normal
start) and (2) for each question, milliseconds from pressing Enter to the first
streamed answer text on screen and to the complete answer, measured inside
Debian chromium with ``performance.now()``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]  # fmt: skip
QUESTIONS = [  # answered by the BBC News demo corpus
    "What did the Bank of England do with interest rates?",
    "How much did Google earn?",
    "How many people bought a PlayStation Portable?",
    "What did Tony Blair say about the election?",
]
PROBE = """
() => {
  const probe = {t0: null, snaps: []};
  window.__probe = probe;
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && e.target.closest && e.target.closest('#question')) probe.t0 = performance.now();
  }, true);
  const chat = document.querySelector('#chat');
  new MutationObserver(() => {
    const answers = chat.querySelectorAll('.answer');
    const last = answers[answers.length - 1];
    if (!last || !last.textContent.trim()) return;
    const state = last.classList.contains('complete') ? 'complete' : 'streaming';
    probe.snaps.push({t: performance.now(), n: answers.length, state: state});
  }).observe(chat, {subtree: true, childList: true, characterData: true, attributes: true});
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(args: argparse.Namespace, port: int) -> tuple[subprocess.Popen[bytes], float]:
    command = [sys.executable, "-m", "rag", "serve", "--port", str(port)]
    command += ["--index-dir", str(args.index_dir), "--corpus-dir", str(args.corpus_dir)]
    env = dict(os.environ, NO_PROXY="127.0.0.1,localhost")
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=env)
    url = f"http://127.0.0.1:{port}/"
    while True:
        if process.poll() is not None:
            raise SystemExit(f"rag serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return process, time.perf_counter() - started
        except OSError:
            time.sleep(0.1)


def ask(page: Any, question: str) -> tuple[float, float]:
    answers = page.locator("#chat .answer.complete")
    before = answers.count()
    page.evaluate("() => { window.__probe.snaps = []; window.__probe.t0 = null; }")
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function("n => document.querySelectorAll('#chat .answer.complete').length > n", arg=before)
    probe = page.evaluate("() => window.__probe")
    snaps = [s for s in probe["snaps"] if s["n"] == before + 1]
    first = snaps[0]["t"] - probe["t0"]
    complete = next(s["t"] for s in snaps if s["state"] == "complete") - probe["t0"]
    return first, complete


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, default=Path("index"))
    parser.add_argument("--corpus-dir", type=Path, default=Path("corpus"))
    parser.add_argument("--question", action="append", help="ask this (repeatable; default: BBC demo questions)")
    parser.add_argument("--screenshot", type=Path, help="save the first answer with its source panel open here")
    parser.add_argument("--out", type=Path, help="also write the report (JSON) here")
    args = parser.parse_args()
    questions = args.question or QUESTIONS

    from playwright.sync_api import sync_playwright

    port = free_port()
    process, serve_s = start_server(args, port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            loaded = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
            page.locator("#question textarea").wait_for()
            page_s = time.perf_counter() - loaded
            page.evaluate(PROBE)
            timings = []
            for n, question in enumerate(questions):
                if n:  # each question starts a new conversation, so no follow-up rewriting
                    page.locator("#new-conversation").click()
                    page.wait_for_function("() => !document.querySelector('#chat .answer')")
                timings.append((question, *ask(page, question), page.locator("#chat .answer").last.inner_text()))
                if n == 0 and args.screenshot:
                    page.locator("#chat .answer.complete a.cite").first.click()
                    page.locator("#source-panel mark#quote").wait_for()
                    page.wait_for_timeout(300)
                    page.screenshot(path=str(args.screenshot))
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)

    firsts = [t[1] for t in timings]
    completes = [t[2] for t in timings]
    report = {
        "serve_to_first_page_s": round(serve_s, 2),
        "page_load_to_ready_s": round(page_s, 2),
        "questions": [
            {"question": q, "first_token_ms": round(f), "complete_ms": round(c), "answer": a[:90]}
            for q, f, c, a in timings
        ],
        "first_token_ms_median": round(statistics.median(firsts)),
        "complete_ms_median": round(statistics.median(completes)),
    }
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
