"""Time expressions in news questions: "last week", "in November", "since 2020", "latest".

A vector search cannot honour "What did the council decide last week?": the words "last week" match
articles that *say* "last week", not articles published then. ``parse_time`` finds the first time
expression of a question, turns it into an inclusive UTC range of publication dates relative to a given
day (given, not read from the clock, so tests and replays give the same answer), and returns the question
without it for the search. Recency words ("latest", "currently") only say "prefer newer articles": the
answer may be in an older report that is still true, so they set no range and stay in the search text.

Everything is plain regular expressions except exact day phrases ("5 March 2025", "March 5th"), which
dateparser reads; it is imported only then, because importing it costs about 0.2 s. A question with no
time word is answered after one precompiled regex search (a few microseconds; docs/time.md).
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ..errors import ConfigError


@dataclass(frozen=True)
class TimeFilter:
    """What a question says about time: a publication-date range (either end open) and a wish for news."""

    since: datetime | None  # timezone-aware UTC, inclusive, start of the first day (00:00:00)
    until: datetime | None  # timezone-aware UTC, inclusive, end of the last day (23:59:59)
    expression: str  # the words that were understood, as they appear in the question ("" if none)
    search_text: str  # the question without the expression; the question itself when nothing was found
    prefers_recent: bool  # the question asks about the current state or the newest report


_MONTH_NUMBERS = {
    name: number
    for number, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
         ("july", "jul"), ("august", "aug"), ("september", "sept", "sep"), ("october", "oct"),
         ("november", "nov"), ("december", "dec")],
        start=1,
    )
    for name in names
}
_NUMBER_WORDS = {w: n for n, w in enumerate(
    "one two three four five six seven eight nine ten eleven twelve".split(), start=1)}
_NUMBER_WORDS |= {"a": 1, "an": 1}

# Pieces of the patterns below; an abbreviation may carry its full stop ("in Nov.").
_MONTH = (r"(?:(?:january|february|march|april|may|june|july|august|september|october|november|december)\b"
          r"|(?:jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\b\.?)")
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?\b"
_YEAR = r"(?:19\d\d|20\d\d|2100)(?![\d])"
_NUM = r"(?:\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_UNIT = r"(?:day|week|month|year)"

# One time period, without the word before it that says how it is used ("since", "in"). Order matters:
# at one position the first alternative that matches wins, so longer forms come first.
_PERIOD = r"""
   (?P<iso>\b\d{4}-\d\d-\d\d\b)
 | (?P<dm>\b<DAY>\s+(?:of\s+)?<MONTH>(?:,?\s+<YEAR>)?)
 | (?P<md>\b<MONTH>\s+<DAY>(?:,?\s+<YEAR>)?)
 | (?P<my>\b(?P<my_m><MONTH>),?\s+(?P<my_y><YEAR>))
 | (?P<roll>\b(?:the\s+)?(?:last|past)\s+(?P<roll_n><NUM>)\s+(?P<roll_u><UNIT>)s?\b)
 | (?P<roll1>\b(?:the\s+(?:last|past)|(?:this\s+)?past)\s+(?P<roll1_u><UNIT>)\b)
 | (?P<cal>\b(?P<cal_w>this|last)\s+(?P<cal_u>week|month|year)\b)
 | (?P<ago>\b(?P<ago_n><NUM>|an?)\s+(?P<ago_u><UNIT>)s?\s+ago\b)
 | (?P<day>\b(?:today|yesterday)\b)
 | (?P<lm>\b(?P<lm_w>this|last)\s+(?P<lm_m><MONTH>))
 | (?P<mon>\b<MONTH>)
 | (?P<year>\b<YEAR>)
