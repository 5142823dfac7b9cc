"""Shared fixtures: a fresh corpus and index folder per test, real model, real Chroma; the app and the browser
for the UI and end-to-end tests come from app_fixtures.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# imported here before pytest loads them as plugins
pytest.register_assert_rewrite("tests.app_fixtures", "tests.feed_site")

from rag.settings import Settings  # noqa: E402
from tests.app_fixtures import free_port  # noqa: E402  (the repository root is on sys.path: pyproject's pythonpath)

pytest_plugins = ["tests.app_fixtures", "tests.feed_site"]

ARTICLES = {
    "harbour.txt": (
        "Harbour bridge reopens after storm repairs\n\n"
        "The Kelvinport harbour bridge reopened on Monday after six weeks of repairs. "
        "Engineers replaced forty steel cables damaged when Storm Ilsa hit the coast in March. "
        "The city council said the work cost 12 million euros, two million more than planned.\n\n"
        "Traffic was light in the morning. Commuters said the ferry service had been crowded "
        "while the bridge was closed."
    ),
    "orchard.txt": (
        "Late frost cuts apple harvest in the Varn valley\n\n"
        "Apple growers in the Varn valley expect a harvest a third smaller than last year. "
        "A late frost in April destroyed blossoms on the lower slopes, the growers' cooperative said. "
        "Prices for cider apples have already risen by fifteen percent at the Tuesday market."
    ),
    "chess.txt": (
        "Teenager wins national chess title\n\n"
        "Mira Okonjo, aged 16, won the national chess championship in Dorrington on Sunday. "
        "She beat the defending champion in a tense final game that lasted five hours. "
        "Okonjo learned the game from her grandfather and now trains at the city library club."
    ),
}


@pytest.fixture
def articles() -> dict[str, str]:
    """File name -> text of the three small articles above."""
    return ARTICLES


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "corpus").mkdir()
    return Settings.from_env(index_dir=tmp_path / "index", corpus_dir=tmp_path / "corpus")


@pytest.fixture
def write() -> Callable[..., Path]:
    """Write a file (text or bytes) and return its path."""

    def _write(path: Path, content: str | bytes) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def corpus(settings: Settings, write: Callable[..., Path]) -> Path:
    """The corpus folder holding the three small articles above."""
    for name, text in ARTICLES.items():
        write(settings.corpus_dir / "local" / name, text)
    return settings.corpus_dir


@pytest.fixture
def child_exit() -> Callable[[int, float], int | None]:
    """Wait for a forked child: its exit code, or None when it hung (then it is killed), so a child that
    hangs fails its test instead of hanging the run."""

    def wait(pid: int, seconds: float) -> int | None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return None

    return wait


@contextmanager
def running_chroma(path: Path) -> Iterator[str]:
    """A real ``chroma run`` server (shipped with chromadb) on a free loopback port; yields its URL."""
    port = free_port()
    log = path.with_suffix(".log")
    chroma = Path(sys.executable).parent / "chroma"
    with open(log, "wb") as out:
        command = [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, f"chroma did not start:\n{log.read_text()[-2000:]}"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    """A fresh Chroma server for one test."""
    with running_chroma(tmp_path / "chroma-server") as url:
        yield url


@pytest.fixture
def start_chroma() -> Callable[[Path], Any]:
    """``running_chroma``, for a test that stops its server itself."""
    return running_chroma
