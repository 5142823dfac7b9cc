import json
import subprocess
import sys

import pytest

from rag.cli import main
from rag.ingest.bbc_demo import import_bbc

pytestmark = pytest.mark.slow  # the real model, servers or a browser


def test_index_json_summary_fields(settings, corpus, capsys) -> None:
    code = main(["index", "--json", "--index-dir", str(settings.index_dir), "--corpus-dir", str(corpus)])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("docs_added", "docs_updated", "docs_unchanged", "docs_removed", "chunks_added", "chunks_deleted",
                "chunks_total", "errors", "seconds"):
        assert key in report
    assert report["docs_added"] == 3
    assert report["consistency"]["ok"] is True and report["warnings"] == []


def test_index_check_and_verbose(settings, corpus, write, capsys) -> None:
    where = ["--index-dir", str(settings.index_dir), "--corpus-dir", str(corpus)]
    assert main(["index", *where]) == 0
    assert main(["index", "--check", *where]) == 0
    assert "stores consistent" in capsys.readouterr().out
    from rag.index.facade import Index

    index = Index(settings)
    index.vectors.delete(sorted(index.vectors.all_ids())[:1])
    index.close()
    assert main(["index", "--check", "--json", *where]) == 3
    assert json.loads(capsys.readouterr().out)["missing_vectors"] == 1
    write(corpus / "bad.json", '{"title": ')
    assert main(["index", "--verbose", *where]) == 0
    out, err = capsys.readouterr()
    assert "1 chunks without vectors; repaired" in out and "skipped bad.json: invalid JSON" in err


def test_errors_are_one_line_not_tracebacks(tmp_path) -> None:
    env_cmd = [sys.executable, "-m", "rag", "index", "--index-dir", str(tmp_path / "i"), "--corpus-dir",
               str(tmp_path / "c"), "--feed", "ftp://example.invalid/feed"]
    result = subprocess.run(env_cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: ftp://example.invalid/feed: only http and https URLs can be fetched"


def test_demo_import_copies_deduplicated_bbc_articles(tmp_path) -> None:
    first = import_bbc(tmp_path)
    files = list((tmp_path / "bbc").glob("*/*.txt"))
    assert first.copied == len(files) > 2000
    assert first.duplicates > 50
    assert {p.parent.name for p in files} == {"business", "entertainment", "politics", "sports", "tech"}
    again = import_bbc(tmp_path)
    assert (again.copied, again.unchanged) == (0, first.copied)


def _cli(settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rag", *args, "--index-dir", str(settings.index_dir),
                           "--corpus-dir", str(settings.corpus_dir)], capture_output=True, text=True, timeout=300)


def test_ask_and_search_commands(settings, corpus) -> None:
    assert main(["index", "--index-dir", str(settings.index_dir), "--corpus-dir", str(corpus)]) == 0
    result = _cli(settings, "ask", "Who won the national chess championship?", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"question", "answer", "abstained", "citations"}
    citation = data["citations"][0]
    assert set(citation) == {"n", "doc_id", "title", "source", "url", "published", "quote", "start", "end"}
    text = (corpus / citation["doc_id"]).read_text()
    assert text[citation["start"] : citation["end"]] == citation["quote"] and "Mira Okonjo" in citation["quote"]

    readable = _cli(settings, "ask", "Who won the national chess championship?")
    assert readable.stdout.startswith("Mira Okonjo") and "\nSources:\n[1] Teenager wins national chess title" in (
        readable.stdout)

    for name, text in (("trams.txt", "Tram fares frozen\n\nThe Ostwick transport committee froze tram fares for "
                                     "2025 and promised longer evening services, the committee said on Monday."),
                       ("ferries.txt", "Ferry timetable changes\n\nThe Ostwick transport committee cut two ferry "
                                       "crossings on Sundays after a fall in passengers, the committee said.")):
        (corpus / "local" / name).write_text(text, encoding="utf-8")
    assert main(["index", "--index-dir", str(settings.index_dir), "--corpus-dir", str(corpus)]) == 0
    question = "What happened?"  # no subject of its own, several stories match: the question back
    asked = _cli(settings, "ask", question)
    assert asked.stdout.startswith("Which story do you mean?"), asked.stdout
    assert f"rag ask '{question}' --document local/" in asked.stdout
    within = json.loads(_cli(settings, "ask", question, "--document", "local/trams.txt", "--json").stdout)
    assert within["clarify"] == [] and {c["doc_id"] for c in within["citations"]} <= {"local/trams.txt"}

    found = _cli(settings, "search", "apple frost", "-k", "2", "--json")
    hits = json.loads(found.stdout)
    assert len(hits) == 2 and hits[0]["doc_id"] == "local/orchard.txt"
    for bad, message in [(["ask", ""], "error: The question is empty"),
                         (["search", "x", "--since", "soon"], "error: 'soon' is not a date")]:
        result = _cli(settings, *bad)
        assert result.returncode == 1 and result.stderr.startswith(message) and "Traceback" not in result.stderr


def test_ask_on_an_empty_index_says_what_to_do(tmp_path) -> None:
    result = subprocess.run([sys.executable, "-m", "rag", "ask", "anything?", "--index-dir", str(tmp_path / "none")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stderr.strip() == "error: the index is empty: run `rag index`"
