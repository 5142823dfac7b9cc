"""The HTML the UI builds: every article-derived string escaped, only http(s) links."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rag.schema import Document, Story
from ui import render

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>\"'&"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;&quot;&#x27;&amp;"


def citation(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "n": 1, "doc_id": "local/a.txt", "title": "Title", "source": "local", "url": "",
        "published": None, "quote": "Quoted sentence.", "start": 6, "end": 22,
    }  # fmt: skip
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a?b=1", "https://example.org/a?b=1"),
        ("http://example.org", "http://example.org"),
        ("javascript:alert(1)", None),
        (" JavaScript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("//example.org/x", None),
        ("https:///nohost", None),
        ("", None),
        (None, None),
    ],
)
def test_only_absolute_http_urls_are_links(url: object, expected: str | None) -> None:
    assert render.safe_url(url) == expected


def test_answer_links_known_citations_and_escapes_everything_else() -> None:
    html = render.render_answer(f"{HOSTILE} [1] more [2] and [7]", turn=3, numbers=[1, 2])
    assert ESCAPED in html
    assert "<img" not in html and "<script" not in html
    assert html.count('<a class="cite"') == 2
    assert 'href="#cite-3-1"' in html and 'href="#cite-3-2"' in html
    assert "[7]" in html and "#cite-3-7" not in html  # not a citation of this answer: plain text
    assert 'class="answer complete"' in html
    assert 'class="answer streaming"' in render.render_answer("partial [1", 0, [1], complete=False)


def test_question_and_status_are_escaped() -> None:
    assert ESCAPED in render.render_question(HOSTILE)
    assert ESCAPED in render.render_status(HOSTILE, error=True)
    assert render.render_status("") == ""


def test_source_list_escapes_titles_and_sources_and_links_only_http() -> None:
    items = [
        citation(title=HOSTILE, source=HOSTILE, url="javascript:alert(1)"),
        citation(n=2, title="Safe", url="https://example.org/x", published="2024-03-14T09:00:00+00:00"),
    ]
    html = render.render_panel(items, turn=0, open_n=2)
    assert html.count(ESCAPED) == 2
    assert "javascript:" not in html
    assert '<a href="https://example.org/x" target="_blank" rel="noopener noreferrer">original</a>' in html
    assert '<time datetime="2024-03-14">2024-03-14</time>' in html
    assert '<li class="open"><a class="cite" href="#cite-0-2"' in html


def test_sources_say_undated_and_name_the_other_copies_of_a_story() -> None:
    items = [citation(published=None, also_in=["Valley Post", HOSTILE]), citation(n=2, published="2024-03-14")]
    html = render.render_source_list(items, turn=0)
    first, second = html.split("</li>")[:2]
    assert '<span class="undated">undated</span>' in first and "undated" not in second
    assert f'<div class="meta also-in">also in: Valley Post, {ESCAPED}</div>' in first and "also in" not in second


def test_document_marks_the_quote_in_its_context_and_escapes_it() -> None:
    text = f"Start {HOSTILE} middle. Quoted sentence. End {HOSTILE}"
    start = text.index("Quoted sentence.")
    doc = Document(doc_id="d", title=HOSTILE, text=text, source=HOSTILE, url="javascript:x",
                   published=datetime(2024, 1, 2, tzinfo=UTC))  # fmt: skip
    html = render.render_document(doc, citation(start=start, end=start + 16))
    assert '<mark id="quote">Quoted sentence.</mark>' in html
    assert html.count(ESCAPED) == 4  # title, source, and the text either side of the quote
    assert "<img" not in html and "<script" not in html and "javascript:" not in html


def test_document_finds_a_moved_quote_or_says_it_is_gone() -> None:
    doc = Document(doc_id="d", title="T", text="New first line. Quoted sentence. Tail.")
    moved = render.render_document(doc, citation(start=0, end=16))
    assert '<mark id="quote">Quoted sentence.</mark>' in moved
    gone = render.render_document(doc, citation(quote="A sentence that was edited away.", start=0, end=32))
    assert "<mark" not in gone and "no longer in it" in gone


def test_long_documents_show_the_quote_with_context_around_it() -> None:
    text = "x" * 20_000 + " Quoted sentence. " + "y" * 20_000
    start = text.index("Quoted")
    html = render.render_document(Document(doc_id="d", title="T", text=text), citation(start=start, end=start + 16))
    assert '<mark id="quote">Quoted sentence.</mark>' in html
    assert len(html) < 2 * render.CONTEXT_CHARS + 1000
    assert html.count("…") == 2


def test_weak_answers_are_marked_with_their_confidence() -> None:
    from ui import render

    weak = render.render_answer("Maybe this. [1]", 0, [1], confidence=0.31)
    assert 'class="answer weak complete"' in weak and "about 31% likely" in weak and 'href="#cite-0-1"' in weak
    sure = render.render_answer("Surely this. [1]", 0, [1], confidence=0.93)
    assert "weak" not in sure
    assert "weak" not in render.render_answer("No confidence given. [1]", 0, [1])


def test_a_question_back_links_each_story_and_escapes_its_title() -> None:
    stories = [Story("a", HOSTILE, HOSTILE, "", datetime(2024, 5, 2, tzinfo=UTC)), Story("b", "", "src", "", None)]
    html = render.render_clarify(stories, turn=4)
    assert html.count('class="story"') == 2 and 'href="#story-4-1"' in html and 'href="#story-4-2"' in html
    assert "<script>" not in html and "<img" not in html and ESCAPED in html
    assert "2024-05-02" in html and ">b</a>" in html  # no title: the document id
    assert html.endswith("</ol>If none of these is the story you mean, ask again naming who or what it is about.</div>")
