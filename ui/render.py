"""The HTML of answers and of the source panel, built here and escaped here.

Article titles, sources, URLs, quotes and text are untrusted: every piece goes
through ``html.escape`` before it meets markup, and only http(s) URLs become
links. Gradio's own sanitizer is a second line of defence, never the first
(``gr.HTML`` sets ``innerHTML`` without sanitizing at all).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import urlsplit

from rag.answer.extractive import WEAK_CONFIDENCE
from rag.prompts import CLARIFY_NONE, CLARIFY_QUESTION, WEAK_ANSWER
from rag.schema import Document, Story

CITATION = re.compile(r"\[(\d+)\]")
CONTEXT_CHARS = 2500  # document text shown either side of the quote
DOCUMENT_LIMIT = 3 * CONTEXT_CHARS  # shorter documents are shown whole

Citation = Mapping[str, Any]  # the JSON of rag.Citation.to_json(): what the UI keeps per answer turn

EMPTY_PANEL = (
    '<div class="source-panel empty"><p>Click a citation such as <span class="cite-sample">[1]</span> '
    "in an answer to read the article here, with the quoted passage highlighted.</p></div>"
)


def esc(text: object) -> str:
    """Escape for both element content and quoted attribute values."""
    return escape("" if text is None else str(text), quote=True)


def safe_url(url: object) -> str | None:
    """The URL if it is an absolute http(s) URL; anything else (``javascript:``, ``data:``) is not linked."""
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def cite_link(turn: int, n: int) -> str:
    """A clickable ``[n]``; the panel script in ui/app.py turns a click on it into a ``cite`` event.

    The numbers travel in the href: the Chatbot's sanitizer drops ``data-*`` attributes.
    """
    return f'<a class="cite" href="#cite-{turn}-{n}" title="Show source {n}" role="button">[{n}]</a>'


def render_answer(
    text: str, turn: int, numbers: Sequence[int], *, complete: bool = True, confidence: float | None = None
) -> str:
    """Answer text with each known ``[n]`` made a citation link; the rest escaped.

    ``complete`` is false while the text is still streaming (CSS shows a cursor; tests wait for it).
    An answer with a ``confidence`` below WEAK_CONFIDENCE is marked weak, with its confidence.
    """
    known = set(numbers)
    out: list[str] = []
    last = 0
    for match in CITATION.finditer(text):
        n = int(match.group(1))
        if n not in known:
            continue
        out.append(esc(text[last : match.start()]))
        out.append(cite_link(turn, n))
        last = match.end()
    out.append(esc(text[last:]))
    state = "complete" if complete else "streaming"
    if confidence is not None and confidence < WEAK_CONFIDENCE:
        note = esc(WEAK_ANSWER.format(percent=round(100 * confidence)))
        return f'<div class="answer weak {state}"><span class="weak-note">{note}</span> {"".join(out)}</div>'
    return f'<div class="answer {state}">{"".join(out)}</div>'


def render_abstained(text: str) -> str:
    return f'<div class="answer abstained complete">{esc(text)}</div>'


def render_clarify(stories: Sequence[Story], turn: int) -> str:
    """The question back: each story a link that asks the question again within that story."""
    items = []
    for k, story in enumerate(stories, start=1):
        date = f", {story.published:%Y-%m-%d}" if story.published else ""
        link = f'<a class="story" href="#story-{turn}-{k}" role="button">{esc(story.title or story.doc_id)}</a>'
        items.append(f"<li>{link} ({esc(story.source)}{esc(date)})</li>")
    return (f'<div class="answer abstained clarify complete">{esc(CLARIFY_QUESTION)}<ol>{"".join(items)}</ol>'
            f"{esc(CLARIFY_NONE)}</div>")


def render_question(text: str) -> str:
    return f'<div class="question">{esc(text)}</div>'


def render_status(message: str, *, error: bool = False) -> str:
    """One line under the question box or the upload form; errors are red, never tracebacks."""
    kind = "error" if error else "info"
    return f'<div class="status {kind}" role="status">{esc(message)}</div>' if message else ""


def published_date(citation: Citation) -> str:
    value = citation.get("published")
    return str(value)[:10] if value else ""


def meta_line(source: str, published: str, url: str) -> str:
    """Source name, date and (when http(s)) a link to the original."""
    parts = [f'<span class="source-name">{esc(source or "unknown source")}</span>']
    if published:
        parts.append(f'<time datetime="{esc(published)}">{esc(published)}</time>')
    else:
        parts.append('<span class="undated">undated</span>')  # when sources differ over time, say which has no date
    link = safe_url(url)
    if link:
        parts.append(f'<a href="{esc(link)}" target="_blank" rel="noopener noreferrer">original</a>')
    return '<div class="meta">' + " · ".join(parts) + "</div>"


def also_in(citation: Citation) -> str:
    """The sources of the story's other copies, which the answer left out (one copy of each story)."""
    sources = [str(s) for s in citation.get("also_in") or []]
    return f'<div class="meta also-in">also in: {esc(", ".join(sources))}</div>' if sources else ""


