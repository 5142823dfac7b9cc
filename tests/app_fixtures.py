"""Fixtures for the UI and end-to-end tests: a small indexed corpus, the app in a subprocess, Debian chromium.

The app is started once per session (the model loads once) on a free loopback
port, exactly as a user starts it (``python -m ui``), with ``RAG_INDEX_DIR`` and
``RAG_CORPUS_DIR`` pointing at a temporary corpus this file writes and indexes.
All articles are invented for these tests.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rag.settings import Settings

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]

HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"
HOSTILE_LINK = '<a href="javascript:alert(2)">click</a>'
HOSTILE_TEMPLATE = "${document.body.setAttribute('data-pwned','2')}"

LONG_FILLER = " ".join(
    f"Item {i} of the Harwick council minutes recorded routine business about parking permits and hedges."
    for i in range(1, 120)
)

ARTICLES: dict[str, str] = {
    "local/lighthouse.txt": (
        "Glenmoor lighthouse reopens as a marine museum\n\n"
        "The Glenmoor lighthouse, dark since 1998, opened as a marine museum on Saturday. "
        "The museum displays the original glass lens and a collection of ship logbooks donated by local families. "
        "Entry is free for children under twelve, and the tower stairs are open on weekends only.\n\n"
        "The restoration took three years and was paid for by a fishing cooperative and a lottery grant.\n"
    ),
    "local/hostile.txt": (
        f"Brindlemere poster contest {HOSTILE_SCRIPT} draws record entries\n\n"
        f"The Brindlemere poster contest received 412 entries {HOSTILE_IMG} this year, the organisers said. "
        f"The winning poster, painted by a retired postman, shows a grey heron {HOSTILE_TEMPLATE} above the canal. "
        f"Read the rules {HOSTILE_LINK} before entering next year.\n"
    ),
    "local/longread.txt": (
        "Harwick council minutes, spring session\n\n"
        f"{LONG_FILLER}\n\n"
        "The Harwick observatory telescope was finally repaired on the third of May by a team of volunteer opticians.\n"
    ),
    "feeds/tram.json": json.dumps(
        {
            "title": "Ostwick tram line extended to the airport",
            "text": (
                "The Ostwick tram line now runs to the airport. The four-kilometre extension opened on Thursday "
                "after two years of building work. A single ticket from the old town to the terminal costs "
                "2.40 euros, and trams run every eight minutes."
            ),
            "published": "2024-03-14T09:00:00Z",
            "source": "Ostwick Times",
            "url": "https://example.org/ostwick/tram",
        }
    ),
    "feeds/canal.json": json.dumps(
        {
            "title": "<img src=x onerror=\"document.body.setAttribute('data-pwned','3')\">Merrow canal cleanup",
            "text": "Ninety volunteers pulled three hundred shopping trolleys out of the Merrow canal on Sunday.",
            "url": "javascript:alert(5)",
            "source": "<b onmouseover=alert(6)>Merrow Gazette</b>",
            "published": "2023-06-02",
        }
    ),
}


@dataclass
class App:
    url: str
    settings: Settings
    process: subprocess.Popen[bytes]
    log: Path
    started_s: float  # seconds from process start to the first HTTP 200 on /

    def read(self, name: str) -> str:
        return (self.settings.corpus_dir / name).read_text(encoding="utf-8")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_page(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the app did not answer on {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def app_env(settings: Settings, tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RAG_INDEX_DIR=str(settings.index_dir),
        RAG_CORPUS_DIR=str(settings.corpus_dir),
        GRADIO_TEMP_DIR=str(tmp / "gradio-tmp"),
        NO_PROXY="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    env.pop("RAG_UI_AUTH", None)
    return env


@pytest.fixture(scope="session")
def ui_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The test corpus, indexed with the real model and stores."""
    from rag.index.sync import sync

    root = tmp_path_factory.mktemp("ui")
    settings = Settings.from_env(index_dir=root / "index", corpus_dir=root / "corpus")
    for name, text in ARTICLES.items():
        path = settings.corpus_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    report = sync(settings, progress=False)
    assert report.docs_added == len(ARTICLES), report.to_json()
    return settings


