"""Follow-ups and changes of subject on a large index, where `rag eval` measures them on small ones.

`rag eval` asks each data set of its own index (CoQA CNN: 297 chunks; SQuAD dev: about 2,700). Here the
questions are asked of the index `bench/bench_ask.py --follow-ups` builds in its workdir (the BBC demo,
SQuAD dev and CoQA CNN together: 11,459 chunks), through `rag.ask`, as a user would:

  * CoQA later turns of one half's stories, each with its own conversation's earlier turns:
    recall@5 (the story, with its evidence, among the passages the answer was read from) and contains gold;
  * change of subject, as `rag eval --change-of-subject` pairs them (rag.evaluation.datasets.subject_pairs): the
    second question asked alone and after the first (with the answer the assistant gave).

Run (after bench_ask.py --follow-ups has built DIR; about 4 minutes per half; last results in
bench/results/bench_followups_scale-{train,test}.json):
  RAG_EMBED_BACKEND=onnx python bench/bench_followups_scale.py --workdir DIR --articles test \\
      --out bench/results/bench_followups_scale-test.json
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import rag
from rag.evaluation.datasets import load_dataset, split_articles, subject_pairs
from rag.evaluation.metrics import first_correct, holds_gold
from rag.schema import Answer
from rag.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--squad", type=Path, default=Path("../shared/data/squad-dev-v1.1.json"))
    parser.add_argument("--coqa", type=Path, default=Path("../shared/data/coqa-cnn.json"))
    parser.add_argument("--articles", choices=["train", "test"], default="test")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = Settings.from_env(index_dir=args.workdir / "index", corpus_dir=args.workdir / "corpus")

    def ask(text: str, history: list[tuple[str, str]]) -> Answer:
        return rag.ask(text, history=history, settings=settings)

    coqa, squad = load_dataset(args.coqa), load_dataset(args.squad)
    half = set(split_articles(list(coqa.articles))[0 if args.articles == "train" else 1])
    later = [q for q in coqa.questions if q.article in half and q.history and q.answerable]
    later = random.Random(0).sample(later, min(300, len(later)))
    report: dict[str, object] = {"articles": args.articles}
    found = gold = 0
    for q in later:
        answer = ask(q.text, list(q.history))
        found += first_correct(answer.hits, q) is not None
        gold += holds_gold(answer, q.answers)
    report["coqa later turns"] = {"turns": len(later), "recall@5": round(found / len(later), 4),
                                  "contains_gold": round(gold / len(later), 4)}
    for name, dataset, limit in (("squad", squad, 200), ("coqa", coqa, None)):
        pairs = subject_pairs(dataset, args.articles, limit, 0)
        rows = {"alone": [0, 0], "after_other": [0, 0]}
        for first, second in pairs:
            history = [(first.text, ask(first.text, []).text)]
            for label, turns in (("alone", []), ("after_other", history)):
                answer = ask(second.text, turns)
                rows[label][0] += first_correct(answer.hits, second) is not None
                rows[label][1] += holds_gold(answer, second.answers)
        report[f"{name} change of subject"] = {"pairs": len(pairs), **{
            label: {"recall@5": round(f / len(pairs), 4), "contains_gold": round(g / len(pairs), 4)}
            for label, (f, g) in rows.items()}}
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
