"""The Python entry points: ``search``, ``ask``, ``document``, ``stats``.

Indexes are opened once per process and kept warm (the model stays loaded),
which is what makes a second question fast.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from .answer.clarify import clarification, stories_to_ask_about
from .answer.extractive import ExtractiveAnswerer, idf_from_counts
from .answer.interface import Answerer, abstain, verify_citations
from .answer.reader import get_reader
from .errors import InputError, RagError, StoreUnavailableError
from .index.facade import Index
from .index.local_cache import Article
from .prompts import EMPTY_QUESTION, MAX_QUESTION_CHARS, TOO_LONG
from .retrieval.dates import parse_time, today_from
from .retrieval.followups import retrieve
from .retrieval.hybrid import Filters, Mode, Retriever, make_filters
from .schema import Answer, Document, Hit
from .settings import Settings
from .text import clean_question

History = Sequence[tuple[str, str]] | Sequence[dict[str, Any]]
_open: dict[tuple[Path, str], Index] = {}
_opening = threading.Lock()
MAX_K = 50
T = TypeVar("T")


def open_index(settings: Settings | None = None) -> Index:
    """The process-wide open index for ``settings.index_dir``; safe to call from many threads.

    An index that another process wrote, rebuilt or deleted since it was opened is replaced
    by a fresh one, so Chroma and SQLite see the new state. The old one is not closed here:
    other threads may still be reading it; it closes when the last of them lets go.
    """
    settings = settings or Settings.from_env()
    key = (Path(settings.index_dir).resolve(), settings.chroma_url)
    with _opening:
        index = _open.get(key)
        if index is None or index.is_stale():
            index = _open[key] = Index(settings)
        return index


def read(settings: Settings | None, call: Callable[[Index], T]) -> T:
    """Run one read of the index; if it fails because another process changed the index
    under it (Chroma's caches drop the old collection), reopen and try once more."""
    index = open_index(settings)
    try:
        return call(index)
    except RagError:
        raise
    except Exception as exc:
        import httpx  # what chromadb's HTTP client raises; imported only here, to keep start-up light

        if not index.local and isinstance(exc, (httpx.TransportError, ConnectionError, TimeoutError)):
            raise StoreUnavailableError(f"the Chroma server at {index.where} did not answer: {exc}") from exc
        if not index.is_stale(now=True):  # e.g. a collection deleted by another instance's rebuild
            raise
        return call(open_index(settings))


def close_all() -> None:
    """Forget open indexes (after a rebuild, or between tests)."""
    with _opening:
        for index in _open.values():
            index.close()
        _open.clear()
        _answerers.clear()


def check_question(question: object) -> str:
    if not isinstance(question, str):
        raise InputError("the question must be text")
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(TOO_LONG.format(length=len(question), limit=MAX_QUESTION_CHARS))
    cleaned = clean_question(question)
    if not cleaned:
        raise InputError(EMPTY_QUESTION)
    return cleaned


def _check_k(k: int) -> int:
    if not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InputError(f"k must be a whole number from 1 to {MAX_K}")
    return k


def search(
    query: str,
    k: int = 5,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    sources: Sequence[str] | None = None,
    mode: Mode = "hybrid",
    group_stories: bool = True,
    settings: Settings | None = None,
) -> list[Hit]:
    """The ``k`` best chunks for ``query`` (hybrid dense + BM25 by default), from one copy of each story
    (``group_stories=False``: every copy; ``Hit.also_in`` names the others)."""
    query = check_question(query)
    settings = settings or Settings.from_env()
    given = make_filters(since, until, sources, group_stories=group_stories)
    k = _check_k(k)

    def run(index: Index) -> list[Hit]:
        text, filters, _ = with_time(query, given, settings, index)
        return Retriever(index).search(text, k, filters, mode)

    return read(settings, run)


_YEAR = re.compile(r"\b(?:1[89]|2[01])\d\d\b")


def with_time(question: str, filters: Filters, settings: Settings, index: Index) -> tuple[str, Filters, str]:
    """The question's time expression ("last month", "in March 2025") as a date filter, and the text to search
    without it; explicit ``since``/``until`` win. The third value says what was applied (for the user).

    An expression naming a year may date the event rather than the report ("Which treaty was signed in
    1648?"): it becomes a filter only when some indexed article was published in that range; otherwise the
    question is searched as asked, year and all. Relative ones ("last week", "in November") always filter:
    no article from then is an answer to "what happened then"."""
    if filters.since or filters.until:
        return question, filters, ""
    found = parse_time(question, today_from(settings.today))
    if found.since is None and found.until is None:
        return question, filters, ""
    if _YEAR.search(found.expression) and not index.docs.published_between(
        found.since.timestamp() if found.since else None, found.until.timestamp() if found.until else None
    ):
        return question, filters, ""
    span = " to ".join(d.date().isoformat() if d else "…" for d in (found.since, found.until))
    applied = f"articles published {span} (“{found.expression}”)"
    search_text = found.search_text if any(ch.isalnum() for ch in found.search_text) else question
    return search_text, replace(filters, since=found.since, until=found.until), applied


def normalise_history(history: History | None) -> list[tuple[str, str]]:
    """(question, answer) pairs from pairs or from chat messages with role/content."""
    if not history:
        return []
    pairs: list[tuple[str, str]] = []
    pending: str | None = None
    for turn in history:
        if isinstance(turn, dict):
            content = turn.get("content")
            text = content if isinstance(content, str) else ""
            if turn.get("role") == "user":
                pending = text
            elif turn.get("role") == "assistant" and pending is not None:
                pairs.append((pending, text))
                pending = None
        elif isinstance(turn, (tuple, list)) and len(turn) == 2:
            pairs.append((str(turn[0] or ""), str(turn[1] or "")))
        else:
            raise InputError("history must be (question, answer) pairs or chat messages")
    return pairs


def ask(
    question: str,
    *,
    history: History | None = None,
    k: int = 5,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    sources: Sequence[str] | None = None,
    document: str | None = None,
    answerer: Answerer | str | None = None,
    min_confidence: float | None = None,
    group_stories: bool = True,
    settings: Settings | None = None,
) -> Answer:
    """Answer from the indexed articles only, with verified citations, or abstain.

    ``answerer``: an answerer, or its name (``extractive``, ``llamacpp``, ``openai``);
    default ``settings.answerer`` (``RAG_ANSWERER``). ``min_confidence`` (0-1): answer when the
    estimated chance that the answer holds what was asked is at least this; default the
    calibrated threshold of the answer model. ``document``: answer from this article only (the
    answer to ``Answer.clarify``, which a first question with no subject of its own may get).
    ``group_stories``: read one copy of each story (default), so no answer quotes two copies of one story.
    """
    return ask_stream(question, history=history, k=k, since=since, until=until, sources=sources, document=document,
                      answerer=answerer, min_confidence=min_confidence, group_stories=group_stories,
                      settings=settings).result()


class AnswerStream:
    """An answer as it is produced: iterate for its text pieces (each verified), then read ``answer``."""

    def __init__(self, pieces: Generator[str, None, Answer]) -> None:
        self._pieces = pieces
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        if self.answer is None:
            self.answer = yield from self._pieces

    def result(self) -> Answer:
        """Run to the end (if not done yet) and return the final ``Answer``."""
        for _ in self:
            pass
        assert self.answer is not None
        return self.answer


def ask_stream(
    question: str,
    *,
    history: History | None = None,
    k: int = 5,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    sources: Sequence[str] | None = None,
    document: str | None = None,
    answerer: Answerer | str | None = None,
    min_confidence: float | None = None,
    group_stories: bool = True,
    settings: Settings | None = None,
) -> AnswerStream:
    """Like ``ask``, streamed: checks and retrieval happen now, generation while you iterate."""
    question = check_question(question)
    given = make_filters(since, until, sources, [document] if document else None, group_stories)
    if min_confidence is not None and (
        isinstance(min_confidence, bool) or not isinstance(min_confidence, (int, float))
    ):
        raise InputError("min_confidence must be a number between 0 and 1")
    settings = settings or Settings.from_env()
    pairs, k = normalise_history(history), _check_k(k)

    def start(index: Index) -> AnswerStream:
        search_text, filters, applied = with_time(question, given, settings, index)
        for doc_id in filters.documents:  # a chosen article that is not (or no longer) indexed: say so
            index.docs.document(doc_id)
        chosen = choose_answerer(index, settings, answerer, min_confidence)
        hits, query = retrieve(Retriever(index), search_text, pairs, k, filters, default_answerer(index))
        return AnswerStream(_answer(index, chosen, question, pairs, query, hits, filters, search_text, applied))

    return read(settings, start)


def choose_answerer(
    index: Index, settings: Settings, answerer: Answerer | str | None, min_confidence: float | None = None
) -> Answerer:
    """The answerer to use; ``min_confidence`` moves the answer/abstain threshold of the extractive
    decision, which the language-model answerers take first too."""
    decision = default_answerer(index)
    if min_confidence is not None:
        decision = decision.with_min_confidence(float(min_confidence))
    if answerer is not None and not isinstance(answerer, str):
        if min_confidence is not None and isinstance(answerer, ExtractiveAnswerer):
            return answerer.with_min_confidence(float(min_confidence))
        return answerer
    from .answer.registry import make_answerer

    return make_answerer(answerer or settings.answerer, settings, decision, index.embedder.embed)


def answer_with(
    index: Index,
    retriever: Retriever,
    answerer: Answerer,
    question: str,
    history: list[tuple[str, str]],
    k: int,
    filters: Filters,
) -> Answer:
    """Rewrite, retrieve, answer, verify: the one path every answer takes."""
    return AnswerStream(stream_with(index, retriever, answerer, question, history, k, filters)).result()


def stream_with(
    index: Index,
    retriever: Retriever,
    answerer: Answerer,
    question: str,
    history: list[tuple[str, str]],
    k: int,
    filters: Filters,
) -> Generator[str, None, Answer]:
    """``answer_with`` as a stream of verified text pieces that returns the final ``Answer``."""
    hits, query = retrieve(retriever, question, history, k, filters, default_answerer(index))
    return (yield from _answer(index, answerer, question, history, query, hits, filters, question, ""))


def _answer(
    index: Index,
    answerer: Answerer,
    question: str,
    history: list[tuple[str, str]],
    query: str,
    hits: list[Hit],
    filters: Filters,
    searched: str,
    time_filter: str,
) -> Generator[str, None, Answer]:
    """``searched``: the question as searched (without its time expression); ``query``: that with the words
    its history added, if any."""
    from .answer.registry import stream_answer

    if not hits:
        yield abstain().text
        return replace(abstain(), query=query, time_filter=time_filter)
    stories = [] if history or filters.documents else stories_to_ask_about(question, hits, default_answerer(index))
    if stories:
        asked = clarification(stories, hits, query)
        yield asked.text
        return replace(asked, time_filter=time_filter)
    context = query[len(searched) :] if query != searched else ""
    answer = yield from stream_answer(answerer, question, hits, context, history)
    verified = verify_citations(answer, index.docs.document)
    confidence = 0.0 if verified.abstained and not answer.abstained else answer.confidence
    return replace(answer, text=verified.text, citations=verified.citations, abstained=verified.abstained,
                   query=query, confidence=confidence, time_filter=time_filter)


# index -> (chunk count, answerer); weak, so a replaced index and its answerer go together.
_answerers: weakref.WeakKeyDictionary[Index, tuple[int, ExtractiveAnswerer]] = weakref.WeakKeyDictionary()


def default_answerer(index: Index) -> ExtractiveAnswerer:
    """The extractive answerer, its idf cache kept until the index changes size."""
    total = max(1, index.docs.chunk_count())
    cached = _answerers.get(index)
    if cached is None or cached[0] != total:
        embedder = index.embedder
        reader = get_reader(embedder.model_path)
        reader.preload()
        answerer = ExtractiveAnswerer(idf_from_counts(index.docs.term_frequency, total),
                                      embed_query=embedder.embed_query, embed=embedder.embed, reader=reader)
        cached = (total, answerer)
        _answerers[index] = cached
    return cached[1]


def document(doc_id: str, *, settings: Settings | None = None) -> Document:
    """The stored document, the text that citation offsets point into."""
    return read(settings, lambda index: index.docs.document(doc_id))


def articles(
    title: str = "", *, limit: int = 200, added_since: float | None = None, settings: Settings | None = None
) -> list[Article]:
    """Indexed articles, the most recently added first; ``title``: words the title must contain;
    ``added_since``: a Unix time (what arrived since a last visit)."""
    return read(settings, lambda index: index.docs.articles(title, limit, added_since))


@dataclass(frozen=True)
class Stats:
    documents: int
    chunks: int
    last_update: datetime | None
    sources: list[str]


def stats(settings: Settings | None = None) -> Stats:
    def collect(index: Index) -> Stats:
        docs, chunks = index.docs.counts()
        last = index.docs.last_update()
        return Stats(docs, chunks, datetime.fromtimestamp(last).astimezone() if last else None, index.docs.sources())

    return read(settings, collect)
