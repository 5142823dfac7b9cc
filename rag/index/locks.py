"""One writer at a time: ``WriteLock`` on this machine (a file lock), ``Lease`` across machines
(a lease record in the Chroma store).

A file lock only works on one machine; instances sharing a Chroma server need the lock where
the data is. Taking the lease is ``add`` of a fixed id (Chroma keeps the first record with an
id and ignores later adds), then reading back who holds it. The holder renews it from a
background thread every third of its lifetime. A writer that dies stops renewing: after
``lease_seconds`` any instance may take over (on the same machine at once, when the holder's
process is gone). Taking over deletes the record only if it still names the dead holder
(``delete`` with a ``where`` on the owner is compare-and-delete), so two instances can never
both take it. Clocks of the machines must agree to within a few seconds.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import IO, Any

from ..errors import IndexLockedError
from .chroma_documents import placeholder_vector, state_collection

LEASE = "writer-lease"


class WriteLock:
    """The single-writer lock of an index; the OS drops it if the process dies. ``name="watch.lock"``:
    the lock of the one feed watcher an index has (`rag watch`, or the one `rag serve` starts)."""

    def __init__(self, index_dir: Path, name: str = "write.lock") -> None:
        self.path = Path(index_dir) / name
        self._handle: IO[str] | None = None

    def __enter__(self) -> WriteLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            doing = "watching the feeds of" if self.path.name == "watch.lock" else "writing to"
            raise IndexLockedError(
                f"another process is {doing} the index at {self.path.parent}; try again when it is done"
            ) from exc
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _machine() -> str:
    """Where our process ids mean something: the host name, this boot and this pid namespace
    (containers on one kernel share the boot, not the process ids)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        boot, namespace = "", 0
    return f"{socket.gethostname()}/{boot}/{namespace}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        pass
    return True


class Lease:
    """``with Lease(client, seconds):`` holds the store's writer lease, or raises ``IndexLockedError``."""

    def __init__(self, client: Any, seconds: float) -> None:
        self.state = state_collection(client)
        self.seconds = seconds
        self.owner = f"{_machine()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Lease:
        self.acquire()
        self._thread = threading.Thread(target=self._renew_loop, name="rag-lease", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.release()

    def holder(self) -> dict[str, Any] | None:
        got = self.state.get(ids=[LEASE], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else None

    def acquire(self) -> None:
        for _ in range(5):
            self.state.add(ids=[LEASE], embeddings=[placeholder_vector(LEASE)], metadatas=[self._record()])
            holder = self.holder()
            if holder is None:  # released between our add and our read: try again
                continue
            if holder["owner"] == self.owner:
                return
            if not self._dead(holder):
                raise IndexLockedError(
                    f"another instance (on {holder['owner'].split('/')[0]}, process {holder['pid']}) is writing to "
                    f"the index; its lease runs {max(0, round(float(holder['expires']) - time.time()))} s more "
                    "unless renewed. Try again when it is done"
                )
            self.state.delete(ids=[LEASE], where={"owner": holder["owner"]})  # only if still that holder
        raise IndexLockedError("could not take the writer lease: other instances keep taking it; try again")

    def check(self) -> None:
        """Raise if the lease was lost (renewals failed until it expired): stop writing."""
        if self.lost:
            raise IndexLockedError("this run lost the writer lease (it expired or was taken); run it again")

    def release(self) -> None:
        with contextlib.suppress(Exception):  # an unreachable server: the lease expires by itself
            self.state.delete(ids=[LEASE], where={"owner": self.owner})

    def _record(self) -> dict[str, str | int | float]:
        return {"owner": self.owner, "pid": os.getpid(), "expires": time.time() + self.seconds}

    def _dead(self, holder: dict[str, Any]) -> bool:
        if float(holder.get("expires", 0)) < time.time():
            return True
        machine = str(holder.get("owner", "")).split(":")[0]
        return machine == _machine() and not _pid_alive(int(holder.get("pid", 0)))

    def _renew_loop(self) -> None:
        last = time.time()
        while not self._stop.wait(self.seconds / 3):
            try:
                holder = self.holder()
                if holder is None or holder["owner"] != self.owner or time.time() > last + self.seconds:
                    self.lost = True  # expired or taken: renewing now could overwrite another holder
                    return
                self.state.update(ids=[LEASE], metadatas=[self._record()])
                last = time.time()
            except Exception:
                if time.time() > last + self.seconds:
                    self.lost = True
                    return
