"""Time expressions in questions become date ranges relative to a given day: pure logic, no model."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from rag.errors import ConfigError
from rag.retrieval.dates import TimeFilter, parse_time, today_from

T = date(2026, 12, 6)  # a Sunday
D = date

# question, today, first day, last day (None: open), search text
TABLE: list[tuple[str, date, date | None, date | None, str]] = [
    ("What happened today?", T, D(2026, 12, 6), D(2026, 12, 6), "What happened?"),
    ("What happened yesterday?", T, D(2026, 12, 5), D(2026, 12, 5), "What happened?"),
    ("What did the council decide this week?", T, D(2026, 11, 30), D(2026, 12, 6), "What did the council decide?"),
    ("What did the council decide last week?", T, D(2026, 11, 23), D(2026, 11, 29), "What did the council decide?"),
    ("What happened in the past week?", T, D(2026, 11, 30), D(2026, 12, 6), "What happened?"),
    ("What happened past week?", T, D(2026, 11, 30), D(2026, 12, 6), "What happened?"),
    ("What happened this past week?", T, D(2026, 11, 30), D(2026, 12, 6), "What happened?"),
    ("What happened this month?", T, D(2026, 12, 1), D(2026, 12, 6), "What happened?"),
    ("What happened last month?", T, D(2026, 11, 1), D(2026, 11, 30), "What happened?"),
    ("What happened this year?", T, D(2026, 1, 1), D(2026, 12, 6), "What happened?"),
    ("What happened last year?", T, D(2025, 1, 1), D(2025, 12, 31), "What happened?"),
    ("What happened in the last 3 days?", T, D(2026, 12, 4), D(2026, 12, 6), "What happened?"),
    ("What happened in the past two weeks?", T, D(2026, 11, 23), D(2026, 12, 6), "What happened?"),
    ("What happened in the last 2 months?", T, D(2026, 10, 7), D(2026, 12, 6), "What happened?"),
    ("What happened in the past 5 years?", T, D(2021, 12, 7), D(2026, 12, 6), "What happened?"),
    ("What happened 3 days ago?", T, D(2026, 12, 3), D(2026, 12, 3), "What happened?"),
    ("What happened two weeks ago?", T, D(2026, 11, 16), D(2026, 11, 22), "What happened?"),
    ("What happened a month ago?", T, D(2026, 11, 1), D(2026, 11, 30), "What happened?"),
    ("What happened 2 years ago?", T, D(2024, 1, 1), D(2024, 12, 31), "What happened?"),
    ("What happened in November?", T, D(2026, 11, 1), D(2026, 11, 30), "What happened?"),
    ("What happened in November?", D(2026, 3, 1), D(2025, 11, 1), D(2025, 11, 30), "What happened?"),
    ("What happened in Nov.?", T, D(2026, 11, 1), D(2026, 11, 30), "What happened?"),
    ("What happened during November?", T, D(2026, 11, 1), D(2026, 11, 30), "What happened?"),
    ("What was November's inflation rate?", T, D(2026, 11, 1), D(2026, 11, 30), "What was inflation rate?"),
    ("What happened in May?", T, D(2026, 5, 1), D(2026, 5, 31), "What happened?"),
    ("What happened last November?", D(2026, 11, 20), D(2025, 11, 1), D(2025, 11, 30), "What happened?"),
    ("What happened in November 2025?", T, D(2025, 11, 1), D(2025, 11, 30), "What happened?"),
    ("What happened in Nov 2025?", T, D(2025, 11, 1), D(2025, 11, 30), "What happened?"),
    ("Who won the Gold Cup in 2024?", T, D(2024, 1, 1), D(2024, 12, 31), "Who won the Gold Cup?"),
    ("In 2024, who won the cup?", T, D(2024, 1, 1), D(2024, 12, 31), "Who won the cup?"),
    ("Articles from 2020 about floods?", T, D(2020, 1, 1), D(2020, 12, 31), "Articles about floods?"),
    ("What changed since 2020?", T, D(2020, 1, 1), None, "What changed?"),
    ("What changed since March 2025?", T, D(2025, 3, 1), None, "What changed?"),
    ("What changed since last month?", T, D(2026, 11, 1), None, "What changed?"),
    ("What changed since yesterday?", T, D(2026, 12, 5), None, "What changed?"),
    ("What happened before 2020?", T, None, D(2019, 12, 31), "What happened?"),
    ("What happened after 2020?", T, D(2021, 1, 1), None, "What happened?"),
    ("Who won between 2019 and 2021?", T, D(2019, 1, 1), D(2021, 12, 31), "Who won?"),
    ("What happened from May to July 2025?", T, D(2025, 5, 1), D(2025, 7, 31), "What happened?"),
    ("What happened on 5 March 2025?", T, D(2025, 3, 5), D(2025, 3, 5), "What happened?"),
    ("What happened on March 5, 2025?", T, D(2025, 3, 5), D(2025, 3, 5), "What happened?"),
    ("What happened on 5 March?", T, D(2026, 3, 5), D(2026, 3, 5), "What happened?"),
    ("What happened on 25 December?", T, D(2025, 12, 25), D(2025, 12, 25), "What happened?"),
    ("What happened March 5th?", T, D(2026, 3, 5), D(2026, 3, 5), "What happened?"),
    ("What happened on 2025-03-05?", T, D(2025, 3, 5), D(2025, 3, 5), "What happened?"),
    # the January edge: last month is December of last year
    ("What happened last month?", D(2026, 1, 15), D(2025, 12, 1), D(2025, 12, 31), "What happened?"),
    ("What happened a month ago?", D(2026, 1, 31), D(2025, 12, 1), D(2025, 12, 31), "What happened?"),
    # leap years: February has 29 days in 2024, 28 in 2026
    ("What happened last month?", D(2024, 3, 10), D(2024, 2, 1), D(2024, 2, 29), "What happened?"),
    ("What happened in February?", D(2026, 3, 10), D(2026, 2, 1), D(2026, 2, 28), "What happened?"),
    ("What happened in the last month?", D(2024, 3, 31), D(2024, 3, 1), D(2024, 3, 31), "What happened?"),
    ("What happened on 29 February?", T, D(2024, 2, 29), D(2024, 2, 29), "What happened?"),
]


@pytest.mark.parametrize(("question", "today", "first", "last", "search_text"), TABLE)
def test_each_expression_becomes_its_range(question: str, today: date, first: date | None, last: date | None,
                                           search_text: str) -> None:
    found = parse_time(question, today)
    assert found.since == (None if first is None else datetime.combine(first, time(0, 0, 0), tzinfo=UTC))
    assert found.until == (None if last is None else datetime.combine(last, time(23, 59, 59), tzinfo=UTC))
    assert found.search_text == search_text
    assert found.expression and found.expression in question
    assert not found.prefers_recent


def test_the_expression_is_the_words_as_written() -> None:
    assert parse_time("What happened in the last 3 days?", T).expression == "in the last 3 days"
    assert parse_time("What happened during NOVEMBER?", T).expression == "during NOVEMBER"
    assert parse_time("What was in today's paper?", T).expression == "today's"  # "in" goes with "paper"


@pytest.mark.parametrize("question", [
    "Who is the chancellor of the exchequer?",
    "How much did the Kelvinport bridge repairs cost?",
    "Who may win?",  # "may" the verb
    "How this may affect prices?",
    "What may happen to the May family?",
    "How many were rehoused in 300 homes?",  # not a year
    "Was it built in 2000 homes?",  # a year's digits, but a count
    "Who won the 2019 final?",  # a bare year names the event, not when it was reported
    "Will they march on the capital?",
    "What is it made of?",
])
def test_questions_without_a_time_expression_are_unchanged(question: str) -> None:
    assert parse_time(question, T) == TimeFilter(None, None, "", question, False)


@pytest.mark.parametrize("question", [
    "What is the latest on the strike?", "What is the newest report?", "What is the most recent figure?",
    "What happened recently?", "Who is the chancellor now?", "Who currently leads the party?",
    "What is the current rate?", "Is the bridge still closed?", "How many have died so far?",
    "What is the rate as of now?",
])
def test_recency_words_prefer_new_reports_without_a_range(question: str) -> None:
    found = parse_time(question, T)
    assert found == TimeFilter(None, None, "", question, True)


def test_recency_and_a_range_together() -> None:
    found = parse_time("How many have died so far this year?", T)
    assert found.prefers_recent and found.search_text == "How many have died so far?"
    assert found.since == datetime(2026, 1, 1, tzinfo=UTC)


def test_only_the_first_expression_is_used() -> None:
    found = parse_time("Who won in 2019 and in 2020?", T)
    assert (found.since, found.until) == (datetime(2019, 1, 1, tzinfo=UTC), datetime(2019, 12, 31, 23, 59, 59,
                                                                                      tzinfo=UTC))
    assert found.search_text == "Who won and in 2020?"


def test_a_verb_may_comes_before_the_month() -> None:
    found = parse_time("Who may win in May 2025?", T)
    assert found.expression == "in May 2025" and found.search_text == "Who may win?"


def test_today_from() -> None:
    assert today_from("2026-12-06") == T
    assert today_from(" 2024-02-29 ") == date(2024, 2, 29)
    assert today_from("") == date.today()


@pytest.mark.parametrize("setting", ["yesterday", "06/12/2026", "2026-13-01", "2025-02-29", "2026-1-5"])
def test_today_from_rejects_anything_else(setting: str) -> None:
    with pytest.raises(ConfigError, match=r"YYYY-MM-DD|not a real date"):
        today_from(setting)
