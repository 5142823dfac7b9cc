"""Turn article files into ``Document`` records.

Each loader returns the documents it could read and a list of problems; a
broken file or entry is reported, never fatal, so the rest of a corpus is
still indexed.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from time import struct_time
from typing import Any
from urllib.parse import urlparse

from ..errors import LoadError
from ..schema import Document

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
FEED_SUFFIXES = {".rss", ".atom", ".xml"}
SUPPORTED_SUFFIXES = (
    TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES | FEED_SUFFIXES
)

# Single-byte Latin code pages a detector confuses on short texts; for news in
# Western languages, Windows-1252 (what browsers assume) is the right reading.
_LATIN_GUESSES = {
    "cp1250", "cp1252", "cp1254", "cp1257", "cp1258", "latin_1", "iso8859_2", "iso8859_3", "iso8859_4",
    "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_15", "iso8859_16", "mac_roman",
    "mac_latin2", "mac_iceland", "mac_turkish", "cp437", "cp850", "cp852", "cp858", "hp_roman8",
}  # fmt: skip


@dataclass(frozen=True)
class FileError:
    path: str
    error: str  # one line, for the report
    detail: str = field(default="", compare=False)  # the traceback, shown by `rag index --verbose`

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "error": self.error}


@dataclass
class Loaded:
    documents: list[Document] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)  # what was skipped
    warnings: list[FileError] = field(default_factory=list)  # what was indexed with a field dropped (a bad date)


def describe(exc: BaseException) -> str:
    """One line for a report: a library error's own message, else the exception type and message."""
    if isinstance(exc, LoadError):
        return str(exc)
    message = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


# --------------------------------------------------------------------------- discovery


def discover(roots: Iterable[Path]) -> tuple[list[Path], list[FileError]]:
    """Every article file under ``roots``, sorted; hidden entries are skipped.

    Symbolic links are followed once: a link back to a directory already being
    walked is reported as a loop instead of recursing forever.
    """
    files: list[Path] = []
    errors: list[FileError] = []
    seen_dirs: set[tuple[int, int]] = set()

    def walk(directory: Path) -> None:
        try:
            st = directory.stat()
        except OSError as exc:
            errors.append(FileError(str(directory), _os_reason(exc)))
            return
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            errors.append(FileError(str(directory), "symlink loop: directory already visited"))
            return
        seen_dirs.add(key)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            errors.append(FileError(str(directory), _os_reason(exc)))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            visit(Path(entry.path))

    def visit(path: Path) -> None:
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            broken = exc.errno == errno.ENOENT and path.is_symlink()
            errors.append(FileError(str(path), "unreadable: broken symbolic link" if broken else _os_reason(exc)))
            return
        if stat.S_ISDIR(mode):
            walk(path)
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            errors.append(FileError(str(path), f"unsupported file type {path.suffix or '(none)'}"))
        elif not stat.S_ISREG(mode):
            errors.append(FileError(str(path), "unreadable: not a regular file"))
        else:
            files.append(path)

    for root in roots:
        if not root.exists() and not root.is_symlink():
            errors.append(FileError(str(root), "path not found"))
            continue
        visit(root)
    return sorted(set(files)), errors


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    return f"unreadable: {exc.strerror or exc}"


# --------------------------------------------------------------------------- reading


