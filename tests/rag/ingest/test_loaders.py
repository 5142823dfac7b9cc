import json
import os
from pathlib import Path

import pytest

from rag.ingest.loaders import decode, discover, load_file, parse_date

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


# --------------------------------------------------------------------------- hostile input (issue: one bad article)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1700000000, "2023-11-14T22:13:20+00:00"),  # seconds
        (1700000000123, "2023-11-14T22:13:20.123000+00:00"),  # milliseconds: was "year 55840 is out of range"
        (1700000000123456, "2023-11-14T22:13:20.123456+00:00"),  # microseconds
        ("1700000000000", "2023-11-14T22:13:20+00:00"),  # a number in a string
        (1.7e9, "2023-11-14T22:13:20+00:00"),
        ("2024-02-03", "2024-02-03T00:00:00+00:00"),  # ISO without zone: UTC
        ("2024-02-03T04:05:06Z", "2024-02-03T04:05:06+00:00"),
        ("2024-02-03T04:05:06-05:00", "2024-02-03T09:05:06+00:00"),
        ("Sat, 03 Feb 2024 04:05:06 GMT", "2024-02-03T04:05:06+00:00"),  # RFC 822
    ],
)
def test_dates_in_every_common_form(value: object, expected: str) -> None:
    warnings: list[str] = []
    assert parse_date(value, warnings).isoformat() == expected
    assert warnings == []


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), -float("inf"), 10**30, -(10**30), "2024-13-45", "31/02/2024", "0000-00-00",
     "yesterday", True, [2024, 1, 1], {"date": "2024-01-01"}, object(), "9999-12-31", -5e12, b"2024-01-01"],
)
def test_impossible_dates_become_none_with_a_warning(value: object) -> None:
    warnings: list[str] = []
    assert parse_date(value, warnings) is None
    assert len(warnings) == 1 and warnings[0].startswith("date ")


def test_a_bad_date_never_loses_the_article(tmp_path: Path, write) -> None:
    records = [
        {"title": "Epoch in milliseconds", "text": "Body one.", "published": 1700000000000},
        {"title": "Impossible date", "text": "Body two.", "published": "2024-02-30"},
        {"title": "NaN date", "text": "Body three.", "date": float("nan")},
    ]
    p = write(tmp_path / "a.jsonl", "\n".join(json.dumps(r) for r in records))  # json.dumps writes NaN
    loaded = load(p)
    assert [d.title for d in loaded.documents] == [r["title"] for r in records]
    assert loaded.documents[0].published.year == 2023
    assert loaded.documents[1].published is None and loaded.documents[2].published is None
    assert len(loaded.warnings) == 2 and loaded.errors == []


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
                                      "utf-32-le", "utf-32-be", "cp1252", "latin-1"])
def test_unicode_and_legacy_encodings_with_and_without_marks(encoding: str) -> None:
    text = "Ärzte streiken in Zürich\nDie Gespräche über Löhne sind gescheitert, sagte die Gewerkschaft."
    assert decode(text.encode(encoding)) == text


def test_odd_byte_counts_and_truncated_characters_are_not_fatal() -> None:
    text = "Headline\nA long enough body of text about the harbour bridge and its repairs."
    assert decode(text.encode("utf-16-le") + b"A").startswith(text)  # one stray byte
    assert decode(text.encode("utf-32") + b"\x00\x00").startswith(text)
    assert decode(text.encode("utf-16") + "\n".encode("utf-16-le")[:1]).startswith(text)


def test_binary_is_refused_even_when_it_looks_wide() -> None:
    with pytest.raises(Exception, match="binary"):
        decode(bytes(range(256)) * 40)
    with pytest.raises(Exception, match="binary"):
        decode(b"\xff\xfe" + bytes(range(256)) * 40)


LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + "".join(f'<!ENTITY lol{i + 1} "{("&lol" + (str(i) if i else "") + ";") * 10}">\n' for i in range(9))
    + ']>\n<rss version="2.0"><channel><title>Feed</title><item><title>&lol9;</title>'
    "<description>Harbour bridge reopens after repairs.</description></item></channel></rss>"
)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("laughs.rss", LAUGHS),
        ("charset.xml", '<?xml version="1.0" encoding="x-no-such-charset"?><rss version="2.0"><channel>'
                        "<title>F</title><item><title>T</title><description>Body text.</description></item>"
                        "</channel></rss>"),
        ("deep.rss", '<rss version="2.0"><channel><title>F</title><item><title>T</title><description>'
                     + "&lt;div&gt;" * 20000 + "Deep body" + "&lt;/div&gt;" * 20000
                     + "</description></item></channel></rss>"),
        ("deep.html", "<html><body>" + "<div>" * 20000 + "<p>Deep paragraph of text.</p>" + "</div>" * 20000
                      + "</body></html>"),
        ("deep.json", "[" * 100000 + "]" * 100000),
        ("entities.html", "<!DOCTYPE html [<!ENTITY a '" + "x" * 1000 + "'>]><html><body><p>&a;&a;&a;</p>"
                          "</body></html>"),
    ],
)
def test_hostile_xml_json_and_html_never_hang_or_blow_up(tmp_path: Path, write, name: str, content: str) -> None:
    import resource
    import time

    p = write(tmp_path / name, content)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    loaded = load(p, max_bytes=10 * MB)
    assert time.perf_counter() - started < 30
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 500 * 1024  # KiB: no blow-up
    assert loaded.documents or loaded.errors
    for doc in loaded.documents:
        assert len(doc.text) < 1_000_000  # entities were not expanded a billion times


