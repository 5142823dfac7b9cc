"""Which embedding model is this? A hash of its files, cached by path, size and mtime.

The model's name says nothing about its weights: two folders called
all-MiniLM-L6-v2 can hold different files. The index fingerprint therefore
records a SHA-256 over the model's weight, config and tokenizer files. Hashing
90 MB takes about 0.2 s, so the digest is cached in ``cache_dir`` and reused
while no file's size or mtime changed: opening an index stays a few stats.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

# What decides the vectors: weights, configs (pooling, normalisation, window) and the tokenizer.
_SUFFIXES = (".safetensors", ".bin", ".onnx", ".json", ".txt", ".model")
_SKIP = {"README.md", ".gitattributes", "data_config.json"}  # training notes, not model behaviour


def model_files(model_path: str | Path) -> list[Path]:
    root = Path(model_path)
    files = [
        p for p in root.rglob("*")
        if p.is_file() and p.suffix in _SUFFIXES and p.name not in _SKIP and ".cache" not in p.parts
    ]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def _stamp(root: Path, files: list[Path]) -> list[list[object]]:
    stamp: list[list[object]] = []
    for p in files:
        st = p.stat()
        stamp.append([p.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns])
    return stamp


def _hash(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.relative_to(root).as_posix().encode() + b"\0")
        with open(p, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def model_digest(model_path: str | Path, cache_dir: Path | None = None) -> str:
    """SHA-256 over the model's files; cached in ``cache_dir/model-digests.json``."""
    root = Path(model_path).resolve()
    files = model_files(root)
    stamp = _stamp(root, files)
    cache = Path(cache_dir) / "model-digests.json" if cache_dir else None
    known: dict[str, dict[str, object]] = {}
    if cache is not None and cache.exists():
        try:
            known = json.loads(cache.read_text())
        except (OSError, ValueError):
            known = {}
    entry = known.get(str(root))
    if entry and entry.get("stamp") == stamp:
        return str(entry["sha256"])
    sha = _hash(root, files)
    if cache is not None:
        known[str(root)] = {"stamp": stamp, "sha256": sha}
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(known, indent=1))
            os.replace(tmp, cache)  # atomic: a concurrent reader sees the old or the new file
        except OSError:
            pass  # a read-only cache only costs the hash next time
    return sha
