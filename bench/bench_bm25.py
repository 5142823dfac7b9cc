"""BM25 on a large index: latency and recall per postings budget.

FTS5 scores every chunk that holds any query term, so BM25's time grows with the index (the scale
curve bends there). ``LocalCache.bm25`` (rag/index/local_cache.py) searches only the rarest terms whose
chunk counts add up to at most ``MAX_POSTINGS``. For each budget this prints, over SQuAD dev questions
(a seeded sample), BM25's p50/p95 ms, BM25 alone hit@5 and hit@30 (a chunk of the question's article,
or of an archive copy of it, holding the answer), and hybrid ``search()`` hit@5 with that budget.

Run on indexes that hold the SQuAD dev articles (bench_ask.py's BBC + SQuAD index, bench_scale.py's):
    .venv/bin/python bench/bench_bm25.py --index DIR [--index DIR2] [--questions 300] [--out FILE]
(last results: bench/results/bench_bm25.json)
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import statistics
import time
from pathlib import Path

from rag.evaluation.datasets import Question, load_dataset
from rag.index.facade import Index
from rag.retrieval.hybrid import Retriever, query_terms
from rag.settings import Settings

BUDGETS = [2_500, 5_000, 10_000, 20_000, 40_000, None]


def hit(index: Index, chunk_ids: list[str], q: Question) -> bool:
    stored = index.docs.chunks(chunk_ids)
    return any(c.doc_id.split("#copy")[0] == q.article and any(e in c.text for e in q.evidence)
               for c in stored.values())


def measure(path: Path, questions: list[Question]) -> dict[str, object]:
    index = Index(Settings.from_env(index_dir=path))
    unlimited = index.docs.bm25
    retriever = Retriever(index)
    rows = []
    for budget in BUDGETS:
        index.docs.bm25 = functools.partial(unlimited, max_postings=budget)  # type: ignore[method-assign]
        times, at5, at30, hybrid = [], [], [], []
        for q in questions:
            terms = query_terms(q.text)
            started = time.perf_counter()
            found = [c for c, _ in index.docs.bm25(terms, 30)]
            times.append(1000 * (time.perf_counter() - started))
            at5.append(hit(index, found[:5], q))
            at30.append(hit(index, found, q))
            hybrid.append(hit(index, [h.chunk_id for h in retriever.search(q.text, 5)], q))
        times.sort()
        rows.append({"max_postings": budget, "bm25_p50_ms": round(statistics.median(times), 1),
                     "bm25_p95_ms": round(times[int(0.95 * len(times)) - 1], 1),
                     "bm25_hit5": round(statistics.mean(at5), 3), "bm25_hit30": round(statistics.mean(at30), 3),
                     "search_hit5": round(statistics.mean(hybrid), 3)})
        print(f"{index.docs.counts()[1]:>7} chunks  {rows[-1]}", flush=True)
    result = {"index": str(path), "chunks": index.docs.counts()[1], "budgets": rows}
    index.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, action="append", required=True)
    parser.add_argument("--squad", type=Path, default=Path("/work/shared/data/squad-dev-v1.1.json"))
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    questions = random.Random(0).sample(load_dataset(args.squad).questions, args.questions)
    results = [measure(index, questions) for index in args.index]
    if args.out:
        command = "python bench/bench_bm25.py " + " ".join(f"--index {i}" for i in args.index)
        args.out.write_text(json.dumps({"command": f"{command} --questions {args.questions}",
                                        "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
