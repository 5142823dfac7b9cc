"""Process-wide thread pools for work that runs beside the caller (onnxruntime, numpy and SQLite release
the GIL, so on two cores two such steps take about the time of the longer one)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

_pools: dict[str, tuple[int, ThreadPoolExecutor]] = {}
_lock = threading.Lock()


def _unlock_in_child() -> None:
    """A fork while another thread held the lock would leave the child's copy locked forever."""
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_unlock_in_child)


def pool(name: str, workers: int) -> ThreadPoolExecutor:
    """This process's pool called ``name``, made again in a forked child: a pool's threads do not survive
    fork(), and a pre-forking server that used it before forking would hang on its first question."""
    with _lock:
        pid, executor = _pools.get(name, (0, None))
        if executor is None or pid != os.getpid():
            executor = ThreadPoolExecutor(workers, thread_name_prefix=name)
            _pools[name] = (os.getpid(), executor)
        return executor
