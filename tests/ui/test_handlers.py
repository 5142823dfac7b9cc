"""The UI's handlers called directly: messages, never tracebacks, for what the library raises."""

from __future__ import annotations

import dataclasses
import html
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

import rag
from rag.index.sync import sync
from rag.settings import Settings
from ui.app import Chat, stream_chunks

pytestmark = pytest.mark.slow  # the real model, servers or a browser

EMPTY = "The question is empty: type a question about the indexed articles."


@pytest.fixture
def chat(settings: Settings, corpus: Path) -> Iterator[Chat]:
    sync(settings, progress=False)
    yield Chat(settings)
    rag.api.close_all()


def event(**data: Any) -> gr.EventData:
    return gr.EventData(None, data)


def test_stream_chunks_grow_to_the_whole_text() -> None:
    text = "One two three four five six seven. [1]"
    chunks = list(stream_chunks(text, words=3))
    assert chunks[-1] == text and len(chunks) == 3
    assert all(text.startswith(c) for c in chunks)
    assert list(stream_chunks("")) == []


def test_respond_streams_then_lists_the_sources(chat: Chat) -> None:
    updates = list(chat.respond("When did the harbour bridge reopen?", [], [], "", "", []))
    streaming = [u[0][-1]["content"] for u in updates[:-1]]
    assert len(streaming) >= 2 and all('class="answer streaming"' in s for s in streaming)
    chat_log, turns, question, panel, status = updates[-1]
    assert [m["role"] for m in chat_log] == ["user", "assistant"]
    assert 'class="answer complete"' in chat_log[1]["content"] and 'href="#cite-0-1"' in chat_log[1]["content"]
    assert turns[0]["question"] == "When did the harbour bridge reopen?"
    assert turns[0]["citations"][0]["doc_id"] == "local/harbour.txt"
    assert question == "" and status == ""
    assert "Harbour bridge reopens after storm repairs" in panel


