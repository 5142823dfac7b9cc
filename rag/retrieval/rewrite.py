"""Make a follow-up question stand on its own for retrieval.

"How much did it cost?" after "When did the harbour bridge reopen?" is useless to a
search engine. Without an LLM we cannot truly resolve pronouns, so we do what
helps retrieval most: when a question lacks what it needs to stand alone (it has
an unresolved pronoun and no name of its own, or too few content words), we add
the names and key words of the latest turns. A self-contained question ("Who won
the Gold Cup in 2019?") is searched as asked, whatever came before it; and when
history is added, ``api.answer_with`` fuses that search with the question's own,
so a wrong guess cannot bury the right article.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..text import STOPWORDS, words

# Words that point back at something said earlier. Not articles such as "the": a question
# that says "the Gold Cup" names its subject.
PRONOUNS = frozenset(
    "he she it they them him his her hers its their theirs this these those there former latter".split()
)
_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w'’-]*)*")
_OWN_NAME = re.compile(r"(?<!^)\b[A-Z][\w'’-]*|\d")
MIN_CONTENT_WORDS = 3  # fewer, with no name of its own: the question leans on the conversation
# A word typed in lower case names the question's subject when the passages found for the question write
# it capitalised at least NAME_SHARE of the times they use it, and at least NAME_COUNT times: chat users
# type "where does walker work?". Set by reading, not fitted; the rule's effect is measured by
# train/tune_followups.py (train) and bench/bench_followups_scale.py (large index); docs/confidence.md,
# "Names typed in lower case". Rarity in the index is no such sign: in a large index "documentary" and
# "husband" are rare too, and counting them as names cost follow-ups their history.
NAME_SHARE = 0.8
NAME_COUNT = 2
MAX_CONTEXT_TERMS = 8


def content_words(question: str) -> list[str]:
    return [w for w in words(question) if w not in STOPWORDS and len(w) > 2]


def has_own_name(question: str) -> bool:
    """A name (a capitalised word after the first) or a number of its own."""
    return any(m.group().lower() not in STOPWORDS for m in _OWN_NAME.finditer(question.strip()))


def written_as_name(word: str, text: str) -> bool:
    """Does ``text`` write this lower-case word as a name ("walker" as "Walker")?"""
    uses = re.findall(rf"\b{re.escape(word)}\b", text, re.IGNORECASE)
    named = sum(not u.islower() for u in uses)
    return named >= NAME_COUNT and named >= NAME_SHARE * len(uses)


def needs_context(question: str, found: Sequence[str] = ()) -> bool:
    """Does the question lack something only the conversation can supply? ``found``: the texts of the
    passages found for the question alone, which tell a name typed in lower case from a common word."""
    content = content_words(question)
    if len(content) < 2:
        return True  # "Why?", "What else happened?"
    if names_subject(question, found):
        return False
    return any(w in PRONOUNS for w in words(question)) or len(content) < MIN_CONTENT_WORDS


def names_subject(question: str, found: Sequence[str] = ()) -> bool:
    """A name or number of its own, or a lower-case word the passages found write as a name. Without one,
    "Who signed the oil deal?" stands alone as a sentence but fits any story of an oil deal."""
    text = " ".join(found)
    return has_own_name(question) or bool(text and any(written_as_name(w, text) for w in content_words(question)))


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
    """The question itself, or, when it needs them, followed by context from earlier turns."""
    if not history or not needs_context(question):
        return question
    return with_context(question, history)


def with_context(question: str, history: Sequence[tuple[str, str]] | None) -> str:
    """The question followed by the earlier turns' names and key words it does not already have."""
    extra = [t for t in context_terms(history or []) if t.lower() not in question.lower()]
    return f"{question} {' '.join(extra)}".strip() if extra else question
