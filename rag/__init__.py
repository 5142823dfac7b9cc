"""news-rag: answers from your news articles, with exact citations.

    >>> import rag
    >>> answer = rag.ask("When did the bridge reopen?")
    >>> answer.text, [c.quote for c in answer.citations]

The entry points load lazily, so `rag --help` does not import Chroma or torch.
"""

from typing import Any

from .errors import RagError
from .schema import Answer, Chunk, Citation, Document, Hit
from .settings import Settings

__all__ = [
    "Answer",
    "Chunk",
    "Citation",
    "Document",
    "Hit",
    "RagError",
    "Settings",
    "articles",
    "ask",
    "ask_stream",
    "document",
    "search",
    "stats",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in ("ask", "ask_stream", "search", "document", "stats", "articles"):
        from . import api

        return getattr(api, name)
    raise AttributeError(name)
