"""Tune the fusion weight on SQuAD and CoQA.

Fusion: recall@5 / MRR@10 of hybrid retrieval for a grid of dense weights; the weight chosen is
DENSE_WEIGHT in rag/retrieval/hybrid.py (0.5).
(The answer/abstain decision is a fitted model now: train/train_answer_model.py. The committed results file
also holds an "abstention" grid written by this script's predecessor, bench/tune.py, for the thresholds
that model replaced; this script no longer writes it.)

Run: .venv/bin/python train/tune_fusion.py [--limit 300] [--out train/results/tune_fusion.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.evaluation.datasets import Question, load_dataset, select
from rag.evaluation.metrics import first_correct
from rag.evaluation.run import build_index, eval_settings
from rag.index.facade import Index
from rag.retrieval.hybrid import Retriever
from rag.retrieval.rewrite import standalone
from rag.settings import Settings

WEIGHTS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]


def open_for(path: Path, settings: Settings) -> Index:
    dataset = load_dataset(path)
    s = eval_settings(settings, path, dataset)
    build_index(s, dataset, progress=True)
    return Index(s)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--squad", type=Path, default=Path("../shared/data/squad-dev-v1.1.json"))
    parser.add_argument("--coqa", type=Path, default=Path("../shared/data/coqa-cnn.json"))
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = Settings.from_env()
    squad, coqa = load_dataset(args.squad), load_dataset(args.coqa)
    indexes = {"squad": open_for(args.squad, settings), "coqa": open_for(args.coqa, settings)}
    sets: dict[str, tuple[str, list[Question]]] = {
        "squad": ("squad", select(squad.questions, "all", args.limit)),
        "coqa-first": ("coqa", select(coqa.questions, "first", None)),
        "coqa-later": ("coqa", select(coqa.questions, "later", args.limit)),
    }
    results: dict[str, object] = {"fusion": {}}

    for name, (where, questions) in sets.items():
        index = indexes[where]
        table = {}
        for w in WEIGHTS:
            retriever = Retriever(index, dense_weight=w)
            ranks = [first_correct(retriever.search(standalone(q.text, q.history), 10), q) for q in questions]
            n = len(ranks)
            table[w] = {"recall@5": round(sum(1 for r in ranks if r and r <= 5) / n, 4),
                        "mrr@10": round(sum(1 / r for r in ranks if r) / n, 4)}
        results["fusion"][name] = table  # type: ignore[index]
        print(name, json.dumps(table))

    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
