"""End to end in Debian chromium: ask, stream, click a citation, upload, paste, and a hostile article."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # the real model, servers or a browser

NO_ANSWER = "The indexed articles don't answer this question."


def quote_of(answer: str, n: int = 1) -> str:
    """The extractive answer is "<quote> [1] <quote> [2]" (after the note of a weak answer): the
    sentence just before ``[n]``."""
    answer = re.sub(r"^Weak answer \(about \d+% likely to hold what you asked\):\s*", "", answer)
    parts = re.split(r"\s*\[\d+\]\s*", answer)
    return parts[n - 1].strip()


def open_citation(ui: Any, answer_index: int, n: int = 1) -> Any:
    """Click ``[n]`` in the given answer and wait for the marked quote in the source panel."""
    ui.page.locator("#chat .answer.complete").nth(answer_index).locator("a.cite", has_text=f"[{n}]").click()
    ui.page.wait_for_function(
        "href => { const li = document.querySelector('#source-panel li.open a.cite');"
        " return li && li.getAttribute('href') === href && document.querySelector('#source-panel mark#quote'); }",
        arg=f"#cite-{answer_index}-{n}",
    )
    return ui.page.locator("#source-panel")


def documents_indexed(ui: Any) -> int:
    return int(ui.page.locator('#index-stats [data-figure="documents"]').inner_text())


def test_streamed_answer_with_a_citation_that_opens_the_highlighted_source(ui: Any) -> None:
    asked = ui.ask("When was the Harwick observatory telescope repaired?")

    assert asked.text.endswith("[1]"), asked.text
    expected = (
        "The Harwick observatory telescope was finally repaired on the third of May by a team of volunteer opticians."
    )
    assert quote_of(asked.text) == expected
    streaming = [s for s in asked.snapshots if s["state"] == "streaming"]
    assert len(streaming) >= 2, asked.snapshots  # it grew on screen, a few words at a time
    texts = [s["text"] for s in streaming]
    assert all(len(a) < len(b) for a, b in itertools.pairwise(texts))
    assert all(asked.text.startswith(t.strip()) for t in texts)

    panel = open_citation(ui, 0)
    mark = panel.locator("mark#quote")
    assert mark.inner_text() == expected
    assert expected in ui.app.read("local/longread.txt")
    assert panel.locator(".doc-title").inner_text() == "Harwick council minutes, spring session"
    assert "local" in panel.locator("li.open .meta").inner_text()
    # The quote is at the end of a long article: the text box must have scrolled to it.
    ui.page.wait_for_function(
        "() => { const m = document.querySelector('#source-panel mark#quote'); const box = m.closest('.doc-text');"
        " const a = m.getBoundingClientRect(), b = box.getBoundingClientRect();"
        " return box.scrollTop > 0 && a.top >= b.top && a.bottom <= b.bottom + 1"
        " && a.top >= 0 && a.bottom <= window.innerHeight; }"
    )
    ui.screenshot("answer-with-source.png")
    assert ui.external_requests() == []
    assert ui.errors == []


def test_follow_up_question_uses_the_conversation(ui: Any) -> None:
    first = ui.ask("When did the Glenmoor lighthouse museum open?")
    assert "opened as a marine museum on Saturday" in first.text

    follow_up = ui.ask("Who paid for its restoration?")
    assert "fishing cooperative and a lottery grant" in follow_up.text
    panel = open_citation(ui, 1)
    assert panel.locator(".doc-title").inner_text() == "Glenmoor lighthouse reopens as a marine museum"
    assert panel.locator("mark#quote").inner_text() == quote_of(follow_up.text)
    # The first answer's citation still opens its own source.
    panel = open_citation(ui, 0)
    assert panel.locator("mark#quote").inner_text() == quote_of(first.text)
    ui.screenshot("follow-up.png")


def test_filters_apply_to_the_next_question_and_errors_are_messages(ui: Any) -> None:
    ui.page.locator("#question textarea").press("Enter")
    ui.page.wait_for_function("() => document.querySelector('#ask-status').innerText.includes('empty')")
    assert ui.status() == "The question is empty: type a question about the indexed articles."

    ui.page.locator("#filters").click()
    ui.page.locator("#sources input").click()
    ui.page.locator('#sources [role="option"][aria-label="Ostwick Times"]').click()
    ui.page.keyboard.press("Escape")
    assert ui.ask("When did the Glenmoor lighthouse museum open?").text == NO_ANSWER
    tram = ui.ask("How much is a single tram ticket to the airport?")
    assert "2.40 euros" in tram.text
    panel = open_citation(ui, 1)
    assert "Ostwick Times" in panel.locator("li.open .meta").inner_text()
    assert "2024-03-14" in panel.locator("li.open .meta").inner_text()

    ui.page.locator("#since textarea, #since input").first.fill("2025-01-01")
    assert ui.ask("How much is a single tram ticket to the airport?").text == NO_ANSWER

    ui.page.locator("#since textarea, #since input").first.fill("yesterday")
    box = ui.page.locator("#question textarea")
    box.fill("How much is a single tram ticket to the airport?")
    box.press("Enter")
    ui.page.wait_for_function("() => document.querySelector('#ask-status').innerText.includes('not a date')")
    assert ui.status() == "'yesterday' is not a date: use YYYY-MM-DD"
    assert "Traceback" not in ui.page.content()


def choose_files(ui: Any, files: list[dict[str, Any]]) -> None:
    with ui.page.expect_file_chooser() as chooser:
        ui.page.locator("#upload-files button.upload-container").click()
    chooser.value.set_files(files)
    # Each row gets its download link once the file is on the server.
    ui.page.wait_for_function(
        "n => document.querySelectorAll('#upload-files tr.file a[href*=\"gradio_api/file=\"]').length >= n",
        arg=len(files),
    )


def click_and_wait_status(ui: Any, button: str, expect: str) -> str:
    ui.page.evaluate("() => { const s = document.querySelector('#articles-status'); s.dataset.before = s.innerText; }")
    ui.page.locator(button).click()
    ui.page.wait_for_function(
        "want => { const s = document.querySelector('#articles-status'); return s.innerText.includes(want); }",
        arg=expect,
        timeout=60_000,
    )
    return ui.status("#articles-status")


def test_uploaded_article_is_indexed_and_cited(ui: Any) -> None:
    ui.tab("Articles")
    before = documents_indexed(ui)
    article = (
        "Thornby beekeepers report a record honey year\n\n"
        "Beekeepers in Thornby collected eleven tonnes of heather honey this summer, the most since records began. "
        "The association credits a warm June and new hives donated by the town's bakery.\n"
    )
    choose_files(ui, [{"name": "beekeepers.txt", "mimeType": "text/plain", "buffer": article.encode()}])
    status = click_and_wait_status(ui, "#upload-button", "Added 1 file")
    assert "1 added" in status
    assert documents_indexed(ui) == before + 1
    saved = Path(ui.app.settings.corpus_dir) / "uploads" / "beekeepers.txt"
    assert saved.read_text(encoding="utf-8") == article

    ui.tab("Chat")
    asked = ui.ask("How much heather honey did the Thornby beekeepers collect?")
    assert "eleven tonnes of heather honey" in asked.text and "[1]" in asked.text
    panel = open_citation(ui, 0)
    assert panel.locator(".doc-title").inner_text() == "Thornby beekeepers report a record honey year"
    assert panel.locator("li.open .meta").inner_text().startswith("uploads")
    ui.screenshot("uploaded-article-cited.png")


def test_pasted_article_is_indexed_and_cited(ui: Any) -> None:
    ui.tab("Articles")
    ui.page.locator("#paste-title textarea, #paste-title input").first.fill("Velden ferry gets an electric engine")
    ui.page.locator("#paste-text textarea").fill(
        "The Velden river ferry was fitted with an electric engine in October. "
        "The Velden ferry batteries charge at the north landing in twenty minutes, and the crossing is now silent."
    )
    status = click_and_wait_status(ui, "#paste-button", "Added the article")
    assert re.search(r"uploads/velden-ferry-gets-an-electric-engine-[0-9a-f]{8}\.txt", status), status
    assert ui.page.locator("#paste-text textarea").input_value() == ""

    ui.tab("Chat")
    asked = ui.ask("How long do the Velden ferry batteries take to charge?")
    assert "twenty minutes" in asked.text
    panel = open_citation(ui, 0)
    assert panel.locator(".doc-title").inner_text() == "Velden ferry gets an electric engine"


def corpus_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_refused_uploads_say_why_and_write_nothing_outside_uploads(ui: Any) -> None:
    corpus = Path(ui.app.settings.corpus_dir)
    outside_before = corpus_files(corpus.parent)
    ui.tab("Articles")

    # The browser refuses a type the index does not read (and the server would too: see test_handlers).
    with ui.page.expect_file_chooser() as chooser:
        ui.page.locator("#upload-files button.upload-container").click()
    chooser.value.set_files([{"name": "payload.exe", "mimeType": "application/octet-stream", "buffer": b"MZ..."}])
    toast = ui.page.locator(".toast-body", has_text="Invalid file type")
    toast.wait_for()
    assert "payload.exe" in toast.inner_text()
    ui.page.locator("#upload-files .clear-status button").click()  # what a user does to dismiss Gradio's error
    ui.page.locator("#upload-files .clear-status").wait_for(state="detached")

    big = b"Oversized\n\n" + b"filler words " * (500 * 1024)  # 6.5 MB, over the 5 MB limit
    choose_files(ui, [{"name": "oversized.txt", "mimeType": "text/plain", "buffer": big}])
    status = click_and_wait_status(ui, "#upload-button", "Not added")
    assert "oversized.txt: file too large (6.3 MB; the limit is 5 MB)" in status

    escape = b"Escape attempt\n\nA short text that must land inside the uploads folder.\n"
    choose_files(ui, [{"name": "../../escape.txt", "mimeType": "text/plain", "buffer": escape}])
    click_and_wait_status(ui, "#upload-button", "Added 1 file")
    assert (corpus / "uploads" / "escape.txt").read_bytes() == escape
    new_files = corpus_files(corpus.parent) - outside_before
    assert new_files, "the upload wrote nothing"
    assert all(
        f.startswith("corpus/uploads/") or f.startswith("index/") or f.startswith("gradio-tmp/") or f == "app.log"
        for f in new_files
    ), new_files
    assert not any(f.endswith("oversized.txt") and f.startswith("corpus/") for f in new_files)
    assert ui.dialogs == []


HOSTILE_TEXT = [
    "<script>alert(1)</script>",
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">",
    '<a href="javascript:alert(2)">click</a>',
    "${document.body.setAttribute('data-pwned','2')}",
]


def assert_nothing_ran(ui: Any) -> None:
    ui.page.wait_for_timeout(500)  # an injected <img src=x> would have fired onerror by now
    assert ui.dialogs == []
    assert ui.page.evaluate("() => document.body.getAttribute('data-pwned')") is None
    injected = ui.page.evaluate(
        "() => ({img: document.querySelectorAll('img[src=\"x\"]').length,"
        " script: document.querySelectorAll('#chat script, #source-panel script').length,"
        " js_links: Array.from(document.querySelectorAll('a[href]'))"
        "   .filter(a => a.getAttribute('href').trim().toLowerCase().startsWith('javascript:')).length,"
        " handlers: document.querySelectorAll('[onerror], [onmouseover], [onclick]').length})"
    )
    assert injected == {"img": 0, "script": 0, "js_links": 0, "handlers": 0}


def test_hostile_article_executes_nothing(ui: Any) -> None:
    asked = ui.ask("How many entries did the Brindlemere poster contest receive?")
    assert "<img src=x onerror=" in asked.text  # the markup is shown as text
    panel = open_citation(ui, 0)
    shown = panel.inner_text()
    for markup in HOSTILE_TEXT:
        assert markup in shown, markup
    assert "Brindlemere poster contest <script>alert(1)</script> draws record entries" in shown
    assert_nothing_ran(ui)
    ui.screenshot("hostile-article.png")

    # Hostile title, source name and a javascript: URL in a JSON article.
    asked = ui.ask("How many volunteers cleaned the Merrow canal?")
    assert "Ninety volunteers" in asked.text
    panel = open_citation(ui, 1)
    meta = panel.locator("li.open .meta").inner_text()
    assert "<b onmouseover=alert(6)>Merrow Gazette</b>" in meta
    assert "original" not in meta  # a javascript: URL is never made a link
    assert panel.locator(".doc-title").inner_text().startswith("<img src=x onerror=")
    panel.locator("li.open .source-name").hover()
    assert_nothing_ran(ui)

    # A question is untrusted too: it is echoed into the chat as text.
    asked = ui.ask(f"Did {HOSTILE_TEXT[1]} {HOSTILE_TEXT[0]} win the poster contest?")
    assert HOSTILE_TEXT[1] in ui.page.locator("#chat .question").last.inner_text()
    assert_nothing_ran(ui)

    # Control: the same markup, inserted unescaped, does run in this browser, so the checks above can fail.
    ui.page.evaluate(
        "html => { const d = document.createElement('div'); d.innerHTML = html; document.body.appendChild(d); }",
        HOSTILE_TEXT[1],
    )
    ui.page.wait_for_function("() => document.body.getAttribute('data-pwned') === '1'")


def test_a_question_back_lists_the_stories_and_a_click_asks_within_one(ui: Any) -> None:
    asked = ui.ask("Who paid for it?")  # a first question with no subject; several stories match
    assert asked.text.startswith("Which story do you mean?"), asked.text
    assert "If none of these is the story you mean" in asked.text, asked.text  # what to do when it is not listed
    stories = ui.page.locator("#chat a.story")
    assert stories.count() >= 2
    answers = ui.page.locator("#chat .answer.complete")
    before = answers.count()
    ui.page.locator("#chat a.story", has_text="Glenmoor lighthouse").click()
    ui.page.wait_for_function("n => document.querySelectorAll('#chat .answer.complete').length > n", arg=before)
    answer = answers.nth(before).inner_text()
    assert "fishing cooperative and a lottery grant" in answer, answer
    panel = open_citation(ui, 1)
    assert panel.locator(".doc-title").inner_text() == "Glenmoor lighthouse reopens as a marine museum"
    assert ui.page.evaluate("() => document.body.getAttribute('data-pwned')") is None  # titles shown as text
    ui.screenshot("question-back.png")
    assert ui.errors == [] and ui.dialogs == []
