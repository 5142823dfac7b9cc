"""ask() latency in a warm process over 200 questions on an index of >= 10,000 chunks.

The index holds the BBC demo corpus plus the articles of a SQuAD-format file
(default ../shared/data/squad-dev-v1.1.json); the questions are a fixed random
sample of that file's questions. Targets on the 2-core machine: p50 <= 60 ms,
p95 <= 150 ms (extractive answerer). With --after-other, each question is asked with the previous one
(and its answer) as history, so every ask takes the follow-up path: two searches, the answer model
reading both (rag.retrieval.followups.retrieve). With --follow-ups FILE (CoQA), that file's stories are indexed too and
the questions are its later turns, each asked with its own conversation's earlier turns: the chat path.

Run: .venv/bin/python bench/bench_ask.py [--workdir DIR] [--after-other | --follow-ups COQA] [--out FILE]
(last results: bench/results/bench_ask.json, bench_ask-after-other.json, bench_ask-follow-ups.json)
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import rag
from rag import api
from rag.evaluation.datasets import load_dataset
from rag.index.sync import sync
from rag.ingest.bbc_demo import import_bbc
from rag.settings import Settings
from rag.text import clean_question


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=Path("../shared/data/squad-dev-v1.1.json"))
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--after-other", action="store_true", help="ask each question after the previous one")
    parser.add_argument("--follow-ups", type=Path, metavar="COQA",
                        help="ask this CoQA file's later turns with their own earlier turns")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="rag-bench-ask-"))
    settings = Settings.from_env(index_dir=work / "index", corpus_dir=work / "corpus")
    import_bbc(settings.corpus_dir)
    dataset = load_dataset(args.dataset)
    asked = load_dataset(args.follow_ups) if args.follow_ups else dataset
    for name, data in {"squad": dataset, **({"coqa": asked} if args.follow_ups else {})}.items():
        extra = settings.corpus_dir / name / "articles.jsonl"
        extra.parent.mkdir(parents=True, exist_ok=True)
        extra.write_text("".join(json.dumps({"id": i, "title": t, "text": x, "source": name}) + "\n"
                                 for i, (t, x) in data.articles.items()))
    report = sync(settings, progress=True)
    pool = [q for q in asked.questions if q.history] if args.follow_ups else asked.questions
    sample = random.Random(1).sample(pool, args.questions)

    history: list[tuple[str, str]] = []
    for one in sample[:5]:  # warm up: model, caches, page cache
        history = [(one.text, rag.ask(one.text, history=history, settings=settings).text)]
    timings, abstained, with_history = [], 0, 0
    for one in sample:
        q = one.text
        turns = list(one.history) if args.follow_ups else history if args.after_other else []
        t0 = time.perf_counter()
        answer = rag.ask(q, history=turns, settings=settings)
        timings.append(1000 * (time.perf_counter() - t0))
        abstained += answer.abstained
        with_history += answer.query != clean_question(q)  # what was searched: more than the question
        history = [(q, answer.text)]
    timings.sort()
    docs, chunks = api.open_index(settings).docs.counts()
    results = {
        "documents": docs,
        "chunks": chunks,
        "questions": len(sample),
        "after_other": args.after_other,
        "follow_ups": bool(args.follow_ups),
        "answered_with_the_history_reading": with_history,
        "p50_ms": round(timings[len(timings) // 2], 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 1),
        "mean_ms": round(statistics.mean(timings), 1),
        "max_ms": round(timings[-1], 1),
        "abstained": abstained,
        "index_seconds": round(report.seconds, 1),
    }
    print(json.dumps(results, indent=1))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
