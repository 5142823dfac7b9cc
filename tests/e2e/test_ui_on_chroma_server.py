"""The UI's ``ask`` API on an app instance whose index lives on a real Chroma server."""

from __future__ import annotations

import pytest

import rag
from rag.index.sync import sync
from rag.settings import Settings

pytestmark = pytest.mark.slow  # the real model, a Chroma server and the app


def test_the_ask_api_answers_from_the_server(tmp_path, chroma_server, start_app, articles) -> None:
    from gradio_client import Client

    writer = Settings.from_env(index_dir=tmp_path / "writer" / "index", corpus_dir=tmp_path / "writer" / "corpus",
                               chroma_url=chroma_server)
    writer.corpus_dir.mkdir(parents=True)
    for name, text in articles.items():
        (writer.corpus_dir / name).write_text(text, encoding="utf-8")
    assert sync(writer, progress=False).docs_added == 3

    app_settings = Settings.from_env(index_dir=tmp_path / "app" / "index", corpus_dir=tmp_path / "app" / "corpus",
                                     chroma_url=chroma_server)
    app_settings.corpus_dir.mkdir(parents=True)
    with start_app(app_settings, name="server-app", RAG_CHROMA_URL=chroma_server) as app:
        result = Client(app.url, verbose=False, download_files=False).predict(
            "How many steel cables did engineers replace on the harbour bridge?", api_name="/ask")
    assert result["abstained"] is False and "forty steel cables" in result["answer"]
    cited = result["citations"][0]
    assert rag.document(cited["doc_id"], settings=writer).text[cited["start"] : cited["end"]] == cited["quote"]
    assert not (app_settings.index_dir / "chroma").exists()  # the app kept only its cache
    assert not list(app_settings.corpus_dir.iterdir())  # and did not index a demo corpus of its own
