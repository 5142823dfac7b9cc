"""The reader's cost and its determinism: pairs in batches vs. one pair per onnxruntime call.

Each reading is what the answerer asks of the reader for one question: the 12 sentences of the
question's article that share the most content words with it, read until rag.answer.reader.READ_TOKENS
wordpieces are spent (SQuAD questions, a fixed random sample). Three ways to run the committed int8
reader over them, each timed over all readings after a warm-up (one process, one at a time):

- ``batch4``: pairs sorted by length in batches of 4, padded, two onnxruntime threads (the old way);
- ``single``: one pair per call, two onnxruntime threads;
- ``workers``: one pair per call, one onnxruntime thread each, on rag.answer.reader.WORKERS threads (now).

Determinism: the int8 model quantises activations per call, so in ``batch4`` a pair's score depends on
the pairs batched with it; reported as the score differences against one pair per call and how often
the best sentence of a reading differs.

Run: .venv/bin/python bench/bench_reader.py [--dataset ../shared/data/squad-dev-v1.1.json] \\
         [--out bench/results/bench_reader.json]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer.reader import READ_TOKENS, WORKERS, Reader, open_session, within_budget
from rag.evaluation.datasets import load_dataset
from rag.settings import Settings
from rag.text import content_stems, sentence_spans


def readings(path: Path, n: int) -> list[tuple[str, list[str]]]:
    """(question, sentences) as the answerer would hand them to the reader."""
    dataset = load_dataset(path)
    out = []
    for q in random.Random(0).sample(dataset.questions, n):
        text = dataset.articles[q.article][1]
        asked = set(content_stems(q.text))
        sentences = [text[s:e] for s, e in sentence_spans(text)]
        sentences.sort(key=lambda s: -len(asked & set(content_stems(s))))
        out.append((q.text, sentences[:12]))
    return out


def two_threads(model_dir: str) -> Reader:
    """A reader whose session runs each call on two onnxruntime threads (the old setting)."""
    reader = Reader(model_dir)
    reader._load()
    reader._session = open_session(reader.path, threads=2)
    return reader


def run_batches(sess: Any, encodings: list[Any], size: int = 4) -> list[float]:
    """The old way: sorted by length, padded batches of ``size``."""
    order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
    out = [0.0] * len(encodings)
    for lo in range(0, len(order), size):
        part = [encodings[i] for i in order[lo : lo + size]]
        width = max(len(e.ids) for e in part)
        feed = {k: np.zeros((len(part), width), dtype=np.int64) for k in ("input_ids", "attention_mask",
                                                                            "token_type_ids")}
        for row, e in enumerate(part):
            feed["input_ids"][row, : len(e.ids)] = e.ids
            feed["attention_mask"][row, : len(e.ids)] = 1
            feed["token_type_ids"][row, : len(e.ids)] = e.type_ids
        (logits,) = sess.run(None, feed)
        for i, logit in zip(order[lo : lo + size], logits[:, 0], strict=True):
            out[i] = float(1 / (1 + np.exp(-float(logit))))
    return out


def timed(work: list[list[Any]], run: Callable[[list[Any]], list[float]]) -> tuple[dict[str, float], list]:
    for encodings in work[:20]:  # warm-up
        run(encodings)
    times, scores = [], []
    for encodings in work:
        started = time.perf_counter()
        scores.append(run(encodings))
        times.append(1000 * (time.perf_counter() - started))
    times.sort()
    return {"total_s": round(sum(times) / 1000, 2), "p50_ms": round(times[len(times) // 2], 1),
            "p95_ms": round(times[int(0.95 * len(times)) - 1], 1)}, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, default=Path("../shared/data/squad-dev-v1.1.json"))
    parser.add_argument("--readings", type=int, default=300)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    model_dir = str(Settings().resolved_model_path)
    reader, old = Reader(model_dir), two_threads(model_dir)
    work = []
    for question, sentences in readings(args.dataset, args.readings):
        encodings = reader._encode(question, sentences)
        work.append(encodings[: within_budget([len(e.ids) for e in encodings], READ_TOKENS)])
    pool = reader._workers()
    modes = {"batch4": lambda e: run_batches(old._session, e), "single": lambda e: [old._score(x) for x in e],
             "workers": lambda e: list(pool.map(reader._score, e))}  # the last is what Reader.__call__ does
    results = {name: timed(work, run) for name, run in modes.items()}
    batched, single = results["batch4"][1], results["workers"][1]
    diffs = np.abs(np.concatenate([np.subtract(a, b) for a, b in zip(batched, single, strict=True)]))
    report = {
        "readings": len(work),
        "pairs": int(diffs.size),
        "reader_threads": WORKERS,
        **{name: stats for name, (stats, _) in results.items()},
        "single_vs_workers_identical": results["single"][1] == single,
        "batch4_vs_single": {
            "mean_abs_diff": round(float(diffs.mean()), 4),
            "max_abs_diff": round(float(diffs.max()), 4),
            "pairs_over_0.05": round(float((diffs > 0.05).mean()), 3),
            "best_sentence_differs": sum(int(np.argmax(a)) != int(np.argmax(b))
                                         for a, b in zip(batched, single, strict=True)),
        },
    }
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