"""
for _name, _piece in (("<MONTH>", _MONTH), ("<DAY>", _DAY), ("<YEAR>", _YEAR), ("<NUM>", _NUM), ("<UNIT>", _UNIT)):
    _PERIOD = _PERIOD.replace(_name, _piece)
_PERIOD_RE = re.compile(_PERIOD, re.IGNORECASE | re.VERBOSE)
_PERIOD_PLAIN = re.sub(r"\(\?P<\w+>", "(?:", _PERIOD)  # the same pattern without names, to embed twice

# A period with what stands before it: a range ("between 2019 and 2021", "from May to June 2025"), an
# open end ("since", "before", "after", "until") or a preposition that goes with it ("in", "of", "over").
_EXPRESSION_RE = re.compile(
    rf"""\b(?:
        (?P<range>between|from)\s+(?P<ra>{_PERIOD_PLAIN})\s+(?:and|to|until|till|through)\s+(?P<rb>{_PERIOD_PLAIN})
      | (?:(?P<op>since|before|after|until|till)\s+|(?P<prep>in|during|on|of|from|over|within|throughout)\s+)?
        (?P<a>{_PERIOD_PLAIN})
    )(?P<poss>['’]s\b)?""",
    re.IGNORECASE | re.VERBOSE,
)
# Every expression above contains one of these words; a question without any is done after this search.
_ANY_TIME_WORD = re.compile(
    r"\b(?:today|yesterday|ago|days?|weeks?|months?|years?|latest|newest|recent(?:ly)?|now|current(?:ly)?"
    r"|still|so\s+far|(?:19|20)\d\d|2100|" + "|".join(_MONTH_NUMBERS) + r")\b",
    re.IGNORECASE,
)
_RECENT = re.compile(
    r"\b(?:latest|newest|most\s+recent|recent(?:ly)?|now|current(?:ly)?|still|so\s+far|as\s+of\s+now)\b",
    re.IGNORECASE,
)
# Words that may follow a bare year or "May" used as a month: "in May the", "in 2020 and"; "in 2000 homes"
# (a count) and "this may be" (the verb) are followed by other words.
_AFTER_MONTH = frozenset(
    "and or but nor so yet when while where who whom whose what which why how that the a an this these those "
    "to at by for from in into of on onto with without as after before since until till than then last next "
    "ago alone compared versus vs according about against among around between during through throughout "
    "under over per via he she they it we i you his her their its our there here if because although though "
    "whether both each every all some any no".split()
)
_AFTER_YEAR = _AFTER_MONTH | frozenset("was were is are did had has have does do will would could should".split())
_NEXT_WORD = re.compile(r"\s*([A-Za-z]+)")
_NOT_A_YEAR_NEXT = re.compile(r"[-%/]|[.,]\d|\s*%")
_TRAILING_PREP = re.compile(r"\s*\b(?:in|of|from|during|on|over)\s*$", re.IGNORECASE)


def parse_time(question: str, today: date) -> TimeFilter:
    """The first time expression of ``question``, as an inclusive date range relative to ``today``.

    Only the first expression counts ("in 2019 and 2020" is 2019): a second one is left in the search text.
    Recency words set ``prefers_recent`` and no range. An explicit filter (``--since``) is the caller's to
    combine with this one; nothing here knows of it.
    """
    if not _ANY_TIME_WORD.search(question):
        return TimeFilter(None, None, "", question, False)
    prefers_recent = _RECENT.search(question) is not None
    for m in _candidates(question):
        found = _range(m, question, today)
        if found is not None:
            break
    else:
        return TimeFilter(None, None, "", question, prefers_recent)
    first, last = found
    # A possessive ("in today's paper") leaves its preposition, which belongs to the noun after it.
    start = m.start("a") if m["poss"] and m["a"] else m.start()
    return TimeFilter(
        since=None if first is None else datetime.combine(first, time(0, 0, 0), tzinfo=UTC),
        until=None if last is None else datetime.combine(last, time(23, 59, 59), tzinfo=UTC),
        expression=question[start:m.end()],
        search_text=_without(question, start, m.end()),
        prefers_recent=prefers_recent,
    )


def prefers_recent(question: str) -> bool:
    """Does the question ask about the current state or the newest report ("latest", "now", "still")?"""
    return _RECENT.search(question) is not None


def today_from(setting: str) -> date:
    """The day relative expressions count from: "" is the real today; a fixed day replays old questions."""
    text = setting.strip()
    if not text:
        return date.today()
    if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise ConfigError(f"today={setting!r} is not a real date ({exc})") from exc
    raise ConfigError(f"today={setting!r} must be empty (the real date) or a date written YYYY-MM-DD")


def _candidates(question: str) -> Iterator[re.Match[str]]:
    """Every place an expression may start, leftmost first; overlapping ones too ("may win in May")."""
    pos = 0
    while (m := _EXPRESSION_RE.search(question, pos)) is not None:
        yield m
        pos = m.start() + 1


def _range(m: re.Match[str], question: str, today: date) -> tuple[date | None, date | None] | None:
    """The days (first, last; None: open) that the match names, or None when it names none."""
    if m["range"]:
        b = _period(m["rb"], question[m.end("rb"):], today, bare_ok=True)
        if b is None:
            return None
        # "from May to July 2025": a month or day without a year takes the year of the range's end
        p = _PERIOD_RE.fullmatch(m["ra"])
        yearless = p is not None and (p["mon"] or p["dm"] or p["md"]) and not re.search(r"\d{4}", m["ra"])
        a = _period(m["ra"], question[m.end("ra"):], min(b[1], today) if yearless else today, bare_ok=True)
        if a is None:
            return None
        return min(a[0], b[0]), max(a[1], b[1])
    bare_ok = bool(m["op"] or m["prep"] or m["poss"])
    period = _period(m["a"], question[m.end("a"):], today, bare_ok)
    if period is None:
        return None
    first, last = period
    op = (m["op"] or "").lower()
    if op == "since":
        return first, None
    if op == "before":
        return None, first - timedelta(days=1)
    if op == "after":
        return last + timedelta(days=1), None
    if op in ("until", "till"):
        return None, last
    return first, last


def _period(text: str, after: str, today: date, bare_ok: bool) -> tuple[date, date] | None:
    """The days ``text`` names (first, last), or None when it names none here. ``after``: the question's
    text after it; ``bare_ok``: a word before it ("in", "since") or a possessive makes a bare month or year
    a date."""
    p = _PERIOD_RE.fullmatch(text)
    if p is None:
        return None
    try:
        if p["iso"]:
            day = date.fromisoformat(p["iso"])
            return day, day
        if p["dm"] or p["md"]:
            day = _exact_day(text, today)
            return None if day is None else (day, day)
        if p["my"]:
            return _month(int(p["my_y"]), _month_number(p["my_m"]))
        if p["roll"] or p["roll1"]:
            n = _count(p["roll_n"]) if p["roll"] else 1
            unit = (p["roll_u"] or p["roll1_u"]).lower()
            return (_minus(today, n, unit) + timedelta(days=1), today) if n > 0 else None
        if p["cal"]:
            return _calendar(p["cal_w"].lower(), p["cal_u"].lower(), today)
        if p["ago"]:
            return _ago(_count(p["ago_n"]), p["ago_u"].lower(), today)
        if p["day"]:
            day = today if p["day"].lower() == "today" else today - timedelta(days=1)
            return day, day
        if p["lm"]:
            month = _month_number(p["lm_m"])
            if month == 5 and not _ends_phrase(after, _AFTER_MONTH):
                return None  # "this may be"
            if p["lm_w"].lower() == "this":
                return _month(today.year, month)
            return _month(today.year if month < today.month else today.year - 1, month)  # the last one ended
        if p["mon"]:
            month = _month_number(p["mon"])
            if not bare_ok or (month == 5 and not _ends_phrase(after, _AFTER_MONTH)):
                return None  # "Who may win?", "the November election"
            return _month(today.year if month <= today.month else today.year - 1, month)  # the last one begun
        if p["year"]:
            if not bare_ok or not _ends_phrase(after, _AFTER_YEAR):
                return None  # "the 2019 final", "in 2000 homes"
            year = int(p["year"])
            return date(year, 1, 1), date(year, 12, 31)
    except (ValueError, OverflowError):  # "2025-02-30", "the last 999 years"
        return None
    return None


def _exact_day(text: str, today: date) -> date | None:
    """A day phrase ("5 March 2025", "March 5th"); without a year, the latest such day up to today."""
    import dateparser  # slow to import (about 0.2 s): only questions with a day phrase pay for it

    found = dateparser.parse(
        re.sub(r"(?<=[A-Za-z])\.", "", text),  # "Nov. 3" as "Nov 3"
        languages=["en"],
        settings={"RELATIVE_BASE": datetime.combine(today, time()), "PREFER_DATES_FROM": "past",
                  "RETURN_AS_TIMEZONE_AWARE": False},
    )
    return None if found is None else found.date()


def _ends_phrase(after: str, allowed: frozenset[str]) -> bool:
    """Does the date end where it seems to? Not when a noun or verb follows ("in 2000 homes", "may win")."""
    if _NOT_A_YEAR_NEXT.match(after):
        return False  # "2000-year-old", "2000%", "2000/01"
    word = _NEXT_WORD.match(after)
    return word is None or word[1][0].isupper() or word[1].lower() in allowed


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word.lower()]


