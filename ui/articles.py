"""The list of the Articles tab: indexed articles, searched by title, deleted one at a time, with
what arrived since the reader's last visit (a time kept in the browser's local storage)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import gradio as gr

import rag.api
from rag.errors import InputError
from rag.index.local_cache import Article
from rag.index.sync import delete_article
from rag.settings import Settings

from .feeds import patiently

COLUMNS = ["", "Title", "Source", "Published", "Added", "Id"]
LIMIT = 200  # rows shown; a title search finds the others


def _row(article: Article, last_visit: float) -> list[Any]:
    new = "new" if last_visit and article.indexed_at > last_visit else ""
    published = article.published.date().isoformat() if article.published else "undated"
    added = datetime.fromtimestamp(article.indexed_at).strftime("%Y-%m-%d %H:%M")
    return [new, article.title, article.source, published, added, article.doc_id]


def article_rows(settings: Settings, title: str = "", last_visit: float = 0.0) -> list[list[Any]]:
    return [_row(a, last_visit) for a in rag.api.articles(title or "", limit=LIMIT, settings=settings)]


def arrivals(settings: Settings, last_visit: float) -> str:
    """What arrived since the last visit (nothing to say on a first visit)."""
    if not last_visit:
        return "Welcome: this is your first visit from this browser."
    count = len(rag.api.articles(limit=10_000, added_since=last_visit, settings=settings))
    since = datetime.fromtimestamp(last_visit).strftime("%Y-%m-%d %H:%M")
    return f"{count} article{'s' if count != 1 else ''} arrived since your last visit ({since}); marked “new”."


def delete(settings: Settings, doc_id: str) -> str:
    if not doc_id:
        raise InputError("Click an article in the list first.")
    report = patiently(lambda: delete_article(settings, doc_id))
    return f"Deleted {doc_id}: its file and its {report.chunks_deleted} passages are gone from the index."


def selected_id(evt: gr.SelectData) -> str:
    """The document id of the row clicked (its last column)."""
    row = evt.row_value or []
    return str(row[-1]) if row else ""
