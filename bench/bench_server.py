"""Embedded store vs. a Chroma server: index time, search/ask latency, how soon another instance
answers a new article, and what it costs an instance to build its local cache from the server.

    .venv/bin/python bench/bench_server.py [--articles 300] [--questions 60] [--no-full]

Corpus: the BBC News demo articles (``rag.ingest.bbc_demo``). ``--articles`` of them (evenly spaced in
path order, so every category is in) are indexed once embedded and once through a real
``chroma run`` server on loopback, in this process, and ``--questions`` of their headlines
are asked warm in both modes. Then a second instance (own empty folder, in this process,
warm) waits for articles that a first instance adds with ``rag index`` in a separate
process, five times. Last (skip with ``--no-full``), the whole
demo corpus is indexed on the server and a third instance with an empty folder builds its cache.
Writes ``bench/results/bench_server.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rag
from rag.api import close_all, open_index
from rag.index.sync import sync
from rag.ingest.bbc_demo import import_bbc
from rag.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results"


@contextmanager
def chroma_server(path: Path, port: int = 8765):
    chroma = Path(sys.executable).parent / "chroma"
    with open(path.with_suffix(".log"), "wb") as log:
        proc = subprocess.Popen([str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] * 1000, 1)


def latency(settings: Settings, questions: list[str]) -> dict[str, float]:
    rag.ask(questions[0], settings=settings)  # warm: model and index loaded
    asks, searches = [], []
    for q in questions:
        started = time.perf_counter()
        rag.search(q, 5, settings=settings)
        searches.append(time.perf_counter() - started)
        started = time.perf_counter()
        rag.ask(q, settings=settings)
        asks.append(time.perf_counter() - started)
    return {"search_p50_ms": pct(searches, 50), "search_p95_ms": pct(searches, 95),
            "ask_p50_ms": pct(asks, 50), "ask_p95_ms": pct(asks, 95)}


def headline(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[0].strip()


def rag_index(settings: Settings) -> float:
    env = {**os.environ, "RAG_INDEX_DIR": str(settings.index_dir), "RAG_CORPUS_DIR": str(settings.corpus_dir),
           "RAG_CHROMA_URL": settings.chroma_url}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rag", "index", "--json"], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/news-rag-server"))
    parser.add_argument("--no-full", action="store_true", help="skip the whole-corpus cache build")
    parser.add_argument("--server-first", action="store_true", help="index on the server before the embedded store")
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_server.json")
    args = parser.parse_args()

    work: Path = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    full = work / "corpus-full"
    import_bbc(full)
    files = sorted(full.rglob("*.txt"))
    subset = files[:: max(1, len(files) // args.articles)][: args.articles]  # every category
    spare = [f for f in files if f not in set(subset)]
    corpus = work / "corpus"
    for f in subset:
        target = corpus / f.relative_to(full)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, target)
    questions = [headline(f) for f in subset[: args.questions]]
    result: dict[str, Any] = {"articles": len(subset), "questions": len(questions), "cpus": os.cpu_count(),
                              "loadavg_start": os.getloadavg()[0]}

    embedded = Settings.from_env(index_dir=work / "embedded" / "index", corpus_dir=corpus)
    with chroma_server(work / "chroma-server") as url:
        served = replace(embedded, index_dir=work / "a" / "index", chroma_url=url)
        modes = [("embedded", embedded), ("server", served)]
        result["order"] = [m for m, _ in modes[:: -1 if args.server_first else 1]]
        for name, settings in modes[:: -1 if args.server_first else 1]:
            report = sync(settings, progress=False)
            result[name] = {"index_s": round(report.seconds, 1), "chunks": report.chunks_total,
                            "chunks_per_s": round(report.chunks_total / report.seconds, 1),
                            **latency(settings, questions)}
            print(name, result[name], flush=True)

        # A second instance, warm, waits for articles a first instance adds with `rag index`.
        reader = replace(served, index_dir=work / "b" / "index", corpus_dir=work / "b" / "corpus")
        rag.ask(questions[0], settings=reader)
        lags, index_runs = [], []
        for path in spare[:5]:
            target = corpus / path.relative_to(full)
            shutil.copy(path, target)
            index_runs.append(rag_index(served))
            committed = time.perf_counter()
            doc_id = target.relative_to(corpus).as_posix()
            while not any(h.doc_id == doc_id for h in rag.search(headline(path), 5, settings=reader)):
                time.sleep(0.05)
            lags.append(time.perf_counter() - committed)
        result["new_article"] = {
            "rag_index_one_new_s_median": round(statistics.median(index_runs), 2),
            "seen_by_other_instance_after_s_median": round(statistics.median(lags), 2),
            "seen_by_other_instance_after_s_max": round(max(lags), 2),
            "sync_seconds": reader.sync_seconds,
        }
        print(result["new_article"], flush=True)

        if not args.no_full:
            whole = replace(served, corpus_dir=full)
            report = sync(whole, progress=False)
            result["full_server_index"] = {"index_s": round(report.seconds, 1), "chunks": report.chunks_total,
                                           "documents_added": report.docs_added}
            close_all()
            fresh = replace(served, index_dir=work / "c" / "index")
            started = time.perf_counter()
            index = open_index(fresh)
            built = time.perf_counter() - started
            docs, chunks = index.docs.counts()
            result["cache_build"] = {
                "documents": docs, "chunks": chunks, "seconds": round(built, 2),
                "cache_mb": round(sum(p.stat().st_size for p in fresh.index_dir.iterdir()) / 1e6, 1),
            }
            print(result["cache_build"], flush=True)
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "rag", "ask", questions[0], "--json"], check=True,
                           capture_output=True, env={**os.environ, "RAG_INDEX_DIR": str(fresh.index_dir),
                                                     "RAG_CHROMA_URL": url})
            result["cold_rag_ask_server_s"] = round(time.perf_counter() - started, 2)
    result["loadavg_end"] = os.getloadavg()[0]
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
