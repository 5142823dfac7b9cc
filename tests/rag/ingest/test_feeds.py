"""Reading a feed (fast: no index) and `rag index --feed` (slow), against a loopback news site."""

from __future__ import annotations

import json

import pytest

from rag.cli import main
from rag.errors import FetchError
from rag.ingest import feeds
from rag.ingest.feeds import feed_folder, fetch_feed
from tests.feed_site import Served

BODY = "The Loopback city council approved a new cycling lane along the river on Tuesday evening."


def test_only_new_and_changed_entries_are_read(settings, site) -> None:
    site.page("lanes", "Lanes", BODY)
    site.page("zoo", "Zoo", BODY.replace("cycling lane", "otter pool"))
    url = site.feed([("lanes", "Cycling lanes approved"), ("zoo", "Zoo welcomes twin otters")])
    first = fetch_feed(url, settings.corpus_dir, known={})
    assert (first.new, first.changed, first.known, first.requests) == (2, 0, 0, 3)
    assert first.title == "Loopback Gazette" and len(first.entries) == 2

    # The zoo entry's title changes: only its page is read again, and its file rewritten with the new text.
    site.page("zoo", "Zoo", BODY.replace("cycling lane", "penguin house"))
    site.feed([("lanes", "Cycling lanes approved"), ("zoo", "Zoo welcomes twin otters and a penguin")])
    site.requests.clear()
    second = fetch_feed(url, settings.corpus_dir, known=first.entries)
    assert site.paths() == ["/feed.xml", "/zoo.html"]
    assert (second.new, second.changed, second.known) == (0, 1, 1)
    record = json.loads(second.saved[0].read_text())
    assert "penguin house" in record["text"] and record["url"] == f"{site.base}/zoo.html"

    # Without a known map, the saved files say what was read (a one-off `rag index --feed`).
    assert fetch_feed(url, settings.corpus_dir).known == 2


def test_a_feed_that_is_not_a_feed_or_declares_entities_is_refused(settings, site) -> None:
    site.pages["/page.xml"] = Served("text/html", b"<html><body><p>A web page, not a feed.</p></body></html>")
    with pytest.raises(FetchError, match="not an RSS/Atom feed"):
        fetch_feed(site.base + "/page.xml", settings.corpus_dir)
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(9))
    bomb = f'<?xml version="1.0"?><!DOCTYPE r [{lol}]><rss><channel><title>&l8;</title></channel></rss>'
    site.pages["/bomb.xml"] = Served("application/rss+xml", bomb.encode())
    with pytest.raises(FetchError, match="entities"):
        fetch_feed(site.base + "/bomb.xml", settings.corpus_dir)
    assert not (settings.corpus_dir / "feeds").exists() or not any((settings.corpus_dir / "feeds").rglob("*.json"))


def test_at_most_max_entries_are_read_per_fetch(settings, site, monkeypatch) -> None:
    monkeypatch.setattr(feeds, "MAX_ENTRIES", 2)
    url = site.feed([(f"missing{i}", f"Story {i}") for i in range(5)])  # pages 404: the feed's text is used
    result = fetch_feed(url, settings.corpus_dir, known={})
    assert result.new == 2 and len(list(feed_folder(settings.corpus_dir, url).glob("*.json"))) == 2



def run_index(settings, *args: str, capsys) -> dict:
    code = main(["index", "--json", "--index-dir", str(settings.index_dir), "--corpus-dir", str(settings.corpus_dir),
                 *args])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


@pytest.mark.slow
def test_feed_entries_are_fetched_saved_and_indexed_once(settings, site, capsys) -> None:
    body = "The Loopback city council approved a new cycling lane along the river on Tuesday evening."
    for slug, title in [("lanes", "Cycling lanes approved"), ("zoo", "Zoo welcomes twin otters")]:
        site.page(slug, title, body.replace("cycling", slug))
    site.feed([("lanes", "Cycling lanes approved"), ("zoo", "Zoo welcomes twin otters")])

    report = run_index(settings, "--feed", f"{site.base}/feed.xml", capsys=capsys)
    assert report["docs_added"] == 2 and report["errors"] == []
    saved = sorted(feed_folder(settings.corpus_dir, f"{site.base}/feed.xml").glob("*.json"))
    records = [json.loads(p.read_text()) for p in saved]
    lanes = next(r for r in records if r["title"] == "Cycling lanes approved")
    assert lanes["url"] == f"{site.base}/lanes.html" and lanes["source"] == "Loopback Gazette"
    assert lanes["published"] == "2024-07-01T12:00:00+00:00"
    assert "lanes lane along the river" in lanes["text"] and "Menu" not in lanes["text"]

    # A new entry appears; the two known ones are neither fetched again nor re-indexed.
    site.page("ferry", "Ferry", body.replace("cycling", "ferry"))
    site.feed([("lanes", "Cycling lanes approved"), ("zoo", "Zoo welcomes twin otters"),
               ("ferry", "Night ferry returns")])  # (the known entries keep their dates: unchanged)
    site.requests.clear()
    report = run_index(settings, "--feed", f"{site.base}/feed.xml", capsys=capsys)
    assert site.paths() == ["/feed.xml", "/ferry.html"]
    assert (report["docs_added"], report["docs_unchanged"]) == (1, 2)


@pytest.mark.slow
def test_unreachable_page_falls_back_to_feed_text_and_bad_feed_is_an_error(settings, site, capsys) -> None:
    site.feed([("missing", "Page that 404s")])
    report = run_index(settings, "--feed", f"{site.base}/feed.xml", capsys=capsys)
    assert report["docs_added"] == 1

    site.pages["/bad.xml"] = Served("text/html", b"<html>not a feed</html>")
    code = main(["index", "--index-dir", str(settings.index_dir), "--corpus-dir", str(settings.corpus_dir),
                 "--feed", f"{site.base}/bad.xml"])
    assert code == 1
    assert "not an RSS/Atom feed" in capsys.readouterr().err
