"""Near-duplicate detection: group copies of one story (reposts, small edits, new titles, site furniture).

A document's word shingles are summarised by a MinHash signature that is stored with the document (as
bytes, see ``signature_bytes``). At index time a ``StoryIndex`` is rebuilt from the stored signatures;
banded MinHash LSH proposes candidates, their signatures' agreement drops the clear misses, and the exact
Jaccard similarity of the shingle sets decides, so a grouping never rests on an estimate. The story id is
a label: the doc id of the story's first document.

Typical flow::

    index = StoryIndex.from_signatures(rows)            # rows: (doc_id, signature bytes, story) from SQLite
    sh = shingles(text); sig = signature(sh)
    story = index.find(sig, sh, lambda d: shingles(stored_text(d)), exclude=doc_id) or doc_id
    index.add(doc_id, sig, story)                        # and store signature_bytes(sig), story

Shingle the text that is the story: measured on the body, a .txt file's title line left out (with it, the
hardest copies lose 1 % more recall). The constants were chosen by ``train/tune_stories.py`` (numbers in
docs/stories.md).
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # datasketch imports scipy (~0.5 s): loaded on first signature, not with this module
    from datasketch import MinHash

# Words per shingle: of 3, 4 and 5, 3 groups the fewest different same-category articles at the threshold that
# keeps >= 99 % of every kind of copy (tune half: 17 pairs at 0.40, against 21 for 4 words at 0.30 and 21 for
# 5 at 0.25): a word edit breaks fewer short shingles.
SHINGLE_WORDS: int = 3
# MinHash permutations: enough for LSH to propose 99.5 % of the pairs at THRESHOLD with 2-row bands.
NUM_PERM: int = 128
# Exact Jaccard of the shingle sets at or above which two documents are one story: the highest multiple of
# 0.05 at which every kind of copy keeps >= 99 % recall on the tune half of the BBC articles (the worst kind,
# boilerplate + new title + 10 % of the words changed: 99.2 %); different articles of one category lie below
# 0.03 (99.9th percentile), follow-ups that reuse paragraphs at 0.2-0.55. Measured by
#   .venv/bin/python train/tune_stories.py
THRESHOLD: float = 0.4
# LSH proposes a pair at similarity THRESHOLD with at least this chance (bands and rows follow from it).
CANDIDATE_RECALL: float = 0.995
# A candidate whose signatures agree on fewer than (threshold - ESTIMATE_SIGMAS standard deviations of the
# MinHash estimate) of the values is dropped before its exact Jaccard is computed: 4 sigmas lose ~3 in 100,000.
ESTIMATE_SIGMAS: float = 4.0
# Fixed MinHash seed and scheme: signatures made in different processes (and stored) must compare.
SEED: int = 1
SCHEME = "affine64"  # 64-bit permutations of the 64-bit shingle hashes, stored as uint64

_WORD = re.compile(r"\w+")
_BATCH = 4096  # shingles per MinHash update: bounds the (batch x NUM_PERM) uint64 work array at 4 MiB
# Fixed odd multipliers that fold a band's values into one 64-bit bucket key (a collision only adds a candidate)
_MIX = np.random.RandomState(SEED).randint(0, 2**63, size=NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def words(text: str) -> list[str]:
    """The lower-cased words of ``text``: punctuation and spacing differences do not separate copies."""
    return _WORD.findall(text.lower())


def _hash(shingle: str) -> int:
    """A stable 64-bit hash (Python's ``hash()`` changes per process, and stored signatures must not)."""
    return int.from_bytes(hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest(), "little")


def shingles(text: str, k: int = SHINGLE_WORDS) -> set[int]:
    """Hashed ``k``-word shingles of the lower-cased words; a text shorter than ``k`` words gives one shingle
    (an empty text none), so short texts still compare."""
    ws = words(text)
    if not ws:
        return set()
    if len(ws) <= k:
        return {_hash(" ".join(ws))}
    return {_hash(" ".join(ws[i : i + k])) for i in range(len(ws) - k + 1)}


def jaccard(a: set[int], b: set[int]) -> float:
    """Exact Jaccard similarity; 0.0 when either set is empty (an empty text is like nothing)."""
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def _identity(value: int) -> int:
    return value


@functools.cache
def _template() -> MinHash:
    """An empty MinHash whose permutations (made from SEED once) every signature copies."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=_identity, scheme=SCHEME)


def signature(shingle_set: set[int]) -> np.ndarray:
    """The MinHash hash values (uint64, NUM_PERM of them) of a shingle set; all maximal for an empty set."""
    mh = _template().copy()
    values = list(shingle_set)
    for start in range(0, len(values), _BATCH):
        mh.update_batch(values[start : start + _BATCH])
    return np.asarray(mh.hashvalues, dtype=np.uint64)


def signature_bytes(sig: np.ndarray) -> bytes:
    """The signature as little-endian bytes (8 x NUM_PERM), for a BLOB column."""
    return np.asarray(sig, dtype="<u8").tobytes()


def signature_from_bytes(data: bytes) -> np.ndarray:
    """The signature stored by ``signature_bytes``."""
    sig = np.frombuffer(data, dtype="<u8").astype(np.uint64)
    if sig.shape != (NUM_PERM,):
        raise ValueError(f"a signature has {NUM_PERM} values, got {sig.size}")
    return sig


def estimate(sig: np.ndarray, other: np.ndarray) -> float:
    """The MinHash estimate of the Jaccard similarity: the share of equal values."""
    return float(np.count_nonzero(np.asarray(sig) == np.asarray(other))) / NUM_PERM


def lsh_params(threshold: float, candidate_recall: float = CANDIDATE_RECALL) -> tuple[int, int]:
    """(bands, rows): the most rows per band (fewest chance candidates), then the fewest bands, with which a pair
    at similarity ``threshold`` shares a band with chance >= ``candidate_recall`` (1 - (1 - t^r)^b)."""
    t = min(max(threshold, 1e-6), 1.0)
    for rows in range(NUM_PERM, 0, -1):
        p = t**rows
        if p >= 1.0:
            return 1, rows
        if p <= 0.0:
            continue
        bands = math.ceil(math.log(1 - candidate_recall) / math.log1p(-p))
        if bands * rows <= NUM_PERM:
            return max(bands, 1), rows
    return NUM_PERM, 1


def lsh_threshold(bands: int, rows: int) -> float:
    """The similarity at which LSH proposes a pair half of the time."""
    return (1 - 0.5 ** (1 / bands)) ** (1 / rows)


class StoryIndex:
    """In-memory MinHash LSH over stored signatures: candidates from LSH, confirmed by exact Jaccard.

    Banded LSH on plain dicts (one per band, bucket key: the band's values folded into one integer): rebuilding
    from 10,000 stored signatures is a few numpy operations and dict inserts (datasketch's MinHashLSH took
    1.4-2.6 s for the same, see docs/stories.md)."""

    def __init__(self, threshold: float = THRESHOLD, bands: int | None = None, rows: int | None = None) -> None:
        """``bands`` x ``rows`` default to ``lsh_params(threshold)``: a pair at ``threshold`` is proposed with
        chance >= CANDIDATE_RECALL, so the LSH's own threshold lies well below ``threshold``."""
        self.threshold = threshold
        default_bands, default_rows = lsh_params(threshold)
        self.bands = bands or default_bands
        self.rows = rows or default_rows
        if self.bands * self.rows > NUM_PERM:
            raise ValueError(f"{self.bands} bands x {self.rows} rows exceed {NUM_PERM} permutations")
        self.lsh_threshold = lsh_threshold(self.bands, self.rows)
        self.min_agreement = threshold - ESTIMATE_SIGMAS * math.sqrt(threshold * (1 - threshold) / NUM_PERM)
        self._tables: list[dict[int, list[str]]] = [{} for _ in range(self.bands)]
        self._keys: dict[str, list[int]] = {}  # doc id -> its bucket key per band
        self._sigs: dict[str, np.ndarray] = {}
        self._stories: dict[str, str] = {}

    def _band_keys(self, sigs: np.ndarray) -> np.ndarray:
        """(n, bands) bucket keys of (n, NUM_PERM) signatures."""
        used = self.bands * self.rows
        with np.errstate(over="ignore"):
            mixed = sigs[:, :used] * _MIX[:used]  # uint64 arithmetic wraps: that is the hash
        return mixed.reshape(len(sigs), self.bands, self.rows).sum(axis=2, dtype=np.uint64)

    @classmethod
    def from_signatures(
        cls, rows: Iterable[tuple[str, np.ndarray | bytes, str]], threshold: float = THRESHOLD
    ) -> StoryIndex:
        """An index of stored ``(doc_id, signature or its bytes, story)`` rows: the rebuild at index time."""
        index = cls(threshold)
        latest = {doc_id: (sig, story) for doc_id, sig, story in rows}  # a repeated id: its last row counts
        if latest:
            sigs = np.stack([_as_signature(sig) for sig, _ in latest.values()])
            index._insert(list(latest), sigs, [story for _, story in latest.values()])
        return index

    def _insert(self, ids: list[str], sigs: np.ndarray, stories: list[str]) -> None:
        for doc_id in ids:
            if doc_id in self._stories:
                self.remove(doc_id)
        empty = (sigs == np.uint64(2**64 - 1)).all(axis=1)  # no shingles: matches nothing, so not bucketed
        keys = self._band_keys(sigs).tolist()
        for i, (doc_id, story) in enumerate(zip(ids, stories, strict=True)):
            self._stories[doc_id] = story
            self._sigs[doc_id] = sigs[i]
            if not empty[i]:
                self._keys[doc_id] = keys[i]
        for band, table in enumerate(self._tables):
            for doc_id, row in zip(ids, keys, strict=True):
                if doc_id in self._keys:
                    bucket = table.get(row[band])
                    if bucket is None:
                        table[row[band]] = [doc_id]
                    else:
                        bucket.append(doc_id)

    def __len__(self) -> int:
        return len(self._stories)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._stories

    def add(self, doc_id: str, sig: np.ndarray | bytes, story: str) -> None:
        """Index ``doc_id`` as part of ``story``; a doc id already indexed is replaced (an updated document)."""
        self._insert([doc_id], _as_signature(sig)[None, :], [story])

    def remove(self, doc_id: str) -> None:
        """Forget ``doc_id``; nothing happens if it is not indexed."""
        if self._stories.pop(doc_id, None) is None:
            return
        del self._sigs[doc_id]
        for table, key in zip(self._tables, self._keys.pop(doc_id, ()), strict=False):
            bucket = table[key]
            bucket.remove(doc_id)
            if not bucket:
                del table[key]

    def story_of(self, doc_id: str) -> str | None:
        return self._stories.get(doc_id)

    def candidates(self, sig: np.ndarray, exclude: str = "") -> list[str]:
        """Indexed doc ids that LSH proposes for ``sig`` and whose signatures agree enough, most similar first."""
        sig = np.asarray(sig, dtype=np.uint64)
        found: set[str] = set()
        for table, key in zip(self._tables, self._band_keys(sig[None, :])[0].tolist(), strict=True):
            bucket = table.get(key)
            if bucket:
                found.update(bucket)
        found.discard(exclude)
        if not found:
            return []
        ids = sorted(found)
        agree = (np.stack([self._sigs[d] for d in ids]) == sig).sum(axis=1) / NUM_PERM
        keep = agree >= self.min_agreement
        return [d for _, d in sorted(zip((-agree[keep]).tolist(), np.array(ids)[keep].tolist(), strict=True))]

    def find(
        self,
        sig: np.ndarray,
        shingle_set: set[int],
        shingles_of: Callable[[str], set[int]],
        exclude: str = "",
    ) -> str | None:
        """The story of the most similar indexed document whose exact Jaccard with ``shingle_set`` is at least
        the threshold, else None. ``shingles_of(doc_id)`` gives a candidate's shingles (from its stored text);
        ``exclude`` is a doc id to ignore (the document itself, when it is updated)."""
        if not shingle_set:
            return None
        best, best_j = None, -1.0
        for doc_id in self.candidates(sig, exclude):
            j = jaccard(shingle_set, shingles_of(doc_id))
            if j >= self.threshold and j > best_j:
                best, best_j = doc_id, j
                if j == 1.0:
                    break
        return None if best is None else self._stories[best]


def _as_signature(sig: np.ndarray | bytes | bytearray | memoryview) -> np.ndarray:
    if isinstance(sig, bytes | bytearray | memoryview):
        return signature_from_bytes(bytes(sig))
    sig = np.asarray(sig, dtype=np.uint64)
    if sig.shape != (NUM_PERM,):
        raise ValueError(f"a signature has {NUM_PERM} values, got shape {sig.shape}")
    return sig
