"""Saving uploads: supported types only, a size limit, sanitised names, always inside corpus/uploads/."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.settings import Settings
from ui.uploads import UploadError, sanitise_name, save_pasted, save_upload, uploads_dir


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("article.txt", "article.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        ("/abs/path/News Story (2).HTML", "News-Story-2.html"),
        (".hidden.json", "hidden.json"),
        ("..", "article"),
        ("", "article"),
        ("Ünïcödé café.md", "Unicode-cafe.md"),
        ("a\x00b.txt", "a-b.txt"),
        ("x" * 300 + ".txt", "x" * 80 + ".txt"),
    ],
)
def test_sanitise_name(name: str, expected: str) -> None:
    assert sanitise_name(name) == expected


def upload(tmp_path: Path, write: Callable[..., Path], name: str, data: bytes, settings: Settings) -> Path:
    source = write(tmp_path / "incoming" / "blob", data)
    return save_upload(source, name, settings)


def test_upload_is_saved_under_uploads_with_a_safe_name(
    settings: Settings, write: Callable[..., Path], tmp_path: Path
) -> None:
    saved = upload(tmp_path, write, "../../../escape.txt", b"Title\n\nText.", settings)
    assert saved == (uploads_dir(settings) / "escape.txt").resolve()
    assert saved.read_bytes() == b"Title\n\nText."
    assert not (tmp_path / "escape.txt").exists() and not (settings.corpus_dir / "escape.txt").exists()


def test_same_name_other_content_gets_a_new_name_same_content_is_reused(
    settings: Settings, write: Callable[..., Path], tmp_path: Path
) -> None:
    first = upload(tmp_path, write, "story.txt", b"One\n\nFirst text.", settings)
    again = upload(tmp_path, write, "story.txt", b"One\n\nFirst text.", settings)
    other = upload(tmp_path, write, "story.txt", b"Two\n\nSecond text.", settings)
    assert first == again and first.read_bytes() == b"One\n\nFirst text."
    assert other != first and other.name.startswith("story-") and other.suffix == ".txt"
    assert sorted(p.name for p in uploads_dir(settings).iterdir()) == sorted([first.name, other.name])


@pytest.mark.parametrize("name", ["payload.exe", "archive.tar.gz", "noextension", "script.js", "page.php"])
def test_unsupported_types_are_refused(
    settings: Settings, write: Callable[..., Path], tmp_path: Path, name: str
) -> None:
    with pytest.raises(UploadError, match="is not supported; use one of"):
        upload(tmp_path, write, name, b"data", settings)
    assert not uploads_dir(settings).exists()


def test_too_large_and_empty_files_are_refused(settings: Settings, write: Callable[..., Path], tmp_path: Path) -> None:
    small = dataclasses.replace(settings, max_upload_mb=0.001)
    with pytest.raises(UploadError, match=r"big.txt: file too large \(0.0 MB; the limit is 0.001 MB\)"):
        upload(tmp_path, write, "big.txt", b"x" * 2000, small)
    with pytest.raises(UploadError, match="the file is empty"):
        upload(tmp_path, write, "empty.txt", b"", settings)
    assert not uploads_dir(settings).exists()


def test_a_symlink_in_uploads_is_never_written_through(
    settings: Settings, write: Callable[..., Path], tmp_path: Path
) -> None:
    outside = write(tmp_path / "outside.txt", "keep me")
    uploads_dir(settings).mkdir(parents=True)
    (uploads_dir(settings) / "trap.txt").symlink_to(outside)
    saved = upload(tmp_path, write, "trap.txt", b"Trap\n\nNew text.", settings)
    assert outside.read_text() == "keep me"
    assert saved.parent == uploads_dir(settings).resolve() and saved.name.startswith("trap-")


def test_pasted_article_is_a_text_file_whose_first_line_is_the_title(settings: Settings) -> None:
    saved = save_pasted("  A  <b>bold</b> claim\n", "Line one.\r\nLine two.\n", settings)
    assert saved.parent == uploads_dir(settings).resolve()
    assert saved.name.startswith("a-b-bold-b-claim-") and saved.suffix == ".txt"
    assert saved.read_text() == "A <b>bold</b> claim\n\nLine one.\nLine two.\n"


@pytest.mark.parametrize(
    ("title", "text", "message"),
    [
        ("", "Some text.", "needs a title"),
        ("Title", "  \n ", "text is empty"),
        ("x" * 301, "Some text.", "title is too long"),
    ],
)
def test_pasted_article_problems_are_explained(settings: Settings, title: str, text: str, message: str) -> None:
    with pytest.raises(UploadError, match=message):
        save_pasted(title, text, settings)
