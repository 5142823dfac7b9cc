import json
import subprocess
import sys

from rag.cli import main
from rag.demo import import_bbc


def test_index_json_summary_fields(settings, corpus, capsys) -> None:
    code = main(["index", "--json", "--index-dir", str(settings.index_dir), "--corpus-dir", str(corpus)])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("docs_added", "docs_updated", "docs_unchanged", "docs_removed", "chunks_added", "chunks_deleted",
                "chunks_total", "errors", "seconds"):
        assert key in report
    assert report["docs_added"] == 3


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
