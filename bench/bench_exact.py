"""Dense search: exact over the cache's vectors vs. Chroma's HNSW graph, per index size.

For each index: how long the cache's vectors take to load (once per process and index generation),
exact search p50/p95, Chroma query p50/p95 (30 neighbours, as retrieval asks for), and how many of
the exact 30 nearest HNSW returns. ``rag.index.facade.EXACT_SEARCH_MAX_CHUNKS`` is where exact search stops
paying: below it a reader never opens Chroma (cold start), above it HNSW answers faster.

Run: .venv/bin/python bench/bench_exact.py --index DIR [--index DIR ...] [--questions 200] [--out FILE]
(last results: bench/results/bench_exact.json, bench/results/bench_exact-numpy-loop.json)
(an index built before the cache kept vectors gets them copied from Chroma on first open)
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from rag.evaluation.datasets import load_dataset
from rag.index.facade import Index
from rag.settings import Settings


def percentiles(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(samples[int(0.95 * len(samples)) - 1], 2)}


def measure(path: Path, questions: list[str]) -> dict[str, object]:
    index = Index(Settings.from_env(index_dir=path))
    vectors = index.embedder.embed(questions)
    index.vectors.count()  # open Chroma (and copy missing vectors into the cache) before timing
    started = time.perf_counter()
    index.docs.nearest(vectors[0], 30)
    load_ms = 1000 * (time.perf_counter() - started)
    exact, hnsw, overlap = [], [], []
    for v in vectors:
        t0 = time.perf_counter()
        best = [i for i, _ in index.docs.nearest(v, 30)]
        t1 = time.perf_counter()
        approx = [i for i, _ in index.vectors.query(v, 30)]
        t2 = time.perf_counter()
        exact.append(1000 * (t1 - t0))
        hnsw.append(1000 * (t2 - t1))
        overlap.append(len(set(best) & set(approx)) / len(best))
    row = {"index": str(path), "chunks": index.docs.chunk_count(), "load_ms": round(load_ms, 1),
           "exact": percentiles(exact), "chroma_hnsw": percentiles(hnsw),
           "hnsw_recall_at_30": round(statistics.mean(overlap), 4)}
    index.close()
    print(row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, action="append", required=True)
    parser.add_argument("--squad", type=Path, default=Path("/work/shared/data/squad-dev-v1.1.json"))
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    questions = [q.text for q in random.Random(0).sample(load_dataset(args.squad).questions, args.questions)]
    rows = [measure(path, questions) for path in args.index]
    if args.out:
        command = "python bench/bench_exact.py " + " ".join(f"--index {i}" for i in args.index)
        args.out.write_text(json.dumps({"command": f"{command} --questions {args.questions}", "results": rows},
                                       indent=1) + "\n")


if __name__ == "__main__":
    main()
