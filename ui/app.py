"""The Gradio chat UI: streamed answers, clickable citations, a source panel, article upload.

``serve`` is what ``rag serve`` and ``python -m ui`` run. Every handler catches
``RagError`` and shows ``str(error)``: a user never sees a traceback.

How a citation click reaches Python: each ``[n]`` in an answer is an
``<a class="cite" href="#cite-<turn>-<n>">`` (ui/render.py; the href carries the numbers
because the Chatbot's sanitizer strips ``data-*`` attributes). The source panel is a
``gr.HTML`` whose ``js_on_load`` listens for clicks on such links anywhere in
the page and calls ``trigger('cite', {turn, n})``; the ``cite`` event runs
``Chat.open_citation`` with the session's answers (a ``gr.State``), which
renders the article from the index with the quote in ``<mark id="quote">``.
The same script ``watch``es the panel's value and scrolls the mark into view.
A question back ("Which story do you mean?") lists stories as ``<a class="story"
href="#story-<turn>-<k>">``: a click triggers ``story``, which asks the same question
again within that article (``Chat.ask_within``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from rag.errors import ConfigError, IndexEmptyError, RagError
from rag.offline import go_offline
from rag.settings import Settings

from . import articles, feeds, render
from .feeds import feed_rows
from .uploads import UploadError, allowed_suffixes, save_pasted, save_upload, uploads_dir

go_offline()  # before gradio is imported: no analytics, no version check

import gradio as gr  # noqa: E402

import rag  # noqa: E402
import rag.api  # noqa: E402  (ask_stream: retrieval under the lock, generation outside it)
from rag.answer.registry import ANSWERERS  # noqa: E402
from rag.index.sync import IndexReport, file_key, sync  # noqa: E402

STREAM_WORDS = 3  # words per streamed update
STREAM_DELAY = 0.03  # seconds between updates: fast, but visibly streaming
Turn = dict[str, Any]  # {"question", "answer", "abstained", "citations": [Citation JSON]}
T = TypeVar("T")


class UnexpectedError(RagError):
    """A failure that is not one of the library's own errors; the traceback goes to the server log only."""


def read_index(call: Callable[[], T]) -> T:
    """Run one read of the index. The library is safe to call from Gradio's worker threads
    and reopens the index by itself after another process re-indexed it; anything that
    still fails unexpectedly becomes a readable ``UnexpectedError`` (traceback to the log only)."""
    try:
        return call()
    except RagError:
        raise
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        raise UnexpectedError(
            f"unexpected error ({type(exc).__name__}: {exc}); the details are in the server log"
        ) from exc


PANEL_JS = r"""
const onClick = (event) => {
  const link = event.target instanceof Element ? event.target.closest('a.cite, a.story') : null;
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const found = /^#(cite|story)-(\d+)-(\d+)$/.exec(link.getAttribute('href') || '');
  if (found && found[1] === 'cite') trigger('cite', {turn: Number(found[2]), n: Number(found[3])});
  if (found && found[1] === 'story') trigger('story', {turn: Number(found[2]), n: Number(found[3])});
};
if (window.__ragCiteClick) document.removeEventListener('click', window.__ragCiteClick, true);
window.__ragCiteClick = onClick;
document.addEventListener('click', onClick, true);
const reveal = () => {
  const mark = element.querySelector('mark#quote');
  if (!mark) return;
  const box = mark.closest('.doc-text');
  if (box) box.scrollTop = Math.max(0, mark.offsetTop - box.offsetTop - box.clientHeight / 3);
  mark.scrollIntoView({block: 'nearest'});
};
watch('value', reveal);
"""

CSS = """
.answer, .question { white-space: pre-wrap; }
.answer.abstained { font-style: italic; }
.answer.weak .weak-note { color: #b45309; font-weight: 600; }
.answer.streaming::after { content: "▍"; opacity: 0.6; }
a.cite { color: var(--color-accent); font-weight: 600; text-decoration: none; cursor: pointer; padding: 0 1px; }
a.cite:hover, a.cite:focus { text-decoration: underline; }
a.story { color: var(--color-accent); font-weight: 600; cursor: pointer; font-style: normal; }
.status.error { color: #b91c1c; }
.status.info { color: inherit; }
#source-panel .source-panel { padding: 4px 8px; }
#source-panel ol.sources { padding-left: 0; list-style: none; margin: 0 0 12px 0; }
#source-panel ol.sources li { margin: 6px 0; }
#source-panel ol.sources li.open .title { font-weight: 700; }
#source-panel .meta { font-size: 0.85em; opacity: 0.8; }
#source-panel .doc-title { margin: 8px 0 2px 0; }
#source-panel .doc-text { white-space: pre-wrap; max-height: 55vh; overflow-y: auto; position: relative;
  border-top: 1px solid var(--border-color-primary); margin-top: 8px; padding-top: 8px; line-height: 1.5; }
#source-panel mark#quote { background: #fde047; color: #111; padding: 1px 0; }
"""


