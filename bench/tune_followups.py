"""How much should the conversation count when searching a question that came after other turns?

Train articles only (rag.evaluation.split_articles). Each question is searched twice, as asked and
with the earlier turns' words added (rag.rewrite.with_context), and the two lists are fused
(rag.api.fuse_hits) with a grid of weights for the history search, separately for questions that
need their history (rag.rewrite.needs_context) and for self-contained ones. Two kinds of turns:
CoQA later turns (same story: the history helps) and SQuAD change-of-subject pairs (the first
question is from another article, the history is its gold answer: the history can only hurt).
Recall@5: the question's article, with its evidence, among the first 5 passages.

Run (a few minutes; RAG_CACHE_DIR as for `rag eval`, whose indexes it reuses):
  python bench/tune_followups.py --out bench/results-followups.json
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from rag.api import fuse_hits
from rag.evaluation import build_index, contains_any, eval_settings, load_dataset, split_articles
from rag.retrieval import Filters, Retriever
from rag.rewrite import needs_context, with_context
from rag.settings import Settings
from rag.store import Index

WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)


def searches(path: Path, settings: Settings, turns: list[tuple[object, list[tuple[str, str]]]]) -> list[dict]:  # type: ignore[type-arg]
    dataset = load_dataset(path)
    full = eval_settings(settings, path, dataset)
    build_index(full, dataset, progress=False)
    index = Index(full)
    retriever = Retriever(index)
    out = []
    for q, history in turns:
        query = with_context(q.text, history)  # type: ignore[attr-defined]
        alone = retriever.search(q.text, 10, Filters())  # type: ignore[attr-defined]
        both = retriever.search(query, 10, Filters()) if query != q.text else alone  # type: ignore[attr-defined]
        out.append({"q": q, "needs": needs_context(q.text), "alone": alone, "both": both})  # type: ignore[attr-defined]
    index.close()
    return out


def recall(rows: list[dict], weight_needs: float, weight_self: float, keep: int = 0) -> float:  # type: ignore[type-arg]
    """Recall@5 of the fused lists; ``keep``: a self-contained question keeps its own first ``keep``
    passages and the fused list fills the rest."""
    found = 0
    for r in rows:
        w = weight_needs if r["needs"] else weight_self
        hits = fuse_hits(r["both"], r["alone"], 5, w) if w > 0 else r["alone"][:5]
        if keep and not r["needs"]:
            own = r["alone"][:keep]
            hits = own + [h for h in hits if h.chunk_id not in {o.chunk_id for o in own}][: 5 - len(own)]
        q = r["q"]
        found += any(h.doc_id == q.article and contains_any(h.text, q.evidence) for h in hits)
    return round(found / len(rows), 4)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--squad", type=Path, default=Path("../shared/data/squad-dev-v1.1.json"))
    parser.add_argument("--coqa", type=Path, default=Path("../shared/data/coqa-cnn.json"))
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = Settings.from_env()
    rng = random.Random(0)

    coqa = load_dataset(args.coqa)
    train = set(split_articles(list(coqa.articles))[0])
    later = [q for q in coqa.questions if q.article in train and q.history and q.answerable]
    later = rng.sample(later, min(args.limit, len(later)))
    squad = load_dataset(args.squad)
    train = set(split_articles(list(squad.articles))[0])
    firsts = [q for q in squad.questions if q.article in train and q.answerable]
    pairs = []
    for q in rng.sample(firsts, min(args.limit, len(firsts))):
        first = rng.choice([f for f in firsts if f.article != q.article])
        pairs.append((q, [(first.text, first.answers[0])]))
    kinds = {"coqa later turns": searches(args.coqa, settings, [(q, list(q.history)) for q in later]),
             "squad after another article's turn": searches(args.squad, settings, pairs)}
    report: dict[str, object] = {}
    for name, rows in kinds.items():
        needs = sum(r["needs"] for r in rows)
        report[name] = {
            "questions": len(rows), "need history": needs,
            "question alone": recall(rows, 0.0, 0.0),
            **{f"needs {wn} / self-contained {ws}": recall(rows, wn, ws) for wn in (0.6, 0.8) for ws in WEIGHTS},
            **{f"needs 0.8 / self-contained keeps its first {keep}, then fused with {ws}": recall(rows, 0.8, ws, keep)
               for keep in (2, 3) for ws in (0.5, 0.8, 1.0)},
        }
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