def render_source_list(citations: Sequence[Citation], turn: int, open_n: int | None = None) -> str:
    """Every source of one answer: [n], title, source name, published date."""
    items = []
    for c in citations:
        n = int(c["n"])
        current = ' class="open"' if n == open_n else ""
        items.append(
            f"<li{current}>{cite_link(turn, n)} "
            f'<span class="title">{esc(c.get("title") or c.get("doc_id"))}</span>'
            f"{meta_line(str(c.get('source') or ''), published_date(c), str(c.get('url') or ''))}{also_in(c)}</li>"
        )
    return '<ol class="sources">' + "".join(items) + "</ol>"


def locate_quote(text: str, citation: Citation) -> tuple[int, int] | None:
    """Where the quote is in the document now: its offsets, or found again if the article was re-indexed."""
    quote = str(citation.get("quote") or "")
    start, end = int(citation.get("start") or 0), int(citation.get("end") or 0)
    if quote and 0 <= start < end <= len(text) and text[start:end] == quote:
        return start, end
    found = text.find(quote) if quote else -1
    return (found, found + len(quote)) if found >= 0 else None


def render_document(document: Document, citation: Citation) -> str:
    """The cited article with the quote marked in its surrounding text."""
    text = document.text
    span = locate_quote(text, citation)
    head = (
        f'<h3 class="doc-title">{esc(document.title)}</h3>'
        f"{meta_line(document.source, document.published_iso[:10], document.url)}"
    )
    if span is None:
        body = esc(text[:DOCUMENT_LIMIT]) + ("…" if len(text) > DOCUMENT_LIMIT else "")
        note = '<p class="note">This article changed after the answer was given; the quote is no longer in it.</p>'
        return f'<article class="document">{head}{note}<div class="doc-text">{body}</div></article>'
    start, end = span
    lo = 0 if len(text) <= DOCUMENT_LIMIT else max(0, start - CONTEXT_CHARS)
    hi = len(text) if len(text) <= DOCUMENT_LIMIT else min(len(text), end + CONTEXT_CHARS)
    body = (
        ("…" if lo > 0 else "")
        + esc(text[lo:start])
        + f'<mark id="quote">{esc(text[start:end])}</mark>'
        + esc(text[end:hi])
        + ("…" if hi < len(text) else "")
    )
    return f'<article class="document">{head}<div class="doc-text">{body}</div></article>'


def render_panel(citations: Sequence[Citation], turn: int, open_n: int | None = None, body: str = "") -> str:
    """The source panel: the answer's sources, then the opened article (if any)."""
    if not citations:
        return EMPTY_PANEL
    heading = '<h3 class="panel-heading">Sources of this answer</h3>'
    return f'<div class="source-panel">{heading}{render_source_list(citations, turn, open_n)}{body}</div>'


def render_panel_message(message: str) -> str:
    return f'<div class="source-panel"><p class="status error">{esc(message)}</p></div>'
