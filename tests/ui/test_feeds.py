"""The Feeds panel's helpers that need no server: waiting out another writer."""

from __future__ import annotations

import pytest

from rag.errors import IndexLockedError
from ui.feeds import patiently


def test_a_button_waits_for_another_writer_then_gives_its_message() -> None:
    tries = []

    def busy_twice() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise IndexLockedError("another process is writing to the index")
        return "done"

    assert patiently(busy_twice, seconds=5) == "done" and len(tries) == 3

    def always_busy() -> str:
        raise IndexLockedError("another process is writing to the index")

    with pytest.raises(IndexLockedError):
        patiently(always_busy, seconds=0.6)
