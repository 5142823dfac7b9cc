"""ask() and search() end to end: real model, real Chroma, real FTS5."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator

import pytest

import rag
from rag import api
from rag.errors import DocumentNotFoundError, IndexEmptyError, InputError
from rag.index.sync import sync
from rag.prompts import CLARIFY_QUESTION, NO_ANSWER
from rag.schema import Answer
from rag.settings import Settings

pytestmark = pytest.mark.slow  # the real model, servers or a browser

DATED = [
    {"title": "Council approves night buses", "source": "Northern Ledger", "published": "2023-02-10",
     "text": "The Brackwater council approved a network of night buses. The first routes start in May, the "
             "transport committee said."},
    {"title": "Night buses start running", "source": "Coastal Daily", "published": "2024-05-02",
     "text": "Brackwater's first night buses started running on Thursday. Riders praised the late routes, and "
             "the council plans four more lines."},
    {"title": "Night bus network doubles", "source": "Northern Ledger", "published": "2025-09-15",
     "text": "Brackwater doubled its night bus network to twelve lines this week after strong demand, the "
             "transport committee said."},
]


def check_contract(answer: Answer, settings: Settings) -> Answer:
    """Every [n] has a citation, every citation is used, and quotes sit at their offsets."""
    used = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    numbers = [c.n for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1))
    assert set(used) == set(numbers)
    for c in answer.citations:
        doc = rag.document(c.doc_id, settings=settings)
        assert doc.text[c.start : c.end] == c.quote
        assert c.quote and c.title == doc.title and c.source == doc.source and c.url == doc.url
        assert c.published == doc.published
    if answer.clarify:
        assert answer.abstained and answer.text.startswith(CLARIFY_QUESTION) and answer.citations == []
    elif answer.abstained:
        assert answer.text == NO_ANSWER and answer.citations == []
    else:
        assert answer.citations
    return answer


@pytest.fixture
def indexed(settings: Settings, corpus, write) -> Iterator[Settings]:
    write(settings.corpus_dir / "buses.json", json.dumps(DATED))
    sync(settings)
    yield settings
    api.close_all()


def ask(settings: Settings, question: str, **kwargs) -> Answer:
    return check_contract(rag.ask(question, settings=settings, **kwargs), settings)


def test_answer_quotes_the_right_sentence(indexed: Settings) -> None:
    answer = ask(indexed, "When did the Kelvinport harbour bridge reopen?")
    assert not answer.abstained
    first = answer.citations[0]
    assert first.doc_id == "local/harbour.txt" and "reopened on Monday" in first.quote
    assert answer.text.startswith(first.quote + " [1]")
    assert answer.hits[0].doc_id == "local/harbour.txt"


def test_off_topic_questions_abstain(indexed: Settings) -> None:
    for question in ("Who won the 1998 football World Cup?", "What is the boiling point of mercury?",
                     "How do I bake sourdough bread?"):
        answer = ask(indexed, question)
        assert answer.abstained, (question, answer.text)
        assert answer.hits  # what was found is still shown to the caller


def test_follow_up_uses_history(indexed: Settings) -> None:
    first = ask(indexed, "When did the Kelvinport harbour bridge reopen?")
    follow = ask(indexed, "How much did the work cost?", history=[("When did the Kelvinport harbour bridge reopen?",
                                                                       first.text)])
    assert "Kelvinport" in follow.query
    assert follow.citations[0].doc_id == "local/harbour.txt" and "12 million euros" in follow.citations[0].quote
    # Gradio-style chat messages work the same way.
    messages = [{"role": "user", "content": "Who won the national chess title?"},
                {"role": "assistant", "content": "Mira Okonjo [1]"}]
    answer = ask(indexed, "Where does she train?", history=messages)
    assert "Okonjo" in answer.query
    assert answer.citations[0].doc_id == "local/chess.txt" and "library club" in answer.citations[0].quote


def test_filters_by_date_and_source(indexed: Settings) -> None:
    def dates(**kw) -> set[str]:
        return {h.published.date().isoformat() for h in rag.search("night buses Brackwater", 10, settings=indexed,
                                                                     **kw) if h.published}

    assert dates() == {"2023-02-10", "2024-05-02", "2025-09-15"}
    assert dates(since="2024-01-01") == {"2024-05-02", "2025-09-15"}
    assert dates(until="2024-05-02") == {"2023-02-10", "2024-05-02"}
    assert dates(since="2024-01-01", sources=["Northern Ledger"]) == {"2025-09-15"}
    hits = rag.search("night buses", 10, settings=indexed, sources=["Coastal Daily"])
    assert {h.source for h in hits} == {"Coastal Daily"}
    answer = ask(indexed, "What did the transport committee say about night buses?", until="2023-12-31")
    assert {c.published.year for c in answer.citations} == {2023}
    with pytest.raises(InputError, match="not a date"):
        rag.search("buses", settings=indexed, since="last week")


def test_a_first_question_without_a_subject_that_several_stories_match_is_asked_back(indexed: Settings) -> None:
    answer = ask(indexed, "What did the committee decide?")
    assert len(answer.clarify) >= 2 and {s.title for s in answer.clarify} <= {d["title"] for d in DATED}
    assert answer.to_json("q")["clarify"][0]["doc_id"] == answer.clarify[0].doc_id
    chosen = answer.clarify[-1]
    within = ask(indexed, "What did the committee decide?", document=chosen.doc_id)  # the user picks one
    assert not within.clarify and {h.doc_id for h in within.hits} == {chosen.doc_id}
    assert all(c.doc_id == chosen.doc_id for c in within.citations)
    with pytest.raises(DocumentNotFoundError, match=r"no document with id 'gone\.txt'"):
        rag.ask("What did the committee decide?", document="gone.txt", settings=indexed)
    history = [("When did the night buses start?", "Brackwater's first night buses started running on Thursday.")]
    assert not ask(indexed, "What did the committee decide?", history=history).clarify  # a follow-up: its subject


def test_latest_questions_favour_newer_articles(indexed: Settings) -> None:
    hits = rag.search("latest news on the Brackwater night bus network", 3, settings=indexed)
    assert hits[0].published.year == 2025
    answer = ask(indexed, "What is the latest on the Brackwater night bus network?")
    years = [c.published.year for c in answer.citations]
    assert years[0] == 2025 and years == sorted(years, reverse=True)  # the newest report is quoted first


def test_time_expressions_become_date_filters_and_explicit_filters_win(indexed: Settings) -> None:
    settings = dataclasses.replace(indexed, today="2025-10-06")
    answer = ask(settings, "What did the transport committee say about night buses last month?")
    assert [c.published.date().isoformat() for c in answer.citations] == ["2025-09-15"]
    assert answer.time_filter == "articles published 2025-09-01 to 2025-09-30 (“last month”)"
    assert answer.query == "What did the transport committee say about night buses?"
    hits = rag.search("night buses in 2023", 10, settings=settings)
    assert {h.published.year for h in hits if h.published} == {2023}
    explicit = rag.search("night buses in 2023", 10, settings=settings, since="2024-01-01")
    assert {h.published.year for h in explicit if h.published} == {2024, 2025}
    since = rag.search("night buses since 2024", 10, settings=settings)
    assert {h.published.year for h in since if h.published} == {2024, 2025}
    # Relative: a filter even when nothing was published then. With a year and nothing published in it, the
    # year may date the event, not the report: searched as asked.
    none = ask(settings, "What did the council decide about night buses yesterday?")
    assert none.abstained and "2025-10-05 to 2025-10-05" in none.time_filter
    question = "What did the transport committee say about night buses in May 2021?"
    asked = ask(settings, question)
    assert asked.time_filter == "" and asked.query == question
    assert "2025-09-01" in rag.ask("What happened to the night buses last month?", settings=settings).to_json("q")[
        "time_filter"]


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "The question is empty"),
        ("   \n\t ", "The question is empty"),
        ("\x00\x01\x07\x1b", "The question is empty"),
        ("why " * 25_000, "The question is too long (100,000 characters; the limit is 2,000)"),
        (None, "must be text"),
    ],
)
def test_bad_questions_get_clear_errors(indexed: Settings, question: object, message: str) -> None:
    with pytest.raises(InputError) as caught:
        rag.ask(question, settings=indexed)  # type: ignore[arg-type]
    assert message in str(caught.value)
    with pytest.raises(InputError):
        rag.search(question, settings=indexed)  # type: ignore[arg-type]


def test_control_characters_inside_a_question_are_ignored(indexed: Settings) -> None:
    answer = ask(indexed, "When did the\x00 Kelvinport\u200b harbour\x1b bridge reopen?")
    assert answer.citations[0].doc_id == "local/harbour.txt"


def test_bad_k(indexed: Settings) -> None:
    with pytest.raises(InputError, match="k must be"):
        rag.search("bridge", 0, settings=indexed)


def test_empty_or_missing_index(settings: Settings) -> None:
    with pytest.raises(IndexEmptyError, match=r"the index is empty: run `rag index`"):
        rag.ask("anything?", settings=settings)
    sync(settings)  # an index of an empty corpus
    api.close_all()
    with pytest.raises(IndexEmptyError, match=r"the index is empty: run `rag index`"):
        rag.ask("anything?", settings=settings)
    api.close_all()


def test_document_returns_stored_text(indexed: Settings, corpus) -> None:
    doc = rag.document("local/orchard.txt", settings=indexed)
    assert doc.text == (corpus / "local" / "orchard.txt").read_text()
    with pytest.raises(rag.RagError, match="no document"):
        rag.document("nope", settings=indexed)


def test_answers_see_articles_indexed_by_another_process(indexed: Settings, write) -> None:
    import os
    import subprocess
    import sys

    assert ask(indexed, "Who won the national chess title?").citations  # the index is open in this process
    write(indexed.corpus_dir / "local" / "glider.txt",
          "Glider record set over Varn valley\n\nPilot Anouk Brel flew her glider 1,140 kilometres over the Varn "
          "valley on Saturday, a national distance record.")
    env = {**os.environ, "RAG_INDEX_DIR": str(indexed.index_dir), "RAG_CORPUS_DIR": str(indexed.corpus_dir)}
    subprocess.run([sys.executable, "-m", "rag", "index"], env=env, check=True, capture_output=True, timeout=300)
    answer = ask(indexed, "How far did Anouk Brel fly her glider?")
    assert answer.citations[0].doc_id == "local/glider.txt" and "1,140 kilometres" in answer.citations[0].quote
    assert ask(indexed, "Who won the national chess title?").citations[0].doc_id == "local/chess.txt"


def test_a_rebuild_by_another_process_is_seen_at_the_next_question(indexed: Settings, write) -> None:
    import os
    import subprocess
    import sys

    assert ask(indexed, "Who won the national chess title?").citations  # the index is open in this process
    (indexed.corpus_dir / "local" / "chess.txt").unlink()
    write(indexed.corpus_dir / "local" / "regatta.txt",
          "Regatta won by Lune crew\n\nThe Lune rowing crew won the Kelvinport regatta on Saturday by two lengths.")
    env = {**os.environ, "RAG_INDEX_DIR": str(indexed.index_dir), "RAG_CORPUS_DIR": str(indexed.corpus_dir)}
    subprocess.run([sys.executable, "-m", "rag", "index", "--rebuild"], env=env, check=True, capture_output=True,
                   timeout=300)
    answer = ask(indexed, "Which crew won the Kelvinport regatta?")  # before: read the deleted SQLite file
    assert answer.citations[0].doc_id == "local/regatta.txt"
    assert all(h.doc_id != "local/chess.txt" for h in rag.search("national chess championship", settings=indexed))


def test_many_reader_threads_while_another_thread_indexes(indexed: Settings, write) -> None:
    from concurrent.futures import ThreadPoolExecutor

    questions = ["When did the Kelvinport harbour bridge reopen?", "Who won the national chess title?",
                 "Why is the apple harvest smaller?", "When did the night buses start running?"]

    def reader(i: int) -> int:
        checked = 0
        for j in range(6):
            answer = ask(indexed, questions[(i + j) % len(questions)])
            for c in answer.citations:
                assert rag.document(c.doc_id, settings=indexed).text[c.start : c.end] == c.quote
                checked += 1
            assert rag.search("bridge repairs", 3, settings=indexed)
        return checked

    def writer() -> None:
        for n in range(4):
            write(indexed.corpus_dir / "more" / f"story{n}.txt",
                  f"Ferry line {n} opens\n\nA new ferry line number {n} opened between Kelvinport and Varn.")
            sync(indexed, [indexed.corpus_dir / "more"])

    with ThreadPoolExecutor(max_workers=9) as pool:
        written = pool.submit(writer)
        results = [pool.submit(reader, i) for i in range(8)]
        assert sum(r.result(timeout=600) for r in results) > 0
        written.result(timeout=600)
    assert ask(indexed, "Which ferry line number 3 opened?").citations[0].doc_id == "more/story3.txt"


def test_confidence_and_min_confidence(indexed: Settings) -> None:
    from rag.answer.answer_model import load_model

    default = load_model().min_confidence
    sure = ask(indexed, "When did the Kelvinport harbour bridge reopen?")
    assert not sure.abstained and default <= sure.confidence <= 1.0
    assert ask(indexed, "When did the Kelvinport harbour bridge reopen?", min_confidence=1.0).abstained
    off_topic = "What is the boiling point of mercury?"
    refused = ask(indexed, off_topic)
    assert refused.abstained and refused.confidence < default
    weak = ask(indexed, off_topic, min_confidence=0.0)  # the user asked for everything: the best guess, flagged
    assert not weak.abstained and weak.confidence == pytest.approx(refused.confidence)
    assert weak.to_json(off_topic)["confidence"] == round(weak.confidence, 3)
    for bad in (1.5, -0.1, "high", True):
        with pytest.raises(InputError, match="min_confidence"):
            rag.ask(off_topic, settings=indexed, min_confidence=bad)  # type: ignore[arg-type]


def test_a_second_sentence_is_no_near_duplicate(settings: Settings, write) -> None:
    story = ("The Ostmark dam will be closed for repairs from June, the water board said on Friday. "
             "The repairs will cost 30 million euros.")
    write(settings.corpus_dir / "wire" / "a.txt", "Ostmark dam to close\n\n" + story)
    write(settings.corpus_dir / "wire" / "b.txt", "Dam closure announced\n\n" + story + " Boats must use the canal.")
    sync(settings)
    try:
        answer = ask(settings, "When will the Ostmark dam close for repairs?")
        assert not answer.abstained and "from June" in answer.citations[0].quote
        assert all(c.quote != answer.citations[0].quote for c in answer.citations[1:])
    finally:
        api.close_all()
