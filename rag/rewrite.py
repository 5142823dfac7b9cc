"""Make a follow-up question stand on its own for retrieval.

"How much did it cost?" after "When did the harbour bridge reopen?" is useless to a
search engine. Without an LLM we cannot truly resolve pronouns, so we do what
helps retrieval most: when a question leans on earlier turns (a pronoun, or
too few content words), we add the names and key words of the latest turns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .text import STOPWORDS, words

REFERRING = frozenset(
    "he she it they them him his her hers its their theirs this that these those there then such "
    "the former latter same deal".split()
)
_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w'’-]*)*")
MAX_CONTEXT_TERMS = 8


def needs_context(question: str) -> bool:
    tokens = words(question)
    content = [w for w in tokens if w not in STOPWORDS]
    return len(content) < 3 or any(w in REFERRING for w in tokens)


def context_terms(history: Sequence[tuple[str, str]]) -> list[str]:
    """Names first, then content words, from the most recent turn backwards."""
    names: list[str] = []
    others: list[str] = []
    for question, answer in reversed(history[-3:]):
        for text in (question, answer):
            for match in _NAME.finditer(text):
                name = match.group()
                first = name.split()[0].lower()
                if first in STOPWORDS and " " not in name:
                    continue  # a capitalised sentence opener such as "What" or "The"
                names.append(name)
        others.extend(w for w in words(question) if w not in STOPWORDS and len(w) > 2)
    seen: dict[str, None] = {}
    for term in names + others:
        if term.lower() not in {s.lower() for s in seen}:
            seen[term] = None
    return list(seen)[:MAX_CONTEXT_TERMS]


def standalone(question: str, history: Sequence[tuple[str, str]] | None) -> str:
    """The question itself, or the question followed by context from earlier turns."""
    if not history or not needs_context(question):
        return question
    extra = [t for t in context_terms(history) if t.lower() not in question.lower()]
    return f"{question} {' '.join(extra)}".strip() if extra else question