# --------------------------------------------------------------------------- binding


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """``USER:PASS`` (the password may contain colons) or nothing."""
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ConfigError("authentication must be given as USER:PASS (--auth or RAG_UI_AUTH)")
    return user, password


def bind_credentials(host: str, auth: str | None) -> tuple[str, str] | None:
    """The login to require; binding beyond loopback without one is refused."""
    credentials = parse_auth(auth)
    if credentials is None and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve on {host} without authentication: anyone on the network could use it. "
            "Pass --auth USER:PASS (or set RAG_UI_AUTH), or bind to 127.0.0.1"
        )
    return credentials


# --------------------------------------------------------------------------- startup


def ensure_index(settings: Settings) -> None:
    """Build the index on first start: the corpus folder's articles, or the BBC demo corpus if it has none."""
    try:
        if rag.stats(settings).documents > 0:
            return
    except IndexEmptyError:
        pass
    from rag.ingest.loaders import discover

    corpus = Path(settings.corpus_dir)
    files = discover([corpus])[0] if corpus.exists() else []
    if not files:
        from rag.ingest.bbc_demo import import_bbc

        print(f"The index and {corpus} are empty: importing the BBC News demo articles…", flush=True)
        result = import_bbc(corpus)
        print(f"demo: {result.copied} articles copied to {result.folder}", flush=True)
    print(f"Indexing {corpus} (first start; the demo corpus takes a few minutes)…", flush=True)
    report = sync(settings, progress=None)
    print(f"Index ready: {report.summary()}", flush=True)
    rag.api.close_all()


def warm_up(settings: Settings) -> threading.Thread:
    """Load the model and the index in the background while Gradio starts, so the page comes first.

    A question asked before it finishes waits for the model to load (the embedder's lock).
    """

    def run() -> None:
        with contextlib.suppress(RagError):
            rag.search("warm up", 1, settings=settings)
        from datetime import date

        from rag.retrieval.dates import parse_time

        parse_time("on 5 March", date.today())  # loads dateparser (0.3-0.5 s) before the first such question
        if settings.answerer != "extractive":
            from rag.llm import antonyms

            with contextlib.suppress(RagError):  # not installed: the first check says so
                antonyms.table()  # WordNet's antonyms (about 1.3 s) before the first generated sentence is checked

    thread = threading.Thread(target=run, name="warm-up", daemon=True)
    thread.start()
    return thread


# --------------------------------------------------------------------------- handlers


def stream_chunks(text: str, words: int = STREAM_WORDS) -> Iterator[str]:
    """Growing prefixes of ``text``, a few words at a time (whitespace kept)."""
    pieces = re.findall(r"\s*\S+", text)
    for i in range(words, len(pieces) + words, words):
        yield "".join(pieces[:i])


def index_figures(settings: Settings) -> str:
    try:
        stats = read_index(lambda: rag.stats(settings))
    except RagError as exc:
        return render.render_status(str(exc), error=True)
    last = stats.last_update.strftime("%Y-%m-%d %H:%M") if stats.last_update else "never"
    sources = ", ".join(stats.sources) or "none"
    return (
        f'<div class="figures"><b data-figure="documents">{stats.documents}</b> documents · '
        f'<b data-figure="chunks">{stats.chunks}</b> chunks · last update {render.esc(last)}'
        f"<br>sources: {render.esc(sources)}</div>"
    )


def source_choices(settings: Settings) -> list[str]:
    try:
        return read_index(lambda: rag.stats(settings).sources)
    except RagError:
        return []


