"""Cold-start benchmark: whole `rag` processes, median of N runs each, on an existing index.

  * `rag --help`
  * `rag ask "…"` (a fresh interpreter: imports, model load, index open, answer)
  * `rag index` on the unchanged corpus, and of one new article
  * `rag serve`: process start until the first page is served (GET / returns 200)

Run after bench/bench_index.py --workdir DIR, which leaves DIR/corpus and DIR/index-<backend>:
    .venv/bin/python bench/bench_cold.py --workdir DIR --backend onnx [--runs 5] \\
        [--out bench/results/bench_cold-<backend>.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

QUESTION = "Who won the Australian Open?"


def loadavg() -> float:
    return float(open("/proc/loadavg").read().split()[0])


def timed(cmd: list[str], env: dict[str, str], cpu: list[float] | None = None) -> float:
    """Wall seconds of one whole process; its CPU seconds (user + system) are appended to ``cpu``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_to_first_page(env: dict[str, str], cpu: list[float] | None = None) -> float:
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError("rag serve exited")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - t0
            except OSError:
                time.sleep(0.05)
    finally:
        proc.terminate()
        _, _, usage = os.wait4(proc.pid, 0)  # CPU until stopped: start-up plus a few idle moments
        proc.returncode = 0
        if cpu is not None:
            cpu.append(usage.ru_utime + usage.ru_stime)


def summary(samples: list[float], cpu: list[float], loads: list[float]) -> dict[str, object]:
    """Wall time, and CPU time: on a shared machine the wall time includes waiting for a core."""
    return {"median_s": round(statistics.median(samples), 3), "runs_s": [round(s, 3) for s in samples],
            "median_cpu_s": round(statistics.median(cpu), 3) if cpu else None, "loadavg_1min": loads}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--backend", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-serve", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    env = {**os.environ, "RAG_INDEX_DIR": str(args.workdir / f"index-{args.backend}"),
           "RAG_CORPUS_DIR": str(args.workdir / "corpus"), "NO_PROXY": "127.0.0.1"}
    rag = [sys.executable, "-m", "rag"]
    article = args.workdir / "corpus" / "cold" / "new-article.txt"
    cases: dict[str, list[str] | None] = {
        "help": [*rag, "--help"],
        "ask": [*rag, "ask", QUESTION],
        "index_unchanged": [*rag, "index"],
        "index_one_new_article": [*rag, "index"],
        "serve_first_page": None,
    }
    if args.skip_serve:
        del cases["serve_first_page"]
    results: dict[str, object] = {"command": "python bench/bench_cold.py " + " ".join(sys.argv[1:]),
                                  "backend": args.backend, "cpus": os.cpu_count()}
    for name, cmd in cases.items():
        samples, cpu, loads = [], [], []
        for run in range(args.runs):
            if name == "index_one_new_article":
                article.parent.mkdir(parents=True, exist_ok=True)
                article.write_text(f"Cold start test {run}\n\nThe town of Coldbridge opened library number {run} "
                                   "on Monday, the council said.\n")
            loads.append(loadavg())
            samples.append(serve_to_first_page(env, cpu) if cmd is None else timed(cmd, env, cpu))
            if name == "index_one_new_article":
                article.unlink()
                timed([*rag, "index"], env)  # back to the unchanged corpus, untimed
        results[name] = summary(samples, cpu, loads)
        print(name, results[name], file=sys.stderr, flush=True)
    print(json.dumps(results, indent=1))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
