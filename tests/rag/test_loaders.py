import json
import os
from pathlib import Path

import pytest

from rag.loaders import decode, discover, load_file, parse_date

MB = 1024 * 1024


def load(path: Path, rel: str | None = None, max_bytes: int = MB):
    return load_file(path, rel or path.name, max_bytes)


def test_txt_text_is_file_content_with_newlines_normalised(tmp_path: Path, write) -> None:
    raw = "First line title\r\n\r\nBody one.\r\nBody two.\r"
    p = write(tmp_path / "news" / "a.txt", raw.encode())
    (doc,) = load(p, "news/a.txt").documents
    assert doc.text == raw.replace("\r\n", "\n").replace("\r", "\n")
    assert doc.title == "First line title"
    assert doc.doc_id == "news/a.txt" and doc.source == "news"


def test_markdown_title_is_first_heading(tmp_path: Path, write) -> None:
    p = write(tmp_path / "a.md", "---\n\n## Budget talks stall\n\nThe talks stalled again.")
    (doc,) = load(p).documents
    assert doc.title == "Budget talks stall"
    assert doc.text.startswith("---")


def test_html_uses_trafilatura_for_title_text_and_date(tmp_path: Path, write) -> None:
    body = " ".join(["The regional parliament voted to expand the tram network to the eastern suburbs."] * 6)
    html = f"""<html><head><title>Tram vote | Daily Example</title>
    <meta property="article:published_time" content="2024-03-05T10:00:00Z">
    <link rel="canonical" href="https://news.example.org/tram-vote"></head>
    <body><nav>Home | World | Sport</nav><article><h1>Tram network to grow</h1><p>{body}</p>
    <p>Construction starts next spring, officials said.</p></article>
    <footer>Copyright Daily Example</footer></body></html>"""
    (doc,) = load(write(tmp_path / "tram.html", html)).documents
    assert "eastern suburbs" in doc.text and "Copyright" not in doc.text and "Home | World" not in doc.text
    assert "Tram" in doc.title
    assert doc.published is not None and doc.published.year == 2024
    assert doc.url == "https://news.example.org/tram-vote" and doc.doc_id == doc.url


def test_json_and_jsonl_fields(tmp_path: Path, write) -> None:
    articles = [
        {"title": "A", "body": "Alpha text.", "url": "https://x.example/a", "published": "2024-01-02", "source": "X"},
        {"title": "B", "content": "Beta text.", "date": "Tue, 02 Jan 2024 10:00:00 GMT"},
    ]
    docs = load(write(tmp_path / "list.json", json.dumps(articles))).documents
    assert [d.doc_id for d in docs] == ["https://x.example/a", "list.json#1"]
    assert docs[0].source == "X" and docs[0].published.isoformat() == "2024-01-02T00:00:00+00:00"
    assert docs[1].text == "Beta text." and docs[1].published.hour == 10

    lines = json.dumps({"title": "C", "text": "Gamma."}) + "\n{broken\n" + json.dumps({"title": "D"}) + "\n"
    loaded = load(write(tmp_path / "a.jsonl", lines))
    assert [d.title for d in loaded.documents] == ["C"]
    assert [e.path for e in loaded.errors] == ["a.jsonl:2", "a.jsonl#3"]


def test_rss_and_atom_entries_are_articles(tmp_path: Path, write) -> None:
    rss = """<?xml version="1.0"?><rss version="2.0"><channel><title>Valley Post</title>
    <item><title>Dam opens</title><link>https://vp.example/dam</link>
    <description>&lt;p&gt;The new dam opened &lt;b&gt;today&lt;/b&gt;.&lt;/p&gt;</description>
    <pubDate>Wed, 03 Apr 2024 08:00:00 GMT</pubDate></item>
    <item><title>Empty</title><link>https://vp.example/empty</link></item></channel></rss>"""
    loaded = load(write(tmp_path / "feed.rss", rss))
    (doc,) = loaded.documents
    assert doc.text == "The new dam opened today." and doc.source == "Valley Post"
    assert doc.doc_id == "https://vp.example/dam" and doc.published.day == 3
    assert loaded.errors[0].error == "feed entry has no text"

    atom = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
    <title>Atom Times</title><entry><title>Solar farm</title><id>urn:uuid:1</id>
    <updated>2024-05-01T00:00:00Z</updated><content type="html">A solar farm was approved.</content></entry></feed>"""
    (doc,) = load(write(tmp_path / "feed.atom", atom)).documents
    assert doc.doc_id == "urn:uuid:1" and doc.text == "A solar farm was approved."


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\n ", "empty file"),
        ("binary.txt", bytes(range(256)) * 10, "binary file"),
        ("bad.json", b'{"title": "x", "text": ', "invalid JSON"),
        ("notext.json", b'{"title": "x"}', "no text"),
        ("bad.html", b"<html><body><div></div></body></html>", "no article text"),
        ("bad.rss", b"<rss><channel><item>", "not a valid RSS/Atom feed"),
        ("big.txt", b"word " * 300_000, "file too large"),
    ],
)
def test_bad_files_give_one_line_reasons(tmp_path: Path, write, name: str, content: bytes, reason: str) -> None:
    loaded = load(write(tmp_path / name, content))
    assert loaded.documents == []
    assert len(loaded.errors) == 1 and reason in loaded.errors[0].error
    assert "\n" not in loaded.errors[0].error


def test_legacy_encodings_are_decoded() -> None:
    assert decode("Café au lait, naïve résumé — déjà vu.".encode("cp1252")) == "Café au lait, naïve résumé — déjà vu."
    assert decode("Müller sagt, die Straße bleibt zu.".encode("latin-1")) == "Müller sagt, die Straße bleibt zu."
    assert decode("“Quotes” cost €5".encode("cp1252")) == "“Quotes” cost €5"
    assert decode("\ufeffBOM text".encode()) == "BOM text"
    assert decode("utf-16 text".encode("utf-16")) == "utf-16 text"


def test_discover_reports_loops_unreadable_and_unsupported(tmp_path: Path, write) -> None:
    root = tmp_path / "c"
    write(root / "ok.txt", "Title\nBody.")
    write(root / "sub" / "more.md", "# T\nBody.")
    write(root / "photo.jpg", b"\xff\xd8")
    write(root / ".hidden.txt", "ignored")
    (root / "sub" / "loop").symlink_to(root)  # a link back up the tree
    (root / "self.txt").symlink_to(root / "self.txt")  # a link to itself
    (root / "dangling.txt").symlink_to(root / "missing.txt")
    os.mkfifo(root / "pipe.txt")
    files, errors = discover([root, tmp_path / "nope"])
    assert [f.relative_to(root).as_posix() for f in files] == ["ok.txt", "sub/more.md"]
    reasons = {Path(e.path).name: e.error for e in errors}
    assert reasons["loop"].startswith("symlink loop")
    assert reasons["self.txt"] == "symlink loop"
    assert reasons["dangling.txt"] == "unreadable: broken symbolic link"
    assert reasons["pipe.txt"] == "unreadable: not a regular file"
    assert reasons["photo.jpg"] == "unsupported file type .jpg"
    assert reasons["nope"] == "path not found"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file(tmp_path: Path, write) -> None:
    p = write(tmp_path / "secret.txt", "Title\nBody")
    p.chmod(0)
    assert "unreadable" in load(p).errors[0].error


def test_parse_date_variants() -> None:
    assert parse_date("2024-02-03T04:05:06+02:00").hour == 2
    assert parse_date("Sat, 03 Feb 2024 04:05:06 +0000").day == 3
    assert parse_date("not a date") is None
    assert parse_date(None) is None
