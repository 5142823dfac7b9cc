"""The named ``ask`` endpoint, driven with ``gradio_client`` like any API user would."""

from __future__ import annotations

import json
from typing import Any

import pytest

import rag
from rag.cli import main as rag_cli

pytestmark = pytest.mark.slow  # the real model, servers or a browser


def cli_json(app: Any, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    settings = app.settings
    code = rag_cli(
        ["ask", *args, "--json", "--index-dir", str(settings.index_dir), "--corpus-dir", str(settings.corpus_dir)]
    )
    assert code == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def client(app: Any) -> Any:
    from gradio_client import Client

    return Client(app.url, verbose=False, download_files=False)


def test_ask_endpoint_returns_the_json_of_rag_ask(client: Any, app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    question = "How much is a single tram ticket to the airport?"
    result = client.predict(question, api_name="/ask")

    assert result == cli_json(app, capsys, question)
    assert set(result) == {"question", "answer", "abstained", "citations", "search_query", "notice", "verification",
                           "confidence", "clarify", "time_filter"}
    assert result["abstained"] is False and "[1]" in result["answer"]
    assert result["citations"][0]["source"] == "Ostwick Times"
    for citation in result["citations"]:
        assert (
            rag.document(citation["doc_id"], settings=app.settings).text[citation["start"] : citation["end"]]
            == (citation["quote"])
        )
        assert f"{citation['quote']} [{citation['n']}]" in result["answer"]


def test_ask_endpoint_takes_k_and_filters(client: Any, app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    question = "How much is a single tram ticket to the airport?"
    result = client.predict(question, 3, "2024-01-01", "2024-12-31", ["Ostwick Times"], api_name="/ask")
    expected = cli_json(app, capsys, question, "-k", "3", "--since", "2024-01-01", "--until", "2024-12-31",
                        "--source", "Ostwick Times")  # fmt: skip
    assert result == expected and not result["abstained"]
    excluded = client.predict(question, 5, "2025-01-01", "", None, api_name="/ask")
    assert excluded["abstained"] is True and excluded["citations"] == []


def test_ask_endpoint_errors_are_readable_messages(client: Any) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as empty:
        client.predict("   ", api_name="/ask")
    assert str(empty.value) == "The question is empty: type a question about the indexed articles."
    with pytest.raises(AppError) as bad_date:
        client.predict("When did the museum open?", 5, "last week", api_name="/ask")
    assert str(bad_date.value) == "'last week' is not a date: use YYYY-MM-DD"


def test_only_the_ask_endpoint_is_public(client: Any) -> None:
    info = client.view_api(print_info=False, return_format="dict")
    assert list(info["named_endpoints"]) == ["/ask"]
    assert info["unnamed_endpoints"] == {}


def test_a_question_back_through_the_api_and_the_answer_within_the_chosen_story(client: Any) -> None:
    asked = client.predict("Who paid for it?", api_name="/ask")  # no subject of its own; several stories match
    assert asked["abstained"] and asked["answer"].startswith("Which story do you mean?")
    lighthouse = next(s for s in asked["clarify"] if s["title"].startswith("Glenmoor lighthouse"))
    within = client.predict("Who paid for it?", document=lighthouse["doc_id"], api_name="/ask")
    assert within["clarify"] == [] and "fishing cooperative" in within["answer"]
    assert {c["doc_id"] for c in within["citations"]} == {lighthouse["doc_id"]}