@contextmanager
def running_app(settings: Settings, *args: str, name: str = "app", **env: str) -> Iterator[App]:
    """``python -m ui --port <free> *args`` over ``settings``' index, stopped on exit."""
    tmp = Path(settings.corpus_dir).parent
    port = free_port()
    log = tmp / f"{name}.log"
    started = time.perf_counter()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ui", "--port", str(port), *args],
            cwd=REPO,
            env={**app_env(settings, tmp), **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_page(url, process, log)
        yield App(url, settings, process, log, time.perf_counter() - started)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def start_app() -> Any:
    """``running_app``, for tests that need a server started differently."""
    return running_app


@pytest.fixture(scope="session")
def app(ui_settings: Settings) -> Iterator[App]:
    """The app as a user starts it, once per session so the model loads once."""
    with running_app(ui_settings) as started:
        yield started


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is not installed: run bash scripts/setup.sh --browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


STREAM_PROBE = """
() => {
  const probe = {t0: null, snaps: []};
  window.__probe = probe;
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && e.target.closest && e.target.closest('#question')) probe.t0 = performance.now();
  }, true);
  const chat = document.querySelector('#chat');
  const look = () => {
    const answers = chat.querySelectorAll('.answer');
    const last = answers[answers.length - 1];
    if (!last) return;
    const state = last.classList.contains('complete') ? 'complete' : 'streaming';
    const text = last.textContent;
    const prev = probe.snaps[probe.snaps.length - 1];
    if (!prev || prev.text !== text || prev.state !== state || prev.n !== answers.length)
      probe.snaps.push({t: performance.now(), text: text, state: state, n: answers.length});
  };
  new MutationObserver(look).observe(chat, {subtree: true, childList: true, characterData: true, attributes: true});
}
"""


@dataclass
class Asked:
    text: str  # the final answer's text, as shown
    snapshots: list[dict[str, Any]]  # every distinct text the answer showed while streaming
    first_token_ms: float  # Enter to the first answer text on screen
    complete_ms: float  # Enter to the complete answer


class Driver:
    """A loaded page of the app and the few gestures the tests make."""

    def __init__(self, page: Any, app: App, artifacts: Path) -> None:
        self.page = page
        self.app = app
        self.artifacts = artifacts
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def load(self) -> None:
        self.page.goto(self.app.url, wait_until="load")
        self.page.locator("#question textarea").wait_for()
        self.page.evaluate(STREAM_PROBE)

    def tab(self, name: str) -> None:
        self.page.get_by_role("tab", name=name).click()

    def ask(self, question: str) -> Asked:
        """Type the question, press Enter, wait for the complete answer; time it in the page."""
        answers = self.page.locator("#chat .answer.complete")
        before = answers.count()
        self.page.evaluate("() => { window.__probe.snaps = []; window.__probe.t0 = null; }")
        box = self.page.locator("#question textarea")
        box.fill(question)
        box.press("Enter")
        self.page.wait_for_function("n => document.querySelectorAll('#chat .answer.complete').length > n", arg=before)
        probe = self.page.evaluate("() => window.__probe")
        snaps = [s for s in probe["snaps"] if s["n"] == before + 1 and s["text"].strip()]
        final = answers.nth(before).inner_text()
        return Asked(
            text=final,
            snapshots=snaps,
            first_token_ms=snaps[0]["t"] - probe["t0"],
            complete_ms=next(s["t"] for s in snaps if s["state"] == "complete") - probe["t0"],
        )

    def status(self, selector: str = "#ask-status") -> str:
        return self.page.locator(selector).inner_text().strip()

    def screenshot(self, name: str, *, full_page: bool = False) -> Path:
        path = self.artifacts / name
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def external_requests(self) -> list[str]:
        local = self.app.url.rstrip("/")
        network = [u for u in self.requests if u.startswith(("http:", "https:", "ws:", "wss:"))]
        return [u for u in network if not u.startswith(local)]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def ui(browser: Any, app: App, artifacts: Path) -> Iterator[Driver]:
    """A fresh browser context (so a new session) with the app's page loaded."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    driver = Driver(page, app, artifacts)
    driver.load()
    try:
        yield driver
    finally:
        context.close()