def test_follow_up_gets_the_history(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    real_ask = rag.api.ask_stream

    def spy(question: str, **kwargs: Any) -> Any:
        seen.append(kwargs["history"])
        return real_ask(question, **kwargs)

    monkeypatch.setattr(rag.api, "ask_stream", spy)
    *_, first = chat.respond("When did the harbour bridge reopen?", [], [], "", "", [])
    *_, second = chat.respond("How much did the repairs cost?", first[0], first[1], "", "", [])
    assert seen == [[], [("When did the harbour bridge reopen?", first[1][0]["answer"])]]
    assert len(second[0]) == 4 and len(second[1]) == 2
    assert 'href="#cite-1-1"' in second[0][3]["content"] or second[1][1]["abstained"]


def test_unexpected_failures_are_messages_not_tracebacks(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[str] = []

    def broken(question: str, **kwargs: Any) -> Any:
        calls.append(question)
        raise RuntimeError("boom")

    monkeypatch.setattr(rag.api, "ask_stream", broken)
    (update,) = list(chat.respond("When did the harbour bridge reopen?", [], [], "", "", []))
    assert len(calls) == 1
    assert "unexpected error (RuntimeError: boom); the details are in the server log" in update[-1]
    assert "Traceback" not in update[-1] and "Traceback" in capsys.readouterr().err
    with pytest.raises(gr.Error, match="unexpected error"):
        chat.ask_json("When did the harbour bridge reopen?")


def test_answers_survive_another_process_writing_the_index(chat: Chat, write: Callable[..., Path]) -> None:
    """`rag index` while the UI runs: the library notices and reopens Chroma's stale client."""
    assert not chat.ask_json("When did the harbour bridge reopen?")["abstained"]
    settings = chat.settings
    for i in range(12):
        write(settings.corpus_dir / "later" / f"mill{i}.txt", f"Mill {i} news\n\nThe Oxley{i} mill reopened on Friday.")
    env = dict(os.environ, RAG_INDEX_DIR=str(settings.index_dir), RAG_CORPUS_DIR=str(settings.corpus_dir))
    subprocess.run([sys.executable, "-m", "rag", "index"], env=env, check=True, capture_output=True, timeout=300)
    *_, last = chat.respond("When did the Oxley7 mill reopen?", [], [], "", "", [])
    assert last[1][0]["citations"][0]["doc_id"] == "later/mill7.txt"


@pytest.mark.parametrize(
    ("question", "since", "message"),
    [
        ("", "", EMPTY),
        ("   \n ", "", EMPTY),
        ("x" * 2001, "", "The question is too long"),
        ("When did the bridge reopen?", "soon", "'soon' is not a date: use YYYY-MM-DD"),
    ],
)
def test_respond_errors_are_status_messages(chat: Chat, question: str, since: str, message: str) -> None:
    (update,) = list(chat.respond(question, [], [], since, "", []))
    status = update[-1]
    assert 'class="status error"' in status and html.escape(message) in status
    assert all(u == gr.skip() for u in update[:-1])  # chat, state, question and panel unchanged


def test_empty_index_is_a_message(settings: Settings) -> None:
    (update,) = list(Chat(settings).respond("When did the bridge reopen?", [], [], "", "", []))
    assert "the index is empty: run `rag index`" in update[-1]
    with pytest.raises(gr.Error, match="the index is empty"):
        Chat(settings).ask_json("When did the bridge reopen?")


def test_open_citation_reads_the_document_from_the_index(chat: Chat) -> None:
    *_, (_, turns, *_) = chat.respond("When did the harbour bridge reopen?", [], [], "", "", [])
    html = chat.open_citation(turns, event(turn=0, n=1))
    quote = turns[0]["citations"][0]["quote"]
    assert f'<mark id="quote">{quote}</mark>' in html
    assert "no longer" in chat.open_citation(turns, event(turn=5, n=1))
    assert "has no source [9]" in chat.open_citation(turns, event(turn=0, n=9))
    assert chat.open_citation(turns, event(turn="x", n=None)) == gr.skip()
    turns[0]["citations"][0]["doc_id"] = "../../etc/passwd"  # state is server-side; even so, only indexed documents
    assert "The article is no longer in the index" in chat.open_citation(turns, event(turn=0, n=1))


def test_upload_handler_saves_indexes_and_explains_refusals(
    chat: Chat, write: Callable[..., Path], tmp_path: Path
) -> None:
    incoming = tmp_path / "gradio"
    good = write(
        incoming / "a" / "ferry.txt", "Ferry strike ends\n\nThe Kestrel ferry crews returned to work on Friday."
    )
    bad = write(incoming / "b" / "tool.exe", b"MZ")
    broken = write(incoming / "c" / "broken.json", "{not json")
    status, figures, _ = chat.upload([str(good), str(bad), str(broken)])
    assert "Added 1 file(s)" in status and "1 added" in status
    assert "tool.exe: file type .exe is not supported" in status
    assert "broken.json: invalid JSON" in status
    assert not (chat.settings.corpus_dir / "uploads" / "broken.json").exists()  # a file that does not load is removed
    assert '<b data-figure="documents">4</b>' in figures
    assert rag.ask("When did the Kestrel ferry crews return to work?", settings=chat.settings).citations[0].doc_id == (
        "uploads/ferry.txt"
    )
    status, *_ = chat.upload([str(good)])
    assert "0 added" in status and "1 unchanged" in status

    status, *_ = chat.upload([])
    assert "Choose one or more article files first." in status
    small = Chat(dataclasses.replace(chat.settings, max_upload_mb=0.00001))
    status, *_ = small.upload([str(good)])
    assert 'class="status error"' in status and "file too large" in status


def test_paste_and_reindex_handlers(chat: Chat) -> None:
    status, figures, _, title, text = chat.paste(
        "Night buses return", "Night buses return to the Varn valley on Friday."
    )
    assert "Added the article as uploads/night-buses-return-" in status and (title, text) == ("", "")
    assert '<b data-figure="documents">4</b>' in figures
    status, _, _, title, text = chat.paste("", "text")
    assert "the article needs a title" in status and title == gr.skip()

    (chat.settings.corpus_dir / "local" / "chess.txt").unlink()
    status, figures, _ = chat.reindex()
    assert "Corpus re-indexed: 0 added" in status and "1 removed" in status
    assert '<b data-figure="documents">3</b>' in figures


def test_ask_json_is_the_cli_json(chat: Chat) -> None:
    result = chat.ask_json("When did the harbour bridge reopen?")
    assert result == rag.ask("When did the harbour bridge reopen?", settings=chat.settings).to_json(
        "When did the harbour bridge reopen?"
    )
    with pytest.raises(gr.Error, match="k must be a whole number from 1 to 50"):
        chat.ask_json("When did the harbour bridge reopen?", k=0)


def test_hostile_uploads_are_indexed_or_removed_and_never_break_later_ones(
    chat: Chat, write: Callable[..., Path], tmp_path: Path
) -> None:
    # Before: these two stopped indexing and stayed in uploads/, so every later upload failed too.
    zh = write(tmp_path / "in" / "zh.txt", "中国新闻\n\n" + "北京今天宣布新的经济政策以促进增长" * 200)
    epoch = write(tmp_path / "in" / "export.json",
                  '{"title": "Export", "text": "Harbour fees rise by a tenth.", "published": 1700000000000}')
    binary = write(tmp_path / "in" / "scan.txt", bytes(range(256)) * 8)
    status, *_ = chat.upload([str(zh), str(epoch), str(binary)])
    assert "Added 2 file(s)" in status and "scan.txt: binary file" in status
    assert sorted(p.name for p in (chat.settings.corpus_dir / "uploads").iterdir()) == ["export.json", "zh.txt"]
    later = write(tmp_path / "in" / "later.txt", "Later story\n\nThe tram line to the port opened on Tuesday.")
    status, *_ = chat.upload([str(later)])
    assert "Added 1 file(s)" in status and "1 added" in status and "0 files skipped" in status
    status, *_ = chat.reindex()
    assert "Corpus re-indexed" in status and "0 files skipped" in status


def test_min_confidence_slider_gives_a_marked_weak_answer(chat: Chat) -> None:
    question = "What is the boiling point of mercury?"
    *_, refused = chat.respond(question, [], [], "", "", [])
    assert "abstained" in refused[0][-1]["content"]
    *_, weak = chat.respond(question, [], [], "", "", [], min_confidence=0.0)
    content = weak[0][-1]["content"]
    assert 'class="answer weak complete"' in content and "likely to hold what you asked" in content
    assert 0.0 <= weak[1][0]["confidence"] < 0.5


def test_choosing_a_story_of_a_question_back_asks_again_within_it(chat: Chat) -> None:
    offered = [{"doc_id": "local/orchard.txt", "title": "Late frost", "source": "local", "url": "", "published": None},
               {"doc_id": "local/harbour.txt", "title": "Harbour bridge", "source": "local", "url": "",
                "published": None}]
    turns = [{"question": "When did the harbour bridge reopen?", "answer": "Which story do you mean?",
              "abstained": True, "citations": [], "notice": "", "confidence": 0.0, "clarify": offered}]
    updates = list(chat.ask_within(turns, [], None, None, event(turn=0, n=2)))
    chat_log, answered, *_ = updates[-1]
    assert answered[-1]["question"] == "When did the harbour bridge reopen?"
    assert answered[-1]["citations"] and {c["doc_id"] for c in answered[-1]["citations"]} == {"local/harbour.txt"}
    assert 'href="#cite-1-1"' in chat_log[-1]["content"]
    stale = list(chat.ask_within(turns, [], None, None, event(turn=0, n=9)))
    assert "no longer offered" in stale[-1][4]
