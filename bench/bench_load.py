"""Load test: many concurrent askers through the UI's ``ask`` API while another process indexes.

    .venv/bin/python bench/bench_load.py [--workdir /tmp/news-rag-load] [--base 400] [--add 200] \
        [--askers 32] [--seconds 60] [--out bench/results/bench_load.json]

A ``rag serve`` over an index of ``--base`` BBC demo articles is asked by ``--askers``
threads, each with its own ``gradio_client.Client`` on loopback, questions made from
the articles' titles. Phase 1 runs for ``--seconds`` with nothing else going on;
phase 2 copies ``--add`` more BBC articles into the corpus and runs ``rag index`` in
another process while the askers keep going, until it finishes. Every answer's
citations are checked against the stored documents (``text[start:end] == quote``).
Reports answers per second, p50/p95 latency and the errors of each phase.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_ui import free_port  # noqa: E402
from rag.ingest.bbc_demo import import_bbc  # noqa: E402
from rag.settings import Settings  # noqa: E402


def prepare(workdir: Path, base: int, add: int) -> tuple[list[Path], list[str]]:
    """Corpus of ``base`` BBC articles, ``add`` more kept aside; questions from all titles."""
    pool = workdir / "pool"
    if not pool.exists():
        import_bbc(pool)
    files = sorted(pool.glob("bbc/*/*.txt"))
    files = files[:: max(1, len(files) // (base + add))][: base + add]  # spread over all categories
    corpus = workdir / "corpus" / "bbc"
    corpus.mkdir(parents=True, exist_ok=True)
    for f in files[:base]:
        shutil.copy(f, corpus / f"{f.parent.name}-{f.name}")
    titles = [f.read_text(encoding="utf-8", errors="replace").strip().split("\n", 1)[0] for f in files]
    return files[base:], [f"What happened: {t.strip()}?" for t in titles if t.strip()]


def run_cli(workdir: Path, *args: str) -> dict[str, Any]:
    env = dict(os.environ, RAG_INDEX_DIR=str(workdir / "index"), RAG_CORPUS_DIR=str(workdir / "corpus"))
    out = subprocess.run([sys.executable, "-m", "rag", *args, "--json"], env=env, cwd=REPO, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


class Askers:
    """``count`` threads asking until ``stop`` is set; latencies and errors per phase."""

    def __init__(self, url: str, questions: list[str], count: int, settings: Settings) -> None:
        self.url, self.questions, self.count, self.settings = url, questions, count, settings
        self.phase = "idle"
        self.results: dict[str, list[float]] = {}
        self.errors: dict[str, list[str]] = {}
        self.citations: dict[str, int] = {}
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(count)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def _run(self, i: int) -> None:
        from gradio_client import Client

        import rag

        client = Client(self.url, verbose=False, download_files=False)
        n = i
        while not self.stop.is_set():
            question = self.questions[n % len(self.questions)]
            n += self.count
            phase = self.phase
            started = time.perf_counter()
            try:
                result = client.predict(question, api_name="/ask")
                elapsed = time.perf_counter() - started
                for c in result["citations"]:
                    text = rag.document(c["doc_id"], settings=self.settings).text
                    if text[c["start"] : c["end"]] != c["quote"]:
                        raise AssertionError(f"citation not exact: {c['doc_id']} {c['start']}:{c['end']}")
                with self.lock:
                    self.results.setdefault(phase, []).append(elapsed)
                    self.citations[phase] = self.citations.get(phase, 0) + len(result["citations"])
            except Exception as exc:  # counted, never fatal: zero is the target
                with self.lock:
                    self.errors.setdefault(phase, []).append(f"{type(exc).__name__}: {exc}"[:300])

    def summary(self, phase: str, seconds: float) -> dict[str, Any]:
        times = sorted(self.results.get(phase, []))
        pct = (lambda q: round(1000 * times[min(len(times) - 1, int(q * len(times)))], 1)) if times else (
            lambda q: None)
        return {
            "answers": len(times), "seconds": round(seconds, 1),
            "answers_per_s": round(len(times) / seconds, 2) if seconds else None,
            "p50_ms": pct(0.5), "p95_ms": pct(0.95),
            "mean_ms": round(1000 * statistics.fmean(times), 1) if times else None,
            "citations_checked": self.citations.get(phase, 0),
            "errors": len(self.errors.get(phase, [])), "error_examples": self.errors.get(phase, [])[:5],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/news-rag-load"))
    parser.add_argument("--base", type=int, default=400)
    parser.add_argument("--add", type=int, default=200)
    parser.add_argument("--askers", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    workdir = args.workdir.resolve()
    if (workdir / "corpus").exists():
        shutil.rmtree(workdir / "corpus")
        shutil.rmtree(workdir / "index", ignore_errors=True)
    extra, questions = prepare(workdir, args.base, args.add)
    built = run_cli(workdir, "index")
    print(f"base index: {built['docs_added']} articles, {built['chunks_total']} chunks", flush=True)

    port = free_port()
    env = dict(os.environ, RAG_INDEX_DIR=str(workdir / "index"), RAG_CORPUS_DIR=str(workdir / "corpus"),
               NO_PROXY="127.0.0.1,localhost")
    server = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(port)], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=open(workdir / "serve.log", "w"))  # noqa: SIM115
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 300
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("rag serve did not start; see serve.log") from None
                time.sleep(0.2)
        settings = Settings.from_env(index_dir=workdir / "index", corpus_dir=workdir / "corpus")
        askers = Askers(url, questions, args.askers, settings)
        askers.phase = "warm-up"
        askers.start()
        time.sleep(10)
        askers.phase = "alone"
        started = time.perf_counter()
        time.sleep(args.seconds)
        alone = time.perf_counter() - started

        for f in extra:
            shutil.copy(f, workdir / "corpus" / "bbc" / f"{f.parent.name}-{f.name}")
        askers.phase = "while-indexing"
        started = time.perf_counter()
        added = run_cli(workdir, "index")
        during = time.perf_counter() - started
        askers.stop.set()
        for t in askers.threads:
            t.join(timeout=120)
    finally:
        server.terminate()
        server.wait(timeout=30)

    report = {
        "askers": args.askers, "base_articles": args.base, "cpu_count": os.cpu_count(),
        "loadavg_at_end": Path("/proc/loadavg").read_text().split()[:3],
        "index_added": {k: added[k] for k in ("docs_added", "chunks_added", "chunks_total", "seconds")},
        "alone": askers.summary("alone", alone),
        "while_indexing": askers.summary("while-indexing", during),
    }
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
