"""Why ``rag.index.local_cache.similarities`` avoids BLAS: numpy's BLAS threads against the reader.

An exact dense search multiplies every cached vector by the query (10k x 384). With ``@`` OpenBLAS runs
that product on all cores, and its threads then busy-wait before sleeping; the reader, which runs next
on the same cores, was slowed by them. For each question this script searches the index as ``ask`` does
and then lets the answer model read the passages (the reader's cache emptied first, so every pair is
read), with the product in numpy's own single-threaded loop (the code now) and with ``@`` (BLAS), in
alternating rounds. It reports milliseconds per question for the search and for the reading.

Run (on the index bench/bench_ask.py built in DIR):
  RAG_CACHE_DIR=... python bench/bench_blas_threads.py --workdir DIR --out bench/results/bench_blas_threads.json
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from rag import api
from rag.answer.reader import get_reader
from rag.evaluation.datasets import load_dataset
from rag.index import local_cache
from rag.retrieval.hybrid import Retriever
from rag.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", type=Path, required=True, help="where bench/bench_ask.py built its index")
    parser.add_argument("--dataset", type=Path, default=Path("../shared/data/coqa-cnn.json"))
    parser.add_argument("--questions", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = Settings.from_env(index_dir=args.workdir / "index", corpus_dir=args.workdir / "corpus")
    index = api.open_index(settings)
    retriever, judge = Retriever(index), api.default_answerer(index)
    reader = get_reader(index.embedder.model_path)
    questions = [q.text for q in random.Random(1).sample(load_dataset(args.dataset).questions, args.questions)]
    own_loop = local_cache.similarities
    times: dict[str, dict[str, list[float]]] = {}
    for round_ in range(args.rounds + 1):  # round 0 warms up
        for name, product in (("numpy's loop", own_loop), ("BLAS", lambda vectors, query: vectors @ query)):
            local_cache.similarities = product
            for q in questions:
                reader._cache.clear()
                t0 = time.perf_counter()
                hits = retriever.search(q, 5)
                t1 = time.perf_counter()
                judge.run(q, hits)
                t2 = time.perf_counter()
                if round_:
                    row = times.setdefault(name, {"search": [], "reading": []})
                    row["search"].append(1000 * (t1 - t0))
                    row["reading"].append(1000 * (t2 - t1))
    local_cache.similarities = own_loop
    report = {
        "chunks": index.docs.chunk_count(), "questions": len(questions), "rounds": args.rounds,
        **{name: {part: {"mean_ms": round(statistics.mean(v), 1), "p50_ms": round(statistics.median(v), 1)}
                  for part, v in row.items()} for name, row in times.items()},
    }
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
