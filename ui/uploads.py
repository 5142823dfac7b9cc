"""Save uploaded and pasted articles into ``<corpus>/uploads/``, safely.

File names come from the browser and are untrusted: only the last path
component is kept, reduced to ``[A-Za-z0-9._-]``, never hidden, never a link,
and the final path is checked to be inside the uploads folder. Only the file
types ``rag index`` reads are accepted, up to ``settings.max_upload_mb``.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path

from rag.errors import InputError
from rag.ingest.loaders import SUPPORTED_SUFFIXES
from rag.settings import Settings

UPLOADS = "uploads"
MAX_NAME = 80
MAX_TITLE = 300
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UploadError(InputError):
    """An upload we refuse; ``str()`` says why, for the user."""


def uploads_dir(settings: Settings) -> Path:
    return Path(settings.corpus_dir) / UPLOADS


def allowed_suffixes() -> list[str]:
    return sorted(SUPPORTED_SUFFIXES)


def sanitise_name(name: str) -> str:
    """A safe file name from an untrusted one: no folders, no hidden files, ASCII only."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = _UNSAFE.sub("-", stem).strip(".-_")[:MAX_NAME] or "article"
    suffix = _UNSAFE.sub("", suffix).lower()
    return f"{stem}.{suffix}" if suffix else stem


def _check_type(name: str) -> None:
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = suffix or "(no extension)"
        raise UploadError(f"{name}: file type {shown} is not supported; use one of {', '.join(allowed_suffixes())}")


def _check_size(name: str, size: int, settings: Settings) -> None:
    limit = int(settings.max_upload_mb * 1024 * 1024)
    if size > limit:
        raise UploadError(f"{name}: file too large ({size / 2**20:.1f} MB; the limit is {settings.max_upload_mb:g} MB)")
    if size == 0:
        raise UploadError(f"{name}: the file is empty")


def _write_new(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` as ``folder/name``; an existing different file keeps its name, so ours gets a hash."""
    folder.mkdir(parents=True, exist_ok=True)
    root = folder.resolve()
    target = root / name
    if target.exists() or target.is_symlink():
        if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
            return target  # the same article again: indexing will find it unchanged
        stem, suffix = os.path.splitext(name)
        target = root / f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}{suffix}"
    if target.parent != root or target.is_symlink():
        raise UploadError(f"{name}: refusing to write outside the uploads folder")
    tmp = root / f".{target.name}.part"
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


def save_upload(path: Path, original_name: str, settings: Settings) -> Path:
    """Copy one uploaded file (``path``, Gradio's temporary copy) into the uploads folder."""
    shown = sanitise_name(original_name)
    _check_type(shown)
    try:
        size = path.stat().st_size
        _check_size(shown, size, settings)
        data = path.read_bytes()
    except OSError as exc:
        raise UploadError(f"{shown}: the upload could not be read ({exc.strerror or exc})") from exc
    return _write_new(uploads_dir(settings), shown, data)


def slug(text: str, limit: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:limit].strip("-") or "article"


def save_pasted(title: str, text: str, settings: Settings) -> Path:
    """A pasted article as ``<slug>-<hash>.txt``; its first line is the title, as the text loader expects."""
    title = " ".join((title or "").split())
    body = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not title:
        raise UploadError("the article needs a title")
    if len(title) > MAX_TITLE:
        raise UploadError(f"the title is too long ({len(title)} characters; the limit is {MAX_TITLE})")
    if not body:
        raise UploadError("the article text is empty: paste the article's text")
    data = f"{title}\n\n{body}\n".encode()
    name = f"{slug(title)}-{hashlib.sha256(data).hexdigest()[:8]}.txt"
    _check_size(name, len(data), settings)
    return _write_new(uploads_dir(settings), name, data)
