"""Answers written by a language model, released sentence by sentence once verified.

``GeneratingAnswerer`` first asks the extractive answerer whether the retrieved passages can
answer at all (no generation when they cannot), then streams the model's tokens, cuts them into
sentences as they complete, and releases each sentence only after ``rag.support.Verifier`` found
the span that supports it; the citation quotes that span. A model that fails, stalls or returns
nothing usable gives a notice and the extractive answer instead.

Two backends produce the tokens: ``LlamaCppBackend`` (a GGUF model in-process with xllamacpp)
and ``OpenAIBackend`` (any OpenAI-compatible chat endpoint through the ``openai`` package).
"""

from __future__ import annotations

import json
import queue
import re
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from .answering import Answerer, abstain
from .errors import ModelError
from .prompts import MODEL_FAILED, NO_ANSWER, REMOVED_SENTENCES, SYSTEM_PROMPT, citation, question_message
from .schema import Answer, Citation, Hit
from .support import Embed, SentenceBuffer, Span, Verdict, Verifier

Messages = list[dict[str, str]]
HISTORY_TURNS = 3  # earlier turns passed to the model: enough for follow-ups, short enough for a small context
_MARKER = re.compile(r"\s*\[\d+\]")


class Backend(Protocol):
    """Streams the text of one chat reply; raises ``ModelError`` when the model fails or stalls."""

    description: str

    def chat(self, messages: Messages, max_tokens: int, timeout: float) -> Iterator[str]: ...


def pump(produce: Callable[[Callable[[str], bool]], None], timeout: float, what: str) -> Iterator[str]:
    """Run a blocking producer in a thread and yield its text, never waiting more than ``timeout`` per piece.

    ``produce(emit)`` calls ``emit(text)`` per piece; ``emit`` returns False once the consumer is gone.
    """
    pieces: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()

    def emit(text: str) -> bool:
        if not stop.is_set():
            pieces.put(("text", text))
        return not stop.is_set()

    def work() -> None:
        try:
            produce(emit)
            pieces.put(("end", None))
        except BaseException as exc:  # handed to the consumer, which turns it into a ModelError
            pieces.put(("error", exc))

    threading.Thread(target=work, name="llm-stream", daemon=True).start()
    try:
        while True:
            try:
                kind, value = pieces.get(timeout=timeout)
            except queue.Empty:
                raise ModelError(f"{what} sent nothing for {timeout:g} s") from None
            if kind == "text":
                yield value
            elif kind == "end":
                return
            else:
                if isinstance(value, ModelError):
                    raise value
                raise ModelError(f"{what} failed: {_describe(value)}") from value
    finally:
        stop.set()


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class LlamaCppBackend:
    """A GGUF model run in this process by llama.cpp (xllamacpp), loaded on first use.

    xllamacpp's ``Server`` also listens on a loopback port with llama.cpp's OpenAI-compatible
    HTTP API (``address``); the tests point the openai answerer at it.
    """

    def __init__(self, model_path: Path, threads: int = 2, context: int = 4096, port: int = 0) -> None:
        self.model_path = Path(model_path)
        self.threads = threads
        self.context = context
        self.port = port
        self.description = f"llama.cpp ({self.model_path.name})"
        self._server: Any = None
        self._lock = threading.Lock()

    @property
    def server(self) -> Any:
        with self._lock:
            if self._server is None:
                try:
                    import xllamacpp
                except ImportError as exc:
                    raise ModelError("the llamacpp answerer needs xllamacpp: pip install 'news-rag[llm]'") from exc
                params = xllamacpp.CommonParams()
                params.model.path = str(self.model_path)
                params.n_ctx = self.context
                params.n_predict = -1
                params.cpuparams.n_threads = self.threads
                params.cpuparams_batch.n_threads = self.threads
                params.hostnames = ["127.0.0.1"]
                params.port = self.port
                params.verbosity = -1  # llama.cpp's own log lines stay out of the CLI and UI
                params.warmup = False
                try:
                    self._server = xllamacpp.Server(params)
                except Exception as exc:
                    raise ModelError(f"cannot load {self.model_path}: {_describe(exc)}") from exc
            return self._server

    @property
    def address(self) -> str:
        """``http://127.0.0.1:PORT``: llama.cpp's HTTP server for this model."""
        return str(self.server.listening_address)

    def chat(self, messages: Messages, max_tokens: int, timeout: float) -> Iterator[str]:
        server = self.server
        request = {"messages": messages, "max_tokens": max_tokens, "temperature": 0.0, "stream": True}

        def produce(emit: Callable[[str], bool]) -> None:
            errors: list[Any] = []

            def on_chunk(chunk: Any) -> bool:
                """Returning True tells llama.cpp to stop generating (the reader is gone)."""
                if isinstance(chunk, dict) and "error" in chunk:
                    errors.append(chunk["error"])
                    return True
                for choice in chunk.get("choices", []) if isinstance(chunk, dict) else []:
                    text = (choice.get("delta") or {}).get("content")
                    if text and not emit(text):
                        return True
                return False

            server.handle_chat_completions(request, on_chunk)
            if errors:
                raise ModelError(f"{self.description} failed: {json.dumps(errors[0])[:200]}")

        return pump(produce, timeout, self.description)


