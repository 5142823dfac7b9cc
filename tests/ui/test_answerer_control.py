"""The chat's answerer control: a model that cannot be reached shows a notice and the extractive answer."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

import pytest

import rag
from rag.index.sync import sync
from rag.settings import Settings
from ui.app import Chat

pytestmark = pytest.mark.slow


def test_unreachable_model_gives_a_notice_and_the_extractive_answer(settings: Settings, corpus: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    chosen = dataclasses.replace(settings, openai_base_url=f"http://127.0.0.1:{closed}/v1", llm_timeout=2.0)
    sync(chosen, progress=False)
    chat = Chat(chosen)
    *streaming, last = list(chat.respond("When did the harbour bridge reopen?", [], [], "", "", [], "openai"))
    chat_log, turns, _, panel, status = last
    assert streaming and all('class="answer streaming"' in u[0][-1]["content"] for u in streaming)
    assert "The language model did not answer" in status and 'class="status info"' in status
    assert turns[0]["notice"].startswith("The language model did not answer")
    assert 'href="#cite-0-1"' in chat_log[1]["content"] and "Harbour bridge reopens" in panel
    with pytest.raises(Exception, match="unknown answerer 'gpt'"):
        chat.ask_json("When did the harbour bridge reopen?", answerer="gpt")
    assert chat.ask_json("When did the harbour bridge reopen?", answerer="openai")["notice"]
    rag.api.close_all()
