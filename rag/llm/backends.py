"""Where a language model's tokens come from: ``LlamaCppBackend`` (a GGUF model in-process with
xllamacpp, served on loopback) and ``OpenAIBackend`` (any OpenAI-compatible chat endpoint through the
``openai`` package). Both stream through ``pump``, which never waits longer than a timeout per piece."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from ..errors import ModelError

Messages = list[dict[str, str]]


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

    def __init__(
        self, model_path: Path, threads: int = 2, context: int = 4096, port: int = 0, gpu_layers: int | None = None
    ) -> None:
        self.model_path = Path(model_path)
        self.threads = threads
        self.gpu_layers = gpu_layers  # on a GPU (train/generate_questions.py, a lent GPU); None: llama.cpp's default
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
                if self.gpu_layers is not None:
                    params.n_gpu_layers = self.gpu_layers
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