def test_a_parser_crash_becomes_that_files_error(tmp_path: Path, write, monkeypatch) -> None:
    import rag.ingest.loaders

    def broken(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(rag.ingest.loaders, "html_document", broken)  # stands in for a bug in a parser
    p = write(tmp_path / "page.html", "<html><body><p>Text.</p></body></html>")
    (error,) = load(p).errors
    assert error.error == "KeyError: 'surprise'" and "Traceback" in error.detail


# --------------------------------------------------------------------------- properties (hypothesis)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rag.ingest.loaders import SUPPORTED_SUFFIXES, FileError  # noqa: E402

# Text as news feeds deliver it: emoji, right-to-left, zero-width and combining marks, CR/CRLF.
ODD = st.sampled_from(["😀", "🇺🇦", "\u200b", "\u200d", "\u200e", "\u202e", "\u0301", "\ufeff", "\r\n", "\r",
                       "\t", "שלום", "مرحبا", "北京。", "！", "…", "\x00", "\x1b", "\ud7ff", "\U0010ffff"])
TEXT = st.lists(st.one_of(st.text(max_size=40), ODD), max_size=30).map("".join)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), TEXT)
JSON_VALUES = st.recursive(SCALARS, lambda kids: st.one_of(
    st.lists(kids, max_size=4),
    st.dictionaries(st.sampled_from(["title", "text", "body", "content", "url", "published", "date", "source",
                                     "id", "guid", "articles", "link"]) | st.text(max_size=5), kids, max_size=6),
), max_leaves=20)
TAGS = st.sampled_from(["p", "div", "br", "script", "title", "h1", "li", "a", "item", "entry", "channel",
                        "description", "content", "pubDate", "link", "![CDATA[", "!--", "?xml"])


@st.composite
def markup(draw: st.DrawFn) -> str:
    """Random, often broken, nested HTML/RSS/Atom-ish markup."""
    parts = []
    for _ in range(draw(st.integers(0, 25))):
        tag = draw(TAGS)
        parts.append(draw(st.sampled_from([f"<{tag}>", f"</{tag}>", f"<{tag} href='javascript:x'>", "&amp;",
                                           "&#0;", "&bogus;", "]]>"])))
        parts.append(draw(TEXT))
    wrapper = draw(st.sampled_from(["{}", "<rss version='2.0'><channel>{}</channel></rss>",
                                    "<feed xmlns='http://www.w3.org/2005/Atom'>{}</feed>", "<html><body>{}"]))
    return wrapper.format("".join(parts))


def _check_loaded(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    loaded = load_file(path, path.name, MB)  # must not raise
    assert all(isinstance(e, FileError) and e.error and "\n" not in e.error for e in loaded.errors)
    for doc in loaded.documents:
        assert doc.text.strip() and "\r" not in doc.text
        assert doc.published is None or 1900 <= doc.published.year <= 2200


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(suffix=st.sampled_from(sorted(SUPPORTED_SUFFIXES)), data=st.binary(max_size=2000))
def test_property_random_bytes_in_any_file_type(tmp_path: Path, suffix: str, data: bytes) -> None:
    _check_loaded(tmp_path / f"f{suffix}", data)


@PROPERTY
@given(suffix=st.sampled_from(sorted(SUPPORTED_SUFFIXES)), text=TEXT,
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32", "utf-16-be"]))
def test_property_random_unicode_in_any_file_type(tmp_path: Path, suffix: str, text: str, encoding: str) -> None:
    _check_loaded(tmp_path / f"f{suffix}", text.encode(encoding, errors="surrogatepass"))


@PROPERTY
@given(value=JSON_VALUES, lines=st.booleans())
def test_property_random_json_structures(tmp_path: Path, value: object, lines: bool) -> None:
    if lines:
        data = "\n".join(json.dumps(v) for v in (value if isinstance(value, list) else [value]))
        _check_loaded(tmp_path / "f.jsonl", data.encode())
    else:
        _check_loaded(tmp_path / "f.json", json.dumps(value).encode())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=markup(), suffix=st.sampled_from([".html", ".rss", ".atom", ".xml"]))
def test_property_random_html_and_feed_structures(tmp_path: Path, document: str, suffix: str) -> None:
    _check_loaded(tmp_path / f"f{suffix}", document.encode("utf-8", errors="surrogatepass"))
