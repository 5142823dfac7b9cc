import os

import pytest

from rag import threads
from rag.threads import pool


def test_one_pool_per_name() -> None:
    assert pool("test-a", 2) is pool("test-a", 2)
    assert pool("test-a", 2) is not pool("test-b", 2)
    assert pool("test-a", 2).submit(sum, [1, 2]).result(timeout=10) == 3


@pytest.mark.parametrize("lock_held", [False, True])
def test_a_forked_child_gets_a_pool_that_runs(lock_held: bool, child_exit) -> None:
    """The parent's pool threads do not exist in a child: it must get a pool of its own, not hang, even
    when the fork came while another thread was making a pool (``lock_held``)."""
    assert pool("test-fork", 1).submit(lambda: 1).result(timeout=10) == 1
    if lock_held:
        threads._lock.acquire()
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(0 if pool("test-fork", 1).submit(lambda: 42).result(timeout=20) == 42 else 1)
        except BaseException:
            os._exit(1)
    if lock_held:
        threads._lock.release()
    code = child_exit(pid, 30)
    if code is None:
        pytest.fail("the forked child's pool hung")
    assert code == 0