class OpenAIBackend:
    """Any OpenAI-compatible chat endpoint (llama.cpp server, Ollama, vLLM, OpenAI), streamed."""

    def __init__(self, base_url: str, model: str = "", api_key: str = "") -> None:
        if not base_url:
            raise ModelError("the openai answerer needs RAG_OPENAI_BASE_URL, e.g. http://127.0.0.1:8080/v1")
        self.base_url = base_url
        self.model = model or "default"
        self.api_key = api_key or "none"  # local servers accept anything; the client insists on some key
        self.description = f"the server at {base_url}"

    def chat(self, messages: Messages, max_tokens: int, timeout: float) -> Iterator[str]:
        try:
            import openai
        except ImportError as exc:
            raise ModelError("the openai answerer needs the openai package: pip install 'news-rag[llm]'") from exc
        client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key, timeout=timeout, max_retries=0)

        def produce(emit: Callable[[str], bool]) -> None:
            stream = client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=max_tokens, temperature=0.0, stream=True  # type: ignore[arg-type]
            )
            with stream:
                for chunk in stream:
                    for choice in getattr(chunk, "choices", None) or []:
                        text = getattr(choice.delta, "content", None)
                        if text and not emit(text):
                            return

        return pump(produce, timeout, self.description)


def build_messages(question: str, hits: Sequence[Hit], history: Sequence[tuple[str, str]]) -> Messages:
    """System rules, earlier turns as real turns (so the model resolves follow-ups), then passages and question."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for asked, answered in list(history)[-HISTORY_TURNS:]:
        messages.append({"role": "user", "content": asked})
        messages.append({"role": "assistant", "content": " ".join(_MARKER.sub("", answered).split())})
    passages = [(h.title, h.text) for h in hits]
    messages.append({"role": "user", "content": question_message(question, passages)})
    return messages


@dataclass
class _Draft:
    """The verified answer as it grows."""

    hits: Sequence[Hit]
    sentences: list[str]
    citations: list[Citation]
    numbers: dict[tuple[str, int, int], int]

    def add(self, verdict: Verdict) -> str:
        span = verdict.span
        assert span is not None
        n = self.cite(span)
        text = f"{verdict.claim} {citation(n)}"
        self.sentences.append(text)
        return text

    def cite(self, span: Span) -> int:
        hit = self.hits[span.hit]
        key = (hit.doc_id, span.start, span.end)
        if key not in self.numbers:
            self.numbers[key] = n = len(self.citations) + 1
            self.citations.append(
                Citation(n, hit.doc_id, hit.title, hit.source, hit.url, hit.published, span.text, span.start, span.end)
            )
        return self.numbers[key]


class GeneratingAnswerer:
    """A language model's answer, every sentence verified against the retrieved passages."""

    def __init__(
        self,
        backend: Backend,
        gate: Answerer,
        *,
        embed: Embed | None = None,
        passages: int = 3,
        max_tokens: int = 200,
        timeout: float = 30.0,
    ) -> None:
        self.backend = backend
        self.gate = gate  # the extractive answerer: decides answer/abstain, and is the fallback
        self.embed = embed
        self.passages = passages
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.on_verdict: Callable[[Verdict], None] | None = None  # sees every generated sentence's verdict

    def run(
        self, question: str, hits: Sequence[Hit], context: str = "", history: Sequence[tuple[str, str]] = ()
    ) -> Answer:
        stream = self.stream(question, hits, context, history)
        while True:
            try:
                next(stream)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]

    def stream(
        self, question: str, hits: Sequence[Hit], context: str = "", history: Sequence[tuple[str, str]] = ()
    ) -> Generator[str, None, Answer]:
        """Yield each verified sentence as it completes; return the final ``Answer``."""
        extractive = self.gate.run(question, hits, context)
        if extractive.abstained:  # the passages cannot answer: no generation
            yield extractive.text
            return extractive
        verifier = Verifier(hits, min(self.passages, len(hits)), self.embed)
        draft = _Draft(hits, [], [], {})
        buffer = SentenceBuffer()
        generated = removed = repointed = 0
        refused = False
        try:
            tokens = self.backend.chat(build_messages(question, hits[: self.passages], history), self.max_tokens,
                                       self.timeout)
            received = False
            for delta in tokens:
                received = True
                for sentence in buffer.feed(delta):
                    verdict = self._check(verifier, sentence)
                    generated, removed, repointed, refused = _count(verdict, generated, removed, repointed, refused)
                    if verdict.supported:
                        yield draft.add(verdict)
            if not received:
                raise ModelError(f"{self.backend.description} returned no text")
            for sentence in buffer.flush():
                verdict = self._check(verifier, sentence)
                generated, removed, repointed, refused = _count(verdict, generated, removed, repointed, refused)
                if verdict.supported:
                    yield draft.add(verdict)
        except ModelError as exc:
            notice = MODEL_FAILED.format(reason=exc)
            yield from self._fallback(draft, extractive)
            text = " ".join(draft.sentences)
            return Answer(text, draft.citations, False, list(hits), notice=notice, generated=generated,
                          removed=removed, repointed=repointed)
        notice = REMOVED_SENTENCES.format(removed=removed, generated=generated) if removed else ""
        if not draft.sentences:
            yield NO_ANSWER
            return replace(abstain(hits), notice=notice, generated=generated, removed=removed)
        return Answer(" ".join(draft.sentences), draft.citations, False, list(hits), notice=notice,
                      generated=generated, removed=removed, repointed=repointed)

    def _check(self, verifier: Verifier, sentence: str) -> Verdict:
        verdict = verifier.check(sentence)
        if self.on_verdict is not None:
            self.on_verdict(verdict)
        return verdict

    @staticmethod
    def _fallback(draft: _Draft, extractive: Answer) -> Iterator[str]:
        """Append the extractive answer's sentences (renumbered) to whatever was verified so far."""
        parts = re.findall(r"(.*?)\s*\[(\d+)\]", extractive.text)
        by_number = {c.n: c for c in extractive.citations}
        for body, n in parts:
            source = by_number.get(int(n))
            if source is None:
                continue
            hit_index = next((i for i, h in enumerate(draft.hits) if h.doc_id == source.doc_id), None)
            if hit_index is None:
                continue
            number = draft.cite(Span(hit_index, source.start, source.end, source.quote))
            text = f"{body.strip()} {citation(number)}"
            draft.sentences.append(text)
            yield text


def _count(verdict: Verdict, generated: int, removed: int, repointed: int, refused: bool) -> tuple[int, int, int, bool]:
    if verdict.refusal:
        return generated, removed, repointed, True
    generated += 1
    if not verdict.supported:
        removed += 1
    elif verdict.repointed:
        repointed += 1
    return generated, removed, repointed, refused
