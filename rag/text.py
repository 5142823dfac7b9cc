"""Small text helpers shared by chunking, retrieval, answering, verification and evaluation: words, stems,
stop words, and where sentences end."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

STOPWORDS = frozenset(
    (
        "a about above after again against all am an and any are as at be because been before being below "
        "between both but by can could did do does doing down during each few for from further had has have "
        "having he her here hers herself him himself his how i if in into is it its itself just me more most "
        "my myself no nor not now of off on once only or other our ours ourselves out over own same she "
        "should so some such than that the their theirs them themselves then there these they this those "
        "through to too under until up very was we were what when where which while who whom why will with "
        "would you your yours yourself yourselves also says said say according whose did does many much one "
        "two "
    ).split()
)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-cased words, apostrophe forms kept together (don't, O'Neill)."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


@cache
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning, in order, without repeats."""
    seen: dict[str, None] = {}
    for w in words(text):
        if w not in STOPWORDS and (len(w) > 1 or w.isdigit()):
            seen.setdefault(stem(w.split("'")[0]), None)
    return list(seen)


def clean_question(text: str) -> str:
    """Control and format characters become spaces; runs of space collapse."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") else ch for ch in text)
    return " ".join(cleaned.split())


# A sentence ends at . ! ? … (then closing quotes/brackets and a space, checked for what follows),
# or at the full stops of scripts written without spaces (。！？ and kin), where nothing need follow.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*\s+|[。！？｡؟।۔]+[」』”’\"')）\]]*\s*")
_OPENERS = "\"'“‘([「『（"
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "gen", "sen", "rep", "gov", "lt", "col",
    "capt", "sgt", "vs", "etc", "no", "inc", "co", "corp", "ltd", "mt", "ft", "jan", "feb", "aug",
    "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m",
}  # fmt: skip


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets in ``text[start:end]``, whitespace trimmed.

    Line breaks always end a sentence (headlines, paragraphs); inside a line a
    sentence ends at . ! ? followed by a capital, a digit or a letter of a script
    without case, unless the word is a known abbreviation or a single initial;
    and at 。！？ and the like, whatever follows.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        base = start + line.start()
        segment = line.group()
        cut = 0
        for match in _BOUNDARY.finditer(segment):
            if match.end() >= len(segment):
                break
            if match.group()[0] in ".!?…":
                following = segment[match.end() :].lstrip(_OPENERS)[:1]
                if not following or not (following.isdigit() or (following.isalpha() and not following.islower())):
                    continue
                before = segment[cut : match.start()]
                word = before.rsplit(None, 1)[-1] if before.strip() else ""
                if word.lower().rstrip(".") in ABBREVIATIONS or (len(word) == 1 and word.isupper()):
                    continue
            spans.append((base + cut, base + match.end()))
            cut = match.end()
        spans.append((base + cut, base + len(segment)))
    return [strip_span(text, s, e) for s, e in spans if text[s:e].strip()]


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without its leading and trailing whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
