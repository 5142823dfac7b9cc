"""Starting the server: loopback by default, auth before anything else, the index built on first start."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import rag
from rag.errors import ConfigError
from rag.settings import Settings
from ui import app as ui_app

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True), ("[::1]", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.10", False), ("example.org", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert ui_app.is_loopback(host) is loopback


def test_auth_is_required_beyond_loopback_only() -> None:
    assert ui_app.bind_credentials("127.0.0.1", None) is None
    assert ui_app.bind_credentials("127.0.0.1", "ann:secret") == ("ann", "secret")
    assert ui_app.bind_credentials("0.0.0.0", "ann:pa:ss") == ("ann", "pa:ss")
    with pytest.raises(ConfigError, match=r"refusing to serve on 0\.0\.0\.0 without authentication"):
        ui_app.bind_credentials("0.0.0.0", None)
    for bad in ("ann", ":secret", "ann:"):
        with pytest.raises(ConfigError, match="USER:PASS"):
            ui_app.bind_credentials("0.0.0.0", bad)


def test_serve_refuses_a_public_bind_without_auth(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert ui_app.serve(settings, host="0.0.0.0", port=1, auth=None) == 2
    assert "refusing to serve on 0.0.0.0 without authentication" in capsys.readouterr().err
    assert not Path(settings.index_dir).exists()  # refused before touching the index


def test_settings_auth_counts_as_auth(settings: Settings) -> None:
    # RAG_UI_AUTH arrives as settings.ui_auth; a malformed one is refused with exit code 2 as well.
    import dataclasses

    assert ui_app.serve(dataclasses.replace(settings, ui_auth="no-colon"), host="0.0.0.0", port=1, auth=None) == 2


@pytest.mark.slow
def test_python_m_ui_refuses_public_bind_without_auth(settings: Settings) -> None:
    env = dict(os.environ, RAG_INDEX_DIR=str(settings.index_dir), RAG_CORPUS_DIR=str(settings.corpus_dir))
    env.pop("RAG_UI_AUTH", None)
    result = subprocess.run(
        [sys.executable, "-m", "ui", "--host", "0.0.0.0", "--port", "9"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "refusing to serve on 0.0.0.0 without authentication" in result.stderr
    assert "Traceback" not in result.stderr


def test_launch_never_shares() -> None:
    options = ui_app.launch_options(Settings())
    assert options["share"] is False
    assert os.environ.get("GRADIO_ANALYTICS_ENABLED") == "False"


@pytest.mark.slow
def test_first_start_indexes_the_corpus_folder(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_demo(_: Path) -> None:
        raise AssertionError("the demo corpus must not be imported when the corpus has articles")

    monkeypatch.setattr("rag.ingest.bbc_demo.import_bbc", no_demo)
    ui_app.ensure_index(settings)
    assert rag.stats(settings).documents == 3
    ui_app.ensure_index(settings)  # already built: nothing to do
    rag.api.close_all()


@pytest.mark.slow
def test_first_start_with_an_empty_corpus_imports_the_demo(
    settings: Settings, write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag.ingest.bbc_demo import DemoImport

    def fake_demo(corpus_dir: Path) -> DemoImport:  # the real one takes minutes to index
        write(Path(corpus_dir) / "bbc" / "tech" / "001.txt", "Demo headline\n\nA short demo article about robots.")
        return DemoImport(1, 0, 0, Path(corpus_dir) / "bbc")

    monkeypatch.setattr("rag.ingest.bbc_demo.import_bbc", fake_demo)
    ui_app.ensure_index(settings)
    assert rag.stats(settings).sources == ["bbc"]
    out = capsys.readouterr().out
    assert "importing the BBC News demo articles" in out and "Index ready: 1 added" in out
    rag.api.close_all()


@pytest.mark.slow
def test_rag_ui_auth_is_enforced(ui_settings: Settings, start_app: Any) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    with start_app(ui_settings, name="auth-app", RAG_UI_AUTH="ann:s3cret") as app:
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(app.url + "config", timeout=10)
        assert denied.value.code == 401
        with pytest.raises(AuthenticationError):
            Client(app.url, verbose=False)
        with pytest.raises(ValueError, match="Could not login"):
            Client(app.url, auth=("ann", "wrong"), verbose=False)
        client = Client(app.url, auth=("ann", "s3cret"), verbose=False)
        result = client.predict("How much is a single tram ticket to the airport?", api_name="/ask")
        assert "2.40 euros" in result["answer"]


@pytest.mark.slow
def test_a_busy_port_is_a_message(settings: Settings, corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert ui_app.serve(settings, host="127.0.0.1", port=port, auth=None) == 1
    err = capsys.readouterr().err
    assert f"error: cannot serve on 127.0.0.1:{port}" in err and "Traceback" not in err
    rag.api.close_all()


@pytest.mark.slow
def test_serve_refreshes_subscribed_feeds_by_itself_unless_rag_watch_is_0(
    settings: Settings, corpus: Path, site: Any, start_app: Any
) -> None:
    from rag.index.sync import sync
    from rag.ingest import refresh

    sync(settings, progress=False)
    site.page("lifeboat", "Lifeboat", "The Quillby lifeboat crew rescued four kayakers off Saltness Point.")
    url = site.feed([("lifeboat", "Quillby lifeboat rescues four kayakers")])
    refresh.add_feed(settings, url)

    with start_app(settings, name="no-watch", RAG_WATCH="0"):
        time.sleep(5)
        assert site.requests == []  # nothing fetched the feed
    with start_app(settings, name="watch") as app:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not refresh.list_feeds(settings)[0].last_success:
            time.sleep(0.5)
        assert refresh.list_feeds(settings)[0].articles_added == 1
        assert rag.api.articles("lifeboat", settings=settings)[0].source == "Loopback Gazette"
        watchers = subprocess.run(["pgrep", "-f", f"rag watch --index-dir {settings.index_dir}"],
                                  capture_output=True, text=True).stdout.split()
        assert len(watchers) == 1
    deadline = time.monotonic() + 30  # the watcher stops with the app
    while time.monotonic() < deadline and subprocess.run(["pgrep", "-f", f"rag watch --index-dir "
                                                          f"{settings.index_dir}"]).returncode == 0:
        time.sleep(0.5)
    assert subprocess.run(["pgrep", "-f", f"rag watch --index-dir {settings.index_dir}"]).returncode == 1
    assert "Traceback" not in app.log.read_text()
