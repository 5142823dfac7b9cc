"""train/try_history_bar.py: a lower bar applies only to answers read with their history."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "train"))

from try_history_bar import at_bar


def test_only_answers_read_with_history_get_the_lower_bar() -> None:
    records = [
        {"answerable": True, "read_with_history": True, "confidence": 0.12, "contains_gold": True},
        {"answerable": True, "read_with_history": False, "confidence": 0.12, "contains_gold": True},
        {"answerable": True, "read_with_history": True, "confidence": 0.30, "contains_gold": False},
        {"answerable": True, "read_with_history": True, "confidence": 0.05, "contains_gold": True},
        {"answerable": False, "read_with_history": True, "confidence": 0.12, "contains_gold": False},
        {"answerable": False, "read_with_history": False, "confidence": 0.15, "contains_gold": False},
    ]
    assert at_bar(records, 0.22, 0.22) == {"history_bar": 0.22, "abstained_on_answerable": 0.75,
                                           "contains_gold": 0.0, "answered_left_out": 0.0}
    assert at_bar(records, 0.10, 0.22) == {"history_bar": 0.10, "abstained_on_answerable": 0.5,
                                           "contains_gold": 0.25, "answered_left_out": 0.5}