def _month_number(name: str) -> int:
    return _MONTH_NUMBERS[name.lower().rstrip(".")]


def _month(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    """The same day ``months`` later (earlier when negative), on the month's last day when it has fewer."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def _minus(day: date, n: int, unit: str) -> date:
    if unit == "day":
        return day - timedelta(days=n)
    if unit == "week":
        return day - timedelta(weeks=n)
    return _add_months(day, -n if unit == "month" else -12 * n)


def _calendar(which: str, unit: str, today: date) -> tuple[date, date]:
    """"this week" (Monday to today), "last week" (the Monday to Sunday before), month and year alike."""
    if unit == "week":
        monday = today - timedelta(days=today.weekday())
        return (monday, today) if which == "this" else (monday - timedelta(days=7), monday - timedelta(days=1))
    if unit == "month":
        if which == "this":
            return today.replace(day=1), today
        previous = _add_months(today.replace(day=1), -1)
        return _month(previous.year, previous.month)
    if which == "this":
        return date(today.year, 1, 1), today
    return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)


def _ago(n: int, unit: str, today: date) -> tuple[date, date]:
    """"3 days ago" is that day; "2 weeks ago" that Monday-to-Sunday week; months and years the calendar one."""
    if unit == "day":
        day = today - timedelta(days=n)
        return day, day
    if unit == "week":
        day = today - timedelta(weeks=n)
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    if unit == "month":
        day = _add_months(today, -n)
        return _month(day.year, day.month)
    return date(today.year - n, 1, 1), date(today.year - n, 12, 31)


def _without(question: str, start: int, end: int) -> str:
    """The question with [start, end) taken out: no double spaces, no "in" left hanging, "?" kept."""
    before, after = question[:start].rstrip(), question[end:].lstrip()
    if not after or not after[0].isalnum():
        before = _TRAILING_PREP.sub("", before)  # "What happened in [the week of] 2020?"
    text = re.sub(r"\s+", " ", f"{before} {after}").strip()
    text = re.sub(r"\s+([?.!,;:])", r"\1", text)  # "happened ?"
    text = re.sub(r"^[,;:]\s*|,(?=[?.!;:]|$)", "", text)  # "Yesterday, who won?", "Who won, in 2020?"
    text = re.sub(r",\s*,", ",", text)
    if start == 0 and question[:1].isupper() and text[:1].islower():
        text = text[0].upper() + text[1:]
    return text
