"""Tune the fusion weight and the abstention thresholds on SQuAD and CoQA.

Fusion: recall@5 / MRR@10 of hybrid retrieval for a grid of dense weights.
Abstention: for a grid of (min_coverage, min_similarity), the rate of abstaining
on answerable questions (asked of their own articles) and of answering
unanswerable ones (SQuAD asked of the CoQA index, CoQA turn 1 of the SQuAD index).

Run: .venv/bin/python bench/tune.py [--limit 300] [--out bench/tune.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.answering import ExtractiveAnswerer, idf_from_counts
from rag.evaluation import Question, _first_correct, build_index, contains_any, eval_settings, load_dataset, select
from rag.retrieval import Filters, Retriever
from rag.rewrite import standalone
from rag.settings import Settings
from rag.store import Index

WEIGHTS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
COVERAGES = [0.0, 0.3, 0.4, 0.5, 0.6, 0.7]
SIMILARITIES = [0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45]


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
    results: dict[str, object] = {"fusion": {}, "abstention": {}}

    for name, (where, questions) in sets.items():
        index = indexes[where]
        table = {}
        for w in WEIGHTS:
            retriever = Retriever(index, dense_weight=w)
            ranks = [_first_correct(retriever.search(standalone(q.text, q.history), 10), q) for q in questions]
            n = len(ranks)
            table[w] = {"recall@5": round(sum(1 for r in ranks if r and r <= 5) / n, 4),
                        "mrr@10": round(sum(1 / r for r in ranks if r) / n, 4)}
        results["fusion"][name] = table  # type: ignore[index]
        print(name, json.dumps(table))

    def answers(index: Index, questions: list[Question]) -> list[tuple[Question, list]]:
        retriever = Retriever(index)
        return [(q, retriever.search(standalone(q.text, q.history), 5, Filters())) for q in questions]

    answerable = [("squad", answers(indexes["squad"], sets["squad"][1])),
                  ("coqa-first", answers(indexes["coqa"], sets["coqa-first"][1]))]
    unanswerable = [("squad@coqa", answers(indexes["coqa"], sets["squad"][1])),
                    ("coqa-first@squad", answers(indexes["squad"], sets["coqa-first"][1]))]
    grid = []
    for cov in COVERAGES:
        for sim in SIMILARITIES:
            row: dict[str, object] = {"min_coverage": cov, "min_similarity": sim}
            for label, pairs, index in [(lbl, p, indexes["squad" if lbl.startswith("squad") else "coqa"])
                                        for lbl, p in answerable] + [
                    (lbl, p, indexes["coqa" if lbl == "squad@coqa" else "squad"]) for lbl, p in unanswerable]:
                answerer = ExtractiveAnswerer(idf_from_counts(index.docs.term_frequency, index.docs.counts()[1]),
                                              cov, sim)
                outs = [(q, answerer.run(q.text, hits)) for q, hits in pairs]
                abstained = sum(a.abstained for _, a in outs) / len(outs)
                row[f"{label}:abstained"] = round(abstained, 4)
                if "@" not in label:
                    row[f"{label}:contains_gold"] = round(
                        sum(contains_any(a.text, q.answers) for q, a in outs if not a.abstained) / len(outs), 4)
            grid.append(row)
    results["abstention"] = grid
    for row in grid:
        print(json.dumps(row))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
