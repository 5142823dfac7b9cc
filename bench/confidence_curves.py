"""Reliability diagram and risk-coverage curve of Answer.confidence, on *test* articles only.

Asks the test-half questions with every answer kept (min_confidence 0), some of
their articles left out of the index (hard negatives: any answer to them is
wrong), and records each answer's confidence and whether it holds a gold answer.
From those records it draws docs/confidence-reliability.png and
docs/confidence-risk-coverage.png and writes the table at the default threshold
(the same as `rag eval` at that threshold: the threshold only gates answers).

Run: RAG_CACHE_DIR=/path/cache python bench/confidence_curves.py --out bench/results/confidence_curves.json
(the records go beside it: bench/results/confidence_curves.records.json). ``--news DIR/news-test.json`` adds
our held-out news set (train/generate_questions.py --half test --squad-out; half its articles left out, as
bench/bench_clarify.py --news).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer.answer_model import load_model
from rag.evaluation.run import evaluate
from rag.settings import Settings

RUNS = {  # name: (dataset, turns, articles, leave_out, limit)
    "squad": ("squad-dev-v1.1.json", "all", "test", 12, 1000),
    "coqa-turn1": ("coqa-cnn.json", "first", "test", 25, None),
}
NEWS = ("all", "all", 556, None)  # a file of test-half articles only; half of them left out


def table(records: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """The answer metrics `rag eval` reports, at one threshold."""
    indexed = [r for r in records if r["answerable"]]
    left = [r for r in records if r["left_out"]]
    answered = [r for r in indexed if r["confidence"] >= threshold]
    return {
        "threshold": round(threshold, 3),
        "answerable": len(indexed),
        "abstained_on_answerable": round(1 - len(answered) / max(1, len(indexed)), 4),
        "contains_gold": round(sum(r["contains_gold"] for r in answered) / max(1, len(indexed)), 4),
        "contains_gold_when_answered": round(sum(r["contains_gold"] for r in answered) / max(1, len(answered)), 4),
        "left_out_questions": len(left),
        "answered_left_out": round(sum(r["confidence"] >= threshold for r in left) / max(1, len(left)), 4),
    }


def reliability(records: list[dict[str, Any]], bins: int = 10) -> list[dict[str, float]]:
    """Per confidence bin: mean confidence and the fraction of those answers that were right."""
    conf = np.array([r["confidence"] for r in records])
    right = np.array([r["contains_gold"] for r in records], dtype=float)
    out = []
    for lo in np.linspace(0, 1, bins, endpoint=False):
        m = (conf >= lo) & (conf < lo + 1 / bins + (1e-9 if lo + 1 / bins >= 1 else 0))
        if m.any():
            out.append({"bin": round(float(lo), 2), "n": int(m.sum()), "confidence": round(float(conf[m].mean()), 4),
                        "right": round(float(right[m].mean()), 4)})
    return out


def risk_coverage(records: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Answering the most confident fraction first: coverage vs. the share of given answers that are wrong."""
    order = np.argsort([-r["confidence"] for r in records])
    right = np.array([records[i]["contains_gold"] for i in order], dtype=float)
    n = np.arange(1, len(right) + 1)
    return n / len(right), 1 - np.cumsum(right) / n


def draw(results: dict[str, list[dict[str, Any]]], docs: Path, threshold: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], ":", color="grey", label="perfectly calibrated")
    for name, records in results.items():
        points = reliability(records)
        ax.plot([p["confidence"] for p in points], [p["right"] for p in points], "o-", label=f"{name} (test articles)")
    ax.set_xlabel("Answer.confidence (bin mean)")
    ax.set_ylabel("fraction of answers holding the gold answer")
    ax.set_title("Reliability, held-out articles (left-out ones included)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(docs / "confidence-reliability.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, records in results.items():
        coverage, risk = risk_coverage(records)
        line = ax.plot(coverage, risk, label=f"{name} (test articles)")[0]
        at = np.mean([r["confidence"] >= threshold for r in records])
        given = [r for r in records if r["confidence"] >= threshold]
        ax.plot([at], [1 - np.mean([r["contains_gold"] for r in given]) if given else 0], "o", color=line.get_color())
    ax.set_xlabel("coverage (fraction of questions answered, most confident first)")
    ax.set_ylabel("risk (fraction of given answers without the gold answer)")
    ax.set_title(f"Risk-coverage; dots: default threshold {threshold:.2f}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(docs / "confidence-risk-coverage.png", dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--docs", type=Path, default=Path("docs"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--squad-limit", type=int, default=1000, help="SQuAD test questions (a fixed sample)")
    parser.add_argument("--news", type=Path, help="also our held-out news set (a SQuAD-format file)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = Settings.from_env()
    threshold = load_model().min_confidence
    results: dict[str, list[dict[str, Any]]] = {}
    report: dict[str, Any] = {"threshold": threshold, "seed": args.seed}
    runs = {name: (args.data / file, *rest) for name, (file, *rest) in RUNS.items()}
    if args.news:
        runs["news"] = (args.news, *NEWS)
    for name, (path, turns, articles, leave_out, limit) in runs.items():
        limit = args.squad_limit if name == "squad" else limit
        details: list[dict[str, Any]] = []
        run = evaluate(path, settings=settings, turns=turns, limit=limit, articles=articles,
                       leave_out=leave_out, seed=args.seed, min_confidence=0.0, details=details, progress=False)
        left = set(run["left_out"])
        for r in details:
            r["left_out"] = r["article"] in left
        results[name] = [r for r in details if r["answerable"] or r["left_out"]]
        report[name] = {"table": table(results[name], threshold), "reliability": reliability(results[name]),
                        "retrieval": run.get("retrieval"), "latency_p50_ms": run["answers"]["latency_p50_ms"]}
        print(name, json.dumps(report[name]["table"]), flush=True)
    if args.out:  # before drawing: a missing matplotlib loses no run
        args.out.write_text(json.dumps(report, indent=1) + "\n")
        (args.out.with_suffix(".records.json")).write_text(json.dumps(results) + "\n")
    draw(results, args.docs, threshold)


if __name__ == "__main__":
    main()
