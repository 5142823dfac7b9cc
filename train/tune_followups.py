"""How should a question asked after other turns choose between its own search and its history?

Train articles only (rag.evaluation.datasets.split_articles). Each turn is searched as asked and with the earlier
turns' words added (rag.retrieval.rewrite.with_context, fused with the question's own search at
rag.retrieval.followups.HISTORY_WEIGHT); the answer model (the committed one) reads both lists. The rule in
rag.retrieval.followups.retrieve keeps the history reading unless the question's own is more confident by a
margin: NEEDS_CONTEXT_MARGIN for questions that need their history (rag.retrieval.rewrite.needs_context), 0 for
the others.
This script reports that rule over a grid of both margins, next to "always alone" and "always fused".

Three kinds of turns:
  * CoQA later turns (same story: the history helps; target recall@5 >= 0.95);
  * SQuAD and CoQA change-of-subject pairs (rag.evaluation.datasets.subject_pairs: the first question is from
    another article, its history is the answer the assistant gave; the history can only hurt: target
    "answer contains gold" within 2 points of asking alone).
Recall@5: the question's article, with its evidence, among the first 5 passages.

Run (about 3 minutes; RAG_CACHE_DIR as for `rag eval`, whose indexes it reuses; the measurements of
issue 8 used the onnx backend):
  RAG_EMBED_BACKEND=onnx python train/tune_followups.py --out train/results/tune_followups.json
With --workdir DIR, everything is asked of the large index bench/bench_ask.py --follow-ups built in DIR.
Committed results: train/results/tune_followups.json (the run the rule was chosen on),
tune_followups-now.json (rerun with the refitted answer model), tune_followups-scale.json (--workdir).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from rag.api import answer_with, default_answerer
from rag.evaluation.datasets import load_dataset, split_articles, subject_pairs
from rag.evaluation.metrics import first_correct, holds_gold
from rag.evaluation.run import build_index, eval_settings
from rag.index.facade import Index
from rag.retrieval.followups import HISTORY_WEIGHT, NEEDS_CONTEXT_MARGIN, SURE_ALONE, fuse_hits
from rag.retrieval.hybrid import Filters, Retriever
from rag.retrieval.rewrite import needs_context, with_context
from rag.settings import Settings

NEEDS_MARGINS = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 1.1)  # 1.1: always the history reading
SELF_MARGINS = (-0.1, 0.0, 0.1, 0.2)
SURE = (0.2, 0.25, 0.3, 0.4, 0.5, 0.7)  # a self-contained question read this confidently alone skips the history


def readings(path: Path, settings: Settings, kind: str, limit: int,  # type: ignore[type-arg]
             large: Settings | None = None) -> list[dict]:
    """Both readings of every turn: passages found, confidence, abstained, answer holds gold. Asked of
    the data set's own eval index, or of ``large`` (an index holding it and more)."""
    dataset = load_dataset(path)
    asked_of = large
    if asked_of is None:
        asked_of = eval_settings(settings, path, dataset)
        build_index(asked_of, dataset, progress=False)
    index = Index(asked_of)
    retriever, judge = Retriever(index), default_answerer(index)
    if kind == "later":
        train = set(split_articles(list(dataset.articles))[0])
        later = [q for q in dataset.questions if q.article in train and q.history and q.answerable]
        turns = [(q, list(q.history)) for q in random.Random(0).sample(later, min(limit, len(later)))]
    else:
        turns = []
        for first, second in subject_pairs(dataset, "train", limit, 0):
            previous = answer_with(index, retriever, judge, first.text, [], 5, Filters())
            turns.append((second, [(first.text, previous.text)]))
    rows = []
    for q, history in turns:
        query = with_context(q.text, history)
        alone = retriever.search(q.text, 5, Filters())
        fused = fuse_hits(retriever.search(query, 5, Filters()), alone, 5, HISTORY_WEIGHT)
        row = {"needs": needs_context(q.text), "used": query != q.text,
               "needs, names in lower case": needs_context(q.text, [h.text for h in alone])}
        for name, hits, context in (("alone", alone, ""), ("fused", fused, query[len(q.text):])):
            answer = judge.run(q.text, hits, context)
            rank = first_correct(hits, q)
            row[name] = {"found": rank is not None, "confidence": answer.confidence, "abstained": answer.abstained,
                         "gold": holds_gold(answer, q.answers)}
        rows.append(row)
    index.close()
    return rows


def measure(rows: list[dict], needs_margin: float | None, self_margin: float | None,  # type: ignore[type-arg]
            sure: float = 1.1, lower_case_names: bool = False) -> dict[str, float]:
    """The rule with these margins; None: always the question alone. ``lower_case_names``: whether a
    question needs its history is judged with the passages found for it (a name typed in lower case)."""
    chosen = []
    for r in rows:
        needs = r["needs, names in lower case" if lower_case_names else "needs"]
        margin = needs_margin if needs else self_margin
        if not r["used"] or margin is None or (not needs and r["alone"]["confidence"] >= sure):
            chosen.append(r["alone"])
        else:
            own = r["alone"]["confidence"] > r["fused"]["confidence"] + margin
            chosen.append(r["alone"] if own else r["fused"])
    n = len(chosen)
    return {"recall@5": round(sum(c["found"] for c in chosen) / n, 4),
            "contains_gold": round(sum(c["gold"] for c in chosen) / n, 4),
            "abstained": round(sum(c["abstained"] for c in chosen) / n, 4)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--squad", type=Path, default=Path("../shared/data/squad-dev-v1.1.json"))
    parser.add_argument("--coqa", type=Path, default=Path("../shared/data/coqa-cnn.json"))
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--workdir", type=Path, help="ask everything of the index bench/bench_ask.py --follow-ups "
                        "built in this folder (11,459 chunks) instead of each data set's own eval index")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = Settings.from_env()
    large = (Settings.from_env(index_dir=args.workdir / "index", corpus_dir=args.workdir / "corpus")
             if args.workdir else None)
    kinds = {"coqa later turns": readings(args.coqa, settings, "later", args.limit + 100, large),
             "squad change of subject": readings(args.squad, settings, "pairs", args.limit, large),
             "coqa change of subject": readings(args.coqa, settings, "pairs", args.limit, large)}
    report: dict[str, object] = {"history_weight": HISTORY_WEIGHT, "index": str(args.workdir or "eval indexes")}
    for name, rows in kinds.items():
        report[name] = {
            "turns": len(rows), "need history": sum(r["needs"] for r in rows),
            "need history, names in lower case": sum(r["needs, names in lower case"] for r in rows),
            "question alone": measure(rows, None, None),
            "always fused": measure(rows, 1.1, 1.1),
            **{f"needs margin {nm} / self-contained margin {sm}": measure(rows, nm, sm)
               for nm in NEEDS_MARGINS for sm in SELF_MARGINS},
            **{f"needs margin {NEEDS_CONTEXT_MARGIN} / self-contained margin 0.0 / alone when at least {s}":
               measure(rows, NEEDS_CONTEXT_MARGIN, 0.0, s) for s in SURE},
            f"margins {NEEDS_CONTEXT_MARGIN} / 0.0, alone when at least {SURE_ALONE}, names typed in lower case":
                measure(rows, NEEDS_CONTEXT_MARGIN, 0.0, SURE_ALONE, True),
        }
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