def read_text(path: Path, max_bytes: int) -> str:
    """The file's text, decoded and with newlines normalised to ``\\n``."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LoadError(f"file too large ({size / 2**20:.1f} MB, limit {max_bytes / 2**20:.1f} MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(_os_reason(exc)) from exc
    return decode(data)


_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)


# C0 control characters other than the whitespace ones (\t \n \v \f \r): many of them mean binary.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


def decode(data: bytes) -> str:
    """UTF-8/16/32 (with or without a byte-order mark), else the detected legacy
    encoding; binary is refused. A truncated last character is replaced, not fatal."""
    if not data.strip():
        raise LoadError("empty file")
    wide = _wide_encoding(data)
    if wide:
        mark = next((m for m, name in _BOMS if name == wide and data.startswith(m)), b"")
        text = data[len(mark) :].decode(wide, errors="replace")
        if text.count("\ufffd") > max(2, len(text) // 100):
            raise LoadError(f"binary file or broken {wide.upper()} text")
    elif b"\x00" in data[:8192]:
        raise LoadError("binary file")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = _decode_legacy(data)
    sample = text[:8192]
    controls = len(_CONTROL.findall(sample))
    if controls > max(2, len(sample) // 100):
        raise LoadError("binary file")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise LoadError("empty file")
    return text


def _wide_encoding(data: bytes) -> str | None:
    """UTF-16/32 from a byte-order mark, or from where the NUL bytes of mostly-ASCII text fall."""
    for mark, name in _BOMS:
        if data.startswith(mark):
            return None if name == "utf-8" else name
    head = data[:4096]
    if len(head) < 4 or b"\x00" not in head:
        return None
    quads = len(head) // 4
    for name, zeros in (("utf-32-le", (1, 2, 3)), ("utf-32-be", (0, 1, 2))):
        if sum(all(head[4 * i + z] == 0 for z in zeros) for i in range(quads)) > 0.9 * quads:
            return name
    pairs = len(head) // 2
    for name, zero in (("utf-16-le", 1), ("utf-16-be", 0)):
        if sum(head[2 * i + zero] == 0 for i in range(pairs)) > 0.6 * pairs:
            return name
    return None


def _decode_legacy(data: bytes) -> str:
    import charset_normalizer

    # Text without NUL bytes is not UTF-16/32, whatever a detector guesses for a short sample.
    wide = ["utf_16", "utf_16_le", "utf_16_be", "utf_32", "utf_32_le", "utf_32_be"]
    best = charset_normalizer.from_bytes(data, cp_exclusion=wide).best()
    # Latin-script text has few bytes above 0x7f; Cyrillic, Greek or CJK text in a
    # legacy encoding has many. Detectors misjudge the former (a lone "£" reads as CJK).
    mostly_ascii = sum(b >= 0x80 for b in data) < len(data) * 0.3
    if best is None or mostly_ascii or best.encoding in _LATIN_GUESSES:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    if best is None:
        raise LoadError("binary file or unknown text encoding")
    return str(best)


# Dates outside this range are typos or unit mistakes (a millisecond epoch read as seconds).
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200


def parse_date(value: object, warnings: list[str] | None = None) -> datetime | None:
    """Best-effort date parsing that never raises: an unusable date becomes ``None``
    (and a line in ``warnings``), never a lost article.

    Numbers are Unix times in seconds, milliseconds or microseconds (chosen by size);
    strings may be ISO 8601 (with or without zone), RFC 822, or a number.
    """
    if value is None or value == "":
        return None
    try:
        result = _to_datetime(value)
    except (ValueError, OverflowError, OSError, TypeError, IndexError) as exc:
        result, reason = None, f"{type(exc).__name__}: {exc}"
    else:
        reason = "not a date"
    if result is not None:
        result = result.replace(tzinfo=UTC) if result.tzinfo is None else result.astimezone(UTC)
        if EARLIEST_YEAR <= result.year <= LATEST_YEAR:
            return result
        reason = f"year {result.year} is outside {EARLIEST_YEAR}-{LATEST_YEAR}"
    if warnings is not None:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        warnings.append(f"date {shown} ignored ({reason.splitlines()[0][:120]})")
    return None


def _to_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, struct_time):
        return datetime(*value[:6], tzinfo=UTC)
    if isinstance(value, bool):  # a bool is an int to Python, but never a date
        return None
    if isinstance(value, (int, float)):
        return _from_epoch(float(value))
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER.fullmatch(text):
            return _from_epoch(float(text))
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return parsedate_to_datetime(text)  # RFC 822; raises ValueError/TypeError when it is not one
    return None


_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def _from_epoch(seconds: float) -> datetime | None:
    """Seconds, milliseconds or microseconds since 1970, whichever gives a year in range."""
    if not math.isfinite(seconds):
        raise ValueError("not a finite number")
    for scale in (1, 1e3, 1e6, 1e9):
        if abs(seconds / scale) < 1e10:  # before the year 2286
            return datetime.fromtimestamp(seconds / scale, tz=UTC)
    raise ValueError("number too large for a time")


# --------------------------------------------------------------------------- loaders


def load_file(path: Path, rel: str, max_bytes: int) -> Loaded:
    """Documents from one file; ``rel`` is its name relative to the corpus.

    Never raises for anything in the file: a parser bug or an odd input becomes an
    entry in ``errors`` (exception type and one line), so one file cannot stop a run.
    """
    suffix = path.suffix.lower()
    warnings: list[str] = []
    try:
        text = read_text(path, max_bytes)
        if suffix in TEXT_SUFFIXES | MARKDOWN_SUFFIXES:
            loaded = Loaded([_plain_document(text, rel, markdown=suffix in MARKDOWN_SUFFIXES)])
        elif suffix in HTML_SUFFIXES:
            loaded = Loaded([html_document(text, doc_id=rel, path=rel, source=_folder_source(rel), warnings=warnings)])
        elif suffix in JSON_SUFFIXES:
            loaded = _json_documents(text, rel, warnings)
        elif suffix in JSONL_SUFFIXES:
            loaded = _jsonl_documents(text, rel, warnings)
        elif suffix in FEED_SUFFIXES:
            loaded = _feed_documents(text, rel, warnings)
        else:
            return Loaded(errors=[FileError(rel, f"unsupported file type {suffix}")])
    except LoadError as exc:
        return Loaded(errors=[FileError(rel, str(exc))])
    except Exception as exc:  # a parser's bug or limit: that file's error, with the traceback for --verbose
        return Loaded(errors=[FileError(rel, describe(exc), "".join(traceback.format_exception(exc)))])
    loaded.warnings.extend(FileError(rel, w) for w in dict.fromkeys(warnings))
    return loaded


def _folder_source(rel: str) -> str:
    """Files in ``corpus/<name>/...`` come from source ``<name>``."""
    parts = Path(rel).parts
    return parts[0] if len(parts) > 1 else "local"


def _plain_document(text: str, rel: str, *, markdown: bool) -> Document:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    title = lines[0]
    if markdown:
        heading = next((line for line in lines[:20] if line.startswith("#")), title)
        title = heading.lstrip("#").strip() or title
    return Document(doc_id=rel, title=title[:300], text=text, path=rel, source=_folder_source(rel))


def html_document(
    html: str, *, doc_id: str, path: str, source: str, url: str = "", warnings: list[str] | None = None
) -> Document:
    """Main text, title and date of an HTML page, extracted by trafilatura."""
    import trafilatura

    extracted = trafilatura.bare_extraction(
        html, url=url or None, with_metadata=True, include_comments=False, include_tables=False
    )
    data: dict[str, Any] = {}
    if extracted is not None:
        data = extracted.as_dict() if hasattr(extracted, "as_dict") else dict(extracted)
    text = (data.get("text") or "").strip()
    if not text:
        raise LoadError("no article text found in HTML")
    page_url = url or data.get("url") or ""
    title = (data.get("title") or "").strip() or text.split("\n", 1)[0][:300]
    site = (data.get("sitename") or data.get("hostname") or "").strip()
    return Document(
        doc_id=page_url or doc_id,
        title=title,
        text=text,
        url=page_url,
        published=parse_date(data.get("date"), warnings),
        source=site or _host(page_url) or source,
        path=path,
    )


def _host(url: str) -> str:
    return urlparse(url).hostname or "" if url else ""


def record_document(
    record: object, *, fallback_id: str, path: str, default_source: str, warnings: list[str] | None = None
) -> Document:
    """A JSON object with title, text|body|content, url, published|date, source."""
    if not isinstance(record, dict):
        raise LoadError("not a JSON object")
    text = next((record[k] for k in ("text", "body", "content") if isinstance(record.get(k), str)), "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise LoadError("no text: expected a non-empty 'text', 'body' or 'content' field")
    url = str(record.get("url") or record.get("link") or "")
    guid = str(record.get("guid") or record.get("id") or "")
    title = str(record.get("title") or "").strip() or text.strip().split("\n", 1)[0][:300]
    return Document(
        doc_id=url or guid or fallback_id,
        title=title,
        text=text,
        url=url,
        published=parse_date(_first(record, "published", "date"), warnings),
        source=str(record.get("source") or "") or _host(url) or default_source,
        path=path,
    )


def _first(record: dict[str, Any], *keys: str) -> object:
    """The first of ``keys`` that is present and not empty (0 is a value, not an absence)."""
    return next((record[k] for k in keys if record.get(k) not in (None, "")), None)


def _json_documents(text: str, rel: str, warnings: list[str]) -> Loaded:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(f"invalid JSON: {exc.msg} at line {exc.lineno}") from exc
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    records = data if isinstance(data, list) else [data]
    items = ((f"{rel}#{i}" if isinstance(data, list) else rel, r) for i, r in enumerate(records))
    return _records(items, rel, warnings)


def _jsonl_documents(text: str, rel: str, warnings: list[str]) -> Loaded:
    loaded = Loaded()
    good: list[tuple[str, object]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            good.append((f"{rel}#{number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            loaded.errors.append(FileError(f"{rel}:{number}", f"invalid JSON line: {exc.msg}"))
    result = _records(iter(good), rel, warnings)
    result.errors[:0] = loaded.errors
    if not result.documents and not result.errors:
        raise LoadError("no articles in file")
    return result


def _records(items: Iterator[tuple[str, object]], rel: str, warnings: list[str]) -> Loaded:
    loaded = Loaded()
    for fallback_id, record in items:
        try:
            loaded.documents.append(
                record_document(
                    record, fallback_id=fallback_id, path=rel, default_source=_folder_source(rel), warnings=warnings
                )
            )
        except Exception as exc:  # one bad record never costs the others
            loaded.errors.append(FileError(fallback_id, describe(exc)))
    return loaded


def _feed_documents(text: str, rel: str, warnings: list[str]) -> Loaded:
    import feedparser

    feed = feedparser.parse(text)
    reason = str(getattr(feed, "bozo_exception", None) or "no entries").splitlines()[0][:200]
    if not feed.entries:
        raise LoadError(f"not a valid RSS/Atom feed: {reason}")
    source = str(feed.feed.get("title") or "") or _host(str(feed.feed.get("link") or "")) or _folder_source(rel)
    loaded = Loaded()
    for i, entry in enumerate(feed.entries):
        entry_id = f"{rel}#{i}"
        try:
            loaded.documents.append(
                feed_entry_document(entry, fallback_id=entry_id, path=rel, source=source, warnings=warnings)
            )
        except Exception as exc:  # one bad entry never costs the others
            loaded.errors.append(FileError(entry_id, describe(exc)))
    if feed.bozo and not loaded.documents:
        raise LoadError(f"not a valid RSS/Atom feed: {reason}")
    return loaded


def feed_entry_document(
    entry: Any, *, fallback_id: str, path: str, source: str, warnings: list[str] | None = None
) -> Document:
    """One RSS/Atom entry; its HTML content is reduced to plain text."""
    html = ""
    if entry.get("content"):
        html = entry["content"][0].get("value", "")
    html = html or entry.get("summary", "") or entry.get("description", "")
    text = html_fragment_text(html)
    if not text:
        raise LoadError("feed entry has no text")
    url = str(entry.get("link") or "")
    return Document(
        doc_id=url or str(entry.get("id") or "") or fallback_id,
        title=str(entry.get("title") or "").strip() or text.split("\n", 1)[0][:300],
        text=text,
        url=url,
        published=parse_date(entry.get("published_parsed") or entry.get("updated_parsed"), warnings),
        source=source,
        path=path,
    )


_BLOCKS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "section"}


def html_fragment_text(html: str) -> str:
    """Text of a feed entry's HTML snippet, one line per block element.

    trafilatura looks for a page's main content and returns nothing for short
    snippets, so snippets are parsed with lxml directly.
    """
    if not html.strip():
        return ""
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return html.strip()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCKS:
            element.tail = "\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n"))
    return "\n".join(line for line in lines if line)