class Chat:
    """The handlers, bound to one ``Settings``; callable without a browser in tests."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # ---- chat

    def respond(
        self,
        question: str,
        chat: list[dict[str, Any]] | None,
        turns: list[Turn] | None,
        since: str | None,
        until: str | None,
        sources: Sequence[str] | None,
        answerer: str | None = None,
        min_confidence: float | None = None,
        document: str | None = None,
        within: str = "",
    ) -> Iterator[tuple[Any, ...]]:
        """Stream the answer into the chat as each sentence is verified; the panel lists the sources;
        ``document`` (titled ``within``) keeps the answer to one article.

        Retrieval runs under ``read_index``; generation runs outside it, so a slow model never blocks
        other sessions. Each verified sentence is typed out a few words at a time.
        """
        chat, turns = list(chat or []), list(turns or [])
        history = [(t["question"], t["answer"]) for t in turns]
        try:
            stream = read_index(
                lambda: rag.api.ask_stream(
                    question,
                    history=history,
                    since=(since or "").strip() or None,
                    until=(until or "").strip() or None,
                    sources=list(sources or []) or None,
                    document=document,
                    answerer=answerer or None,
                    min_confidence=None if min_confidence is None else float(min_confidence),
                    settings=self.settings,
                )
            )
        except RagError as exc:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), render.render_status(str(exc), error=True)
            return
        turn = len(turns)
        label = f"{question} (in: {within})" if within else question
        chat.append({"role": "user", "content": render.render_question(label)})
        chat.append({"role": "assistant", "content": ""})
        shown = ""
        try:
            for piece in stream:
                before = f"{shown} " if shown else ""
                for partial in stream_chunks(piece):
                    text = before + partial
                    numbers = [int(n) for n in render.CITATION.findall(text)]
                    content = render.render_answer(text, turn, numbers, complete=False)
                    chat[-1] = {"role": "assistant", "content": content}
                    yield [*chat], gr.skip(), "", gr.skip(), ""  # a copy: each update is its own value
                    time.sleep(STREAM_DELAY)
                shown = before + piece
            answer = stream.result()
        except Exception as exc:  # the model and verification run outside read_index: same treatment
            if not isinstance(exc, RagError):
                traceback.print_exc(file=sys.stderr)
                message = f"unexpected error ({type(exc).__name__}: {exc}); the details are in the server log"
                exc = UnexpectedError(message)
            chat.pop()
            chat.pop()
            yield [*chat], gr.skip(), gr.skip(), gr.skip(), render.render_status(str(exc), error=True)
            return
        if answer.clarify:
            chat[-1] = {"role": "assistant", "content": render.render_clarify(answer.clarify, turn)}
        elif answer.abstained:
            chat[-1] = {"role": "assistant", "content": render.render_abstained(answer.text)}
        else:
            numbers = [c.n for c in answer.citations]
            chat[-1] = {"role": "assistant",
                        "content": render.render_answer(answer.text, turn, numbers, confidence=answer.confidence)}
        copies = {h.doc_id: list(h.also_in_sources) for h in answer.hits}
        citations = [{**c.to_json(), "also_in": copies.get(c.doc_id, [])} for c in answer.citations]
        turns.append(
            {"question": question, "answer": answer.text, "abstained": answer.abstained, "citations": citations,
             "notice": answer.notice, "confidence": answer.confidence,
             "clarify": [story.to_json() for story in answer.clarify]}
        )
        searched = f"Searched {answer.time_filter}." if answer.time_filter else ""
        note = " ".join(part for part in (searched, answer.notice) if part)
        yield chat, turns, "", render.render_panel(citations, turn), render.render_status(note)

    def open_citation(self, turns: list[Turn] | None, evt: gr.EventData) -> str:
        """The article behind citation ``n`` of answer ``turn``, read from the index, quote marked."""
        data = evt._data if isinstance(getattr(evt, "_data", None), dict) else {}
        try:
            turn, n = int(data.get("turn", -1)), int(data.get("n", -1))
        except (TypeError, ValueError):
            return gr.skip()
        turns = turns or []
        if not 0 <= turn < len(turns):
            return render.render_panel_message("That answer is no longer in this conversation.")
        citations = turns[turn]["citations"]
        citation = next((c for c in citations if c["n"] == n), None)
        if citation is None:
            return render.render_panel_message(f"Answer {turn + 1} has no source [{n}].")
        try:
            document = read_index(lambda: rag.document(citation["doc_id"], settings=self.settings))
        except RagError as exc:
            body = render.render_panel_message(f"The article is no longer in the index ({exc}).")
            return render.render_panel(citations, turn, n, body)
        return render.render_panel(citations, turn, n, render.render_document(document, citation))

    def ask_within(
        self,
        turns: list[Turn] | None,
        chat: list[dict[str, Any]] | None,
        answerer: str | None,
        min_confidence: float | None,
        evt: gr.EventData,
    ) -> Iterator[tuple[Any, ...]]:
        """Story ``n`` of the question back in answer ``turn`` was chosen: ask that question again, within it."""
        data = evt._data if isinstance(getattr(evt, "_data", None), dict) else {}
        try:
            turn, n = int(data.get("turn", -1)), int(data.get("n", -1))
        except (TypeError, ValueError):
            return
        turns = list(turns or [])
        stories = turns[turn].get("clarify", []) if 0 <= turn < len(turns) else []
        if not 1 <= n <= len(stories):
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), render.render_status("That story is no longer offered.")
            return
        story = stories[n - 1]
        yield from self.respond(turns[turn]["question"], chat, turns, None, None, None, answerer, min_confidence,
                                document=story["doc_id"], within=story["title"] or story["doc_id"])

    @staticmethod
    def clear() -> tuple[list[Any], list[Turn], str, str]:
        return [], [], render.EMPTY_PANEL, ""

    # ---- API

    def ask_json(
        self,
        question: str,
        k: int = 5,
        since: str = "",
        until: str = "",
        sources: list[str] | None = None,
        answerer: str = "",
        min_confidence: float | None = None,
        document: str = "",
    ) -> dict[str, Any]:
        """Answer a question from the indexed articles: the same JSON as `rag ask --json`.

        ``answerer``: extractive, llamacpp or openai (default: the server's RAG_ANSWERER). ``document``:
        answer from this article only (one of the stories a question back lists under ``clarify``).
        """
        try:
            stream = read_index(
                lambda: rag.api.ask_stream(
                    question,
                    k=k,
                    since=since or None,
                    until=until or None,
                    sources=sources or None,
                    document=document or None,
                    answerer=answerer or None,
                    min_confidence=min_confidence,
                    settings=self.settings,
                )
            )
            answer = stream.result()  # generation, outside the index lock
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            message = f"unexpected error ({type(exc).__name__}: {exc}); the details are in the server log"
            raise gr.Error(message, print_exception=False) from None
        return answer.to_json(question)

    # ---- articles

    def _index_uploads(self, saved: list[Path]) -> tuple[IndexReport, list[str]]:
        """Index the uploads folder only (nothing else is pruned); delete saved files that do not load."""
        report = sync(self.settings, [uploads_dir(self.settings)], progress=True)
        ours = {file_key(p, self.settings.corpus_dir): p for p in saved}
        rejected = []
        for error in report.errors:
            if error.path in ours:
                ours[error.path].unlink(missing_ok=True)
                rejected.append(f"{ours[error.path].name}: {error.error}")
        return report, rejected

    def _after_indexing(self, message: str, *, error: bool = False) -> tuple[str, str, Any]:
        """Status line, fresh index figures and source choices: the outputs of every indexing action."""
        return (
            render.render_status(message, error=error),
            index_figures(self.settings),
            gr.Dropdown(choices=source_choices(self.settings)),
        )

    def upload(
        self,
        files: Sequence[str] | None,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008
    ) -> tuple[str, str, Any]:
        """Save the chosen files under corpus/uploads/ and index them; say which were refused and why."""
        if not files:
            return self._after_indexing("Choose one or more article files first.", error=True)
        saved: list[Path] = []
        refused: list[str] = []
        for name in files:
            path = Path(name)
            try:
                saved.append(save_upload(path, path.name, self.settings))
            except UploadError as exc:
                refused.append(str(exc))
        parts = []
        if saved:
            progress(0, desc="indexing")
            try:
                report, rejected = self._index_uploads(saved)
            except RagError as exc:
                return self._after_indexing(str(exc), error=True)
            refused += rejected
            if len(saved) > len(rejected):
                parts.append(f"Added {len(saved) - len(rejected)} file(s) to uploads/ and indexed them.")
            parts.append(f"Index: {report.summary()}.")
        if refused:
            parts.append("Not added: " + "; ".join(refused))
        return self._after_indexing(" ".join(parts), error=not parts[0].startswith("Added"))

    def paste(
        self,
        title: str,
        text: str,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008
    ) -> tuple[Any, ...]:
        """Save a pasted article as a text file under corpus/uploads/ and index it; clear the form on success."""
        try:
            path = save_pasted(title, text, self.settings)
            progress(0, desc="indexing")
            report, rejected = self._index_uploads([path])
        except RagError as exc:
            return (*self._after_indexing(str(exc), error=True), gr.skip(), gr.skip())
        if rejected:
            return (*self._after_indexing("Not added: " + "; ".join(rejected), error=True), gr.skip(), gr.skip())
        message = f"Added the article as uploads/{path.name} and indexed it. Index: {report.summary()}."
        return (*self._after_indexing(message), "", "")

    # ---- the article list and the feeds

    def _changed(self, action: Callable[[], str], title: str, seen: float) -> tuple[Any, ...]:
        """Run an action of the list or the Feeds panel; its message (or error), then everything it may change."""
        try:
            message, error = action(), False
        except RagError as exc:
            message, error = str(exc), True
        rows = attempt(lambda: articles.article_rows(self.settings, title, seen), [])
        return (*self._after_indexing(message, error=error), rows, feed_rows(self.settings))

    def delete_article(self, doc_id: str, title: str, seen: float) -> tuple[Any, ...]:
        return self._changed(lambda: articles.delete(self.settings, doc_id), title, seen)

    def add_feed(self, url: str, every: float | None, source: str, title: str, seen: float) -> tuple[Any, ...]:
        return self._changed(lambda: feeds.add(self.settings, url, every, source), title, seen)

    def remove_feed(self, url: str, purge: bool, title: str, seen: float) -> tuple[Any, ...]:
        return self._changed(lambda: feeds.remove(self.settings, url, purge), title, seen)

    def refresh_feeds(self, url: str, title: str, seen: float) -> tuple[Any, ...]:
        return self._changed(lambda: feeds.refresh_now(self.settings, url), title, seen)

    def reindex(self, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[str, str, Any]:  # noqa: B008
        """Bring the index in line with the whole corpus folder (add, update, prune)."""
        progress(0, desc="indexing the corpus folder")
        try:
            report = sync(self.settings, progress=True)
        except RagError as exc:
            return self._after_indexing(str(exc), error=True)
        message = f"Corpus re-indexed: {report.summary()}"
        if report.errors:
            message += f" — e.g. skipped {report.errors[0].path}: {report.errors[0].error}"
        return self._after_indexing(message)


# --------------------------------------------------------------------------- layout


def attempt(call: Callable[[], T], fallback: T) -> T:
    """A read for a table or a note: a failure shows the fallback (the error reaches the status line elsewhere)."""
    try:
        return call()
    except RagError:
        return fallback


def default_min_confidence() -> float:
    """The answer model's calibrated threshold: the slider starts where `ask()` does."""
    from rag.answer.answer_model import load_model

    return round(load_model().min_confidence, 2)


def build_app(settings: Settings) -> gr.Blocks:
    chat = Chat(settings)
    # delete_cache: Gradio's copies of uploads are removed after an hour (the saved articles stay).
    with gr.Blocks(title="news-rag", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(
            "## news-rag — ask your news articles\nAnswers quote the indexed articles only; "
            "click a citation such as [1] to read its source."
        )
        turns = gr.State([])
        # Outside the tabs: a component in a tab not shown yet is not mounted, and would not read the browser's.
        last_visit = gr.BrowserState(0.0, storage_key="news-rag-last-visit")
        visit = gr.State(0.0)  # the last visit before this page load: what "new" is measured from
        with gr.Tabs():
            with gr.Tab("Chat", id="chat-tab"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        elem_id="chat",
                        label="Conversation",
                        render_markdown=False,
                        sanitize_html=True,
                        height=480,
                        feedback_options=None,
                        buttons=[],  # no share-to-Hugging-Face, no copying raw HTML
                        placeholder="Ask a question about the indexed news articles.",
                    )
                    question = gr.Textbox(
                        elem_id="question",
                        label="Question",
                        placeholder="e.g. When did the bridge reopen? (press Enter)",
                        lines=1,
                        max_lines=4,
                        submit_btn="Ask",
                    )
                    status = gr.HTML("", elem_id="ask-status", js_on_load=None)
                    with gr.Accordion("Filters (apply to the next question)", open=False, elem_id="filters"):
                        with gr.Row():
                            since = gr.Textbox(label="Published since", placeholder="YYYY-MM-DD", elem_id="since")
                            until = gr.Textbox(label="Published until", placeholder="YYYY-MM-DD", elem_id="until")
                        sources = gr.Dropdown(
                            choices=source_choices(settings),
                            multiselect=True,
                            label="Sources (none selected: all)",
                            elem_id="sources",
                        )
                        answerer = gr.Dropdown(
                            choices=list(ANSWERERS),
                            value=settings.answerer,
                            label="Answerer (extractive quotes; llamacpp/openai write an answer, every "
                            "sentence checked against the articles)",
                            elem_id="answerer",
                        )
                        min_confidence = gr.Slider(
                            0.0, 1.0, value=default_min_confidence(), step=0.01, elem_id="min-confidence",
                            label="Minimum confidence (lower: more answers, more of them wrong; weak ones are marked)",
                        )
                    clear = gr.Button("New conversation", variant="secondary", size="sm", elem_id="new-conversation")
                with gr.Column(scale=2):
                    panel = gr.HTML(
                        render.EMPTY_PANEL,
                        elem_id="source-panel",
                        js_on_load=PANEL_JS,
                        container=True,
                        padding=True,
                    )
            with gr.Tab("Articles", id="articles-tab"):
                figures = gr.HTML(index_figures(settings), elem_id="index-stats", js_on_load=None)
                with gr.Row(equal_height=False):
                    with gr.Column():
                        gr.Markdown(
                            f"**Upload article files** ({', '.join(allowed_suffixes())}; "
                            f"up to {settings.max_upload_mb:g} MB each)"
                        )
                        files = gr.File(
                            file_count="multiple",
                            file_types=allowed_suffixes(),
                            type="filepath",
                            label="Article files",
                            elem_id="upload-files",
                        )
                        upload_button = gr.Button("Add files to the index", elem_id="upload-button")
                    with gr.Column():
                        gr.Markdown("**Or paste an article**")
                        paste_title = gr.Textbox(label="Title", elem_id="paste-title")
                        paste_text = gr.Textbox(label="Text", lines=8, elem_id="paste-text")
                        paste_button = gr.Button("Add pasted article", elem_id="paste-button")
                articles_status = gr.HTML("", elem_id="articles-status", js_on_load=None)
                reindex_button = gr.Button("Re-index the corpus folder", variant="secondary", elem_id="reindex-button")
                with gr.Accordion("Feeds (RSS/Atom subscriptions, refreshed on their own)", open=True,
                                  elem_id="feeds"):
                    with gr.Row():
                        feed_url = gr.Textbox(label="Feed URL", placeholder="https://…/rss.xml", elem_id="feed-url",
                                              scale=3)
                        feed_every = gr.Number(value=60, minimum=1, precision=0, label="Every (minutes)",
                                               elem_id="feed-every", scale=1)
                        feed_source = gr.Textbox(label="Source name (empty: the feed's title)",
                                                 elem_id="feed-source", scale=2)
                    with gr.Row():
                        feed_add = gr.Button("Add feed", elem_id="feed-add")
                        feed_refresh = gr.Button("Refresh now (the URL above, or all)", elem_id="feed-refresh")
                        feed_remove = gr.Button("Remove feed", variant="secondary", elem_id="feed-remove")
                        feed_purge = gr.Checkbox(label="and delete its articles", elem_id="feed-purge")
                    feeds_status = gr.HTML("", elem_id="feeds-status", js_on_load=None)
                    feed_table = gr.Dataframe(headers=feeds.COLUMNS, interactive=False,
                                              elem_id="feed-table", wrap=True)
                with gr.Accordion("Indexed articles", open=True, elem_id="article-list"):
                    arrived = gr.HTML("", elem_id="arrivals", js_on_load=None)
                    list_status = gr.HTML("", elem_id="list-status", js_on_load=None)
                    with gr.Row():
                        title_search = gr.Textbox(label="Search titles", elem_id="title-search", scale=3)
                        selected = gr.Textbox(label="Selected article (click a row)", interactive=False,
                                              elem_id="selected-article", scale=3)
                        delete_button = gr.Button("Delete selected article", variant="stop", elem_id="delete-article",
                                                  scale=1)
                    article_table = gr.Dataframe(headers=articles.COLUMNS, interactive=False, elem_id="article-table",
                                                 wrap=True, max_height=480)

        private: dict[str, Any] = {"api_visibility": "private"}
        question.submit(
            chat.respond,
            [question, chatbot, turns, since, until, sources, answerer, min_confidence],
            [chatbot, turns, question, panel, status],
            **private,
        )
        panel.cite(chat.open_citation, [turns], [panel], **private)
        panel.story(chat.ask_within, [turns, chatbot, answerer, min_confidence],
                    [chatbot, turns, question, panel, status], **private)
        clear.click(chat.clear, None, [chatbot, turns, panel, status], **private)
        chatbot.clear(chat.clear, None, [chatbot, turns, panel, status], **private)
        indexing: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "index", **private}
        upload_button.click(chat.upload, [files], [articles_status, figures, sources], **indexing).then(
            lambda: None, None, [files], **private
        )
        paste_button.click(
            chat.paste,
            [paste_title, paste_text],
            [articles_status, figures, sources, paste_title, paste_text],
            **indexing,
        )
        reindex_button.click(chat.reindex, None, [articles_status, figures, sources], **indexing)
        demo.load(
            lambda: (index_figures(settings), gr.Dropdown(choices=source_choices(settings))),
            None,
            [figures, sources],
            **private,
        )

        def visited(previous: float) -> tuple[Any, ...]:
            """A page load: what arrived since the browser's last visit, which becomes now."""
            rows = attempt(lambda: articles.article_rows(settings, "", previous), [])
            note = attempt(lambda: articles.arrivals(settings, previous), "")
            return render.render_status(note), rows, feed_rows(settings), previous, time.time()

        demo.load(visited, [last_visit], [arrived, article_table, feed_table, visit, last_visit], **private)
        title_search.change(lambda title, seen: attempt(lambda: articles.article_rows(settings, title, seen), []),
                            [title_search, visit], [article_table], **private)
        article_table.select(articles.selected_id, None, [selected], **private)
        feed_table.select(feeds.selected_url, None, [feed_url], **private)

        listing = [title_search, visit]
        delete_button.click(chat.delete_article, [selected, *listing],
                            [list_status, figures, sources, article_table, feed_table], **indexing)
        feed_outputs = [feeds_status, figures, sources, article_table, feed_table]
        feed_add.click(chat.add_feed, [feed_url, feed_every, feed_source, *listing], feed_outputs, **private)
        feed_remove.click(chat.remove_feed, [feed_url, feed_purge, *listing], feed_outputs, **indexing)
        feed_refresh.click(chat.refresh_feeds, [feed_url, *listing], feed_outputs, **indexing)
        gr.api(chat.ask_json, api_name="ask")
    return demo


def launch_options(settings: Settings) -> dict[str, Any]:
    """What every launch passes: never a share link; Gradio's upload cap above ours so ours gives the message."""
    return {
        "share": False,
        "css": CSS,
        "theme": gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]),
        "max_file_size": int(max(settings.max_upload_mb * 4, 20) * 1024 * 1024),
        "footer_links": ["api", "settings"],
        "ssr_mode": False,
        "mcp_server": False,
        "show_error": False,
        "quiet": True,
    }


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None) -> int:
    """Start the UI and block until interrupted; 2 when the bind is refused."""
    try:
        credentials = bind_credentials(host, auth or settings.ui_auth or None)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    ensure_index(settings)
    warming = warm_up(settings)  # in the background: the page does not wait for the model
    demo = build_app(settings)
    demo.queue(default_concurrency_limit=4)
    try:
        demo.launch(
            server_name=host, server_port=port, auth=credentials, prevent_thread_lock=True, **launch_options(settings)
        )
    except OSError as exc:
        print(f"error: cannot serve on {host}:{port}: {exc}", file=sys.stderr)
        warming.join()  # let it finish with the index before the caller closes it
        return 1
    login = " (login required)" if credentials else ""
    print(
        f"Serving on {demo.local_url}{login}; ready in {time.perf_counter() - started:.1f} s. Ctrl+C stops.", flush=True
    )
    feeds.start_watcher(settings)  # stopped at exit
    demo.block_thread()  # until Ctrl+C, which it handles by closing the server
    return 0
