"""The answerers by name: ``extractive`` (default), ``llamacpp``, ``openai``.

``make_answerer`` is the one place a name (``RAG_ANSWERER``, ``--answerer``, ``ask(answerer=...)``,
the UI's control) becomes an answerer. Loaded models are kept per process: a GGUF model loads once,
however many questions or UI sessions use it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Generator, Sequence

from ..errors import ConfigError
from ..llm.answerer import GeneratingAnswerer
from ..llm.backends import Backend, LlamaCppBackend, OpenAIBackend
from ..llm.verify import Embed
from ..schema import Answer, Hit
from ..settings import Settings
from .extractive import ExtractiveAnswerer
from .interface import Answerer

Factory = Callable[[Settings, ExtractiveAnswerer, Embed | None], Answerer]
_backends: dict[tuple[object, ...], Backend] = {}
_lock = threading.Lock()


def _shared(key: tuple[object, ...], make: Callable[[], Backend]) -> Backend:
    with _lock:
        if key not in _backends:
            _backends[key] = make()
        return _backends[key]


def _generating(
    settings: Settings, backend: Backend, gate: ExtractiveAnswerer, embed: Embed | None
) -> GeneratingAnswerer:
    return GeneratingAnswerer(
        backend,
        gate,
        embed=embed,
        passages=settings.llm_passages,
        max_tokens=settings.llm_max_tokens,
        timeout=settings.llm_timeout,
        learned=bool(settings.learned_verifier),
    )


def _extractive(settings: Settings, gate: ExtractiveAnswerer, embed: Embed | None) -> Answerer:
    return gate


def _llamacpp(settings: Settings, gate: ExtractiveAnswerer, embed: Embed | None) -> Answerer:
    from ..llm.gguf_models import resolve

    path = resolve(settings.llm_model, settings)
    key = ("llamacpp", str(path), settings.llm_threads, settings.llm_context)
    backend = _shared(key, lambda: LlamaCppBackend(path, settings.llm_threads, settings.llm_context))
    return _generating(settings, backend, gate, embed)


def _openai(settings: Settings, gate: ExtractiveAnswerer, embed: Embed | None) -> Answerer:
    backend = OpenAIBackend(settings.openai_base_url, settings.openai_model, settings.openai_api_key)
    return _generating(settings, backend, gate, embed)


ANSWERERS: dict[str, Factory] = {"extractive": _extractive, "llamacpp": _llamacpp, "openai": _openai}


def make_answerer(name: str, settings: Settings, gate: ExtractiveAnswerer, embed: Embed | None = None) -> Answerer:
    """The answerer called ``name``; ``gate`` is the index's extractive answerer, ``embed`` its sentence embedder."""
    factory = ANSWERERS.get(name.strip().lower())
    if factory is None:
        raise ConfigError(f"unknown answerer {name!r}; choose one of: {', '.join(ANSWERERS)}")
    return factory(settings, gate, embed)


def stream_answer(
    answerer: Answerer, question: str, hits: Sequence[Hit], context: str, history: Sequence[tuple[str, str]]
) -> Generator[str, None, Answer]:
    """Any answerer as a stream of text pieces ending in its ``Answer``.

    Answerers with their own ``stream`` (the language-model ones) yield verified sentences as
    they are generated; others (the extractive one) answer at once and yield their sentences.
    """
    stream = getattr(answerer, "stream", None)
    if stream is not None:
        return (yield from stream(question, hits, context, history))
    answer = answerer.run(question, hits, context)
    for sentence in re.findall(r".*?\[\d+\]|.+$", answer.text) if not answer.abstained else [answer.text]:
        if sentence.strip():
            yield sentence.strip()
    return answer
