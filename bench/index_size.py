"""Does the false-answer rate on left-out articles grow with the number of articles indexed?

Every answer model so far answered more questions whose article was left out on test than on train
(the test index holds 36 SQuAD articles, the training indexes 18). This asks the same SQuAD *test*
questions (a fixed sample, as bench/confidence_curves.py) with the same 12 test articles left out
(seed 1), of indexes that differ only in how many *train* articles they also hold: 0, 12 or all 24.
It reports, at the committed threshold, false abstention, contains gold and answered-left-out, and
the threshold each index would need for 10% answered-left-out. Nothing is fitted or chosen here.

With --news, the same questions are also asked of the index bench/bench_ask.py builds (the BBC demo's
2,127 news articles and all SQuAD articles, 11,162 chunks) without the left-out articles: the size of
a newsroom's index, with distractors of another kind than Wikipedia.

Run (about 6 minutes, 10 with --news; RAG_CACHE_DIR as for `rag eval`, whose indexes it reuses):
  RAG_EMBED_BACKEND=onnx python bench/index_size.py [--news BENCH_ASK_WORKDIR] --out bench/results/index_size.json
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from pathlib import Path

import numpy as np

from rag.answer.answer_model import load_model
from rag.api import answer_with, default_answerer
from rag.evaluation.datasets import Dataset, Question, choose_left_out, load_dataset, select, split_articles
from rag.evaluation.metrics import holds_gold
from rag.evaluation.run import build_index, eval_settings, leave_out_index
from rag.index.facade import Index
from rag.index.sync import sync
from rag.retrieval.hybrid import Filters, Retriever
from rag.settings import Settings


def measure(settings: Settings, questions: list[Question], gone: set[str], threshold: float) -> dict[str, object]:
    """The answer metrics at ``threshold`` and the threshold that would answer 10% of left-out questions."""
    index = Index(settings)
    retriever, answerer = Retriever(index), default_answerer(index).with_min_confidence(0.0)
    conf, right, left = [], [], []
    for q in questions:
        answer = answer_with(index, retriever, answerer, q.text, [], 5, Filters())
        conf.append(answer.confidence)
        left.append(q.article in gone)
        right.append(q.article not in gone and holds_gold(answer, q.answers))
    chunks = index.docs.counts()[1]
    index.close()
    c, r, lo = np.array(conf), np.array(right), np.array(left)
    needed = next(t for t in np.linspace(0, 1, 101) if (c[lo] >= t).mean() <= 0.10)
    return {
        "chunks": chunks,
        "abstained_on_answerable": round(float((c[~lo] < threshold).mean()), 4),
        "contains_gold": round(float(((c >= threshold) & r)[~lo].mean()), 4),
        "answered_left_out": round(float((c[lo] >= threshold).mean()), 4),
        "threshold_for_10pct_left_out": round(float(needed), 2),
    }


def with_news(workdir: Path, tmp: Path, dataset: Dataset, gone: set[str]) -> Settings:
    """A copy of bench/bench_ask.py's index (the BBC demo and all SQuAD articles) without the left-out
    articles: they are removed from the copied corpus and the sync deletes them (nothing re-embedded)."""
    for part in ("index", "corpus"):
        shutil.copytree(workdir / part, tmp / part, ignore=shutil.ignore_patterns("write.lock"))
    articles = tmp / "corpus" / "squad" / "articles.jsonl"
    kept = [line for line in articles.read_text(encoding="utf-8").splitlines() if json.loads(line)["id"] not in gone]
    assert len(kept) == len(dataset.articles) - len(gone), "the news index must hold this data set's articles"
    articles.write_text("\n".join(kept) + "\n", encoding="utf-8")
    settings = Settings.from_env(index_dir=tmp / "index", corpus_dir=tmp / "corpus")
    sync(settings, progress=False)
    return settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--squad", type=Path, default=Path("../shared/data/squad-dev-v1.1.json"))
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--news", type=Path, help="also: a bench/bench_ask.py workdir (the BBC demo and the SQuAD "
                        "articles), without the left-out articles")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    dataset = load_dataset(args.squad)
    full = eval_settings(Settings.from_env(), args.squad, dataset)
    build_index(full, dataset, progress=False)
    train, test = split_articles(list(dataset.articles))
    gone = set(choose_left_out(sorted(test), len(test) // 2, args.seed))
    questions = select([q for q in dataset.questions if q.article in set(test)], "all", args.limit)
    threshold = load_model().min_confidence
    report: dict[str, object] = {"threshold": threshold, "left_out": sorted(gone), "questions": len(questions)}
    for extra in (0, len(train) // 2, len(train)):
        kept = set(random.Random(0).sample(sorted(train), extra))
        settings = leave_out_index(full, dataset, sorted(gone | (set(train) - kept)), progress=False)
        name = f"{len(test) - len(gone) + extra} articles indexed ({extra} train)"
        report[name] = measure(settings, questions, gone, threshold)
        print(json.dumps(report), flush=True)
    if args.news:
        with tempfile.TemporaryDirectory(prefix="rag-index-size-") as tmp:
            settings = with_news(args.news, Path(tmp), dataset, gone)
            report[f"{len(dataset.articles) - len(gone)} articles + the BBC demo"] = measure(
                settings, questions, gone, threshold)
        print(json.dumps(report), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
