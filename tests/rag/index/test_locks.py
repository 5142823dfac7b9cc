"""The writer lease in the store (rag/index/locks.py), on a real embedded Chroma; no model."""

from __future__ import annotations

import subprocess
import sys
import time

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from rag.index.chroma_documents import placeholder_vector, state_collection
from rag.errors import IndexLockedError
from rag.index.locks import LEASE, Lease, _machine


@pytest.fixture
def client(tmp_path):
    return chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))


def _plant(client, owner: str, pid: int, expires: float) -> None:
    """A lease record left by another writer."""
    state_collection(client).add(ids=[LEASE], embeddings=[placeholder_vector(LEASE)],
                                 metadatas=[{"owner": owner, "pid": pid, "expires": expires}])


def test_one_holder_at_a_time_and_released_on_exit(client) -> None:
    with Lease(client, 30) as first:
        assert first.holder()["owner"] == first.owner
        with pytest.raises(IndexLockedError, match=r"another instance .* is writing to the index"):
            Lease(client, 30).acquire()
    with Lease(client, 30) as second:  # released: the next writer gets it at once
        assert second.holder()["owner"] == second.owner
    assert Lease(client, 30).holder() is None


def test_an_expired_lease_of_another_machine_is_taken_over(client) -> None:
    _plant(client, "elsewhere/0badc0de:4242:abcd", 4242, time.time() - 1)
    with Lease(client, 30) as lease:
        assert lease.holder()["owner"] == lease.owner


def test_a_live_lease_of_another_machine_is_respected(client) -> None:
    _plant(client, "elsewhere/0badc0de:4242:abcd", 4242, time.time() + 60)
    with pytest.raises(IndexLockedError, match="elsewhere"):
        Lease(client, 30).acquire()


def test_a_dead_writer_on_this_machine_is_replaced_at_once(client) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _plant(client, f"{_machine()}:{dead.pid}:abcd", dead.pid, time.time() + 60)
    with Lease(client, 30) as lease:
        assert lease.holder()["owner"] == lease.owner


def test_the_holder_renews_it_beyond_its_lifetime(client) -> None:
    with Lease(client, 3) as lease:
        time.sleep(4.5)
        assert lease.holder()["expires"] > time.time() and not lease.lost
        with pytest.raises(IndexLockedError):
            Lease(client, 3).acquire()
        lease.check()


def test_a_lease_taken_away_stops_the_writer(client) -> None:
    with Lease(client, 3) as lease:
        state_collection(client).delete(ids=[LEASE])  # e.g. expired while the store was unreachable
        _plant(client, "elsewhere/0badc0de:7:abcd", 7, time.time() + 60)
        time.sleep(1.5)  # one renewal period (a third of the lifetime)
        assert lease.lost
        with pytest.raises(IndexLockedError, match="lost the writer lease"):
            lease.check()
    assert lease.holder()["owner"].startswith("elsewhere")  # leaving did not delete the new holder's record
