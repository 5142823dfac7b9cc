"""Fit the answer model (rag/answer/weights/answer_model.json) on the *train* half of the articles.

Data: SQuAD dev v1.1 and CoQA CNN (../shared/data). Articles are split once by
`rag.evaluation.datasets.split_articles` (seeded); only train articles are used here. The
train half is split again: the sentences are scored by a reader trained on fold 0
only (`train/train_reader.py --fold 0`; --reader), so only questions of fold 1 are
asked (--reader-fold 1) and the reader scores are those of articles it never saw.
The committed reader is trained on both folds (more data); it must not score these
features, as it has seen fold 1. Fold 1 is left out of
the index in two halves (each index keeps the other train articles), so every
question is asked once with its article indexed (answerable) and once without it
(a hard negative: on-topic, unanswerable).

News (--news, a SQuAD file of train/generate_questions.py --half train --squad-out): questions the
packaged Qwen2.5 wrote about BBC train-half articles, each asked with its article indexed and left out
of an index of every article of the file. The fold-0 reader trained with them (train_reader.py --news)
saw fold 0 of their articles, so only fold 1 is asked (--news-reader-fold 1); a reader that saw no news
lets all be asked. The report adds the model fitted without them, judged on their rows (docs/trust.md,
section 3).

Every sentence of the retrieved passages becomes a row of features
(`rag/answer/features.py`) labelled 1 when it holds a gold answer of its own question
(CoQA: or its rationale) in its own article. The reader reads up to READ_COLLECT
sentences while collecting; the answerer's budget (rag.answer.features.READ_MAX,
rag.answer.reader.READ_TOKENS) and others are simulated from those. A logistic regression
scores sentences; its best score per question is then Platt-calibrated (on
out-of-fold scores, grouped by article) against whether the quoted answer holds
the gold answer; the default threshold is the lowest (grid 0.01) that keeps SQuAD
train false answers (left-out articles) <= --max-false; no threshold meets the
CoQA targets with these features (see the sweep), so SQuAD's are the ones aimed at.
Ablations and reader budgets (grouped cross-validation on train articles only) say
which feature groups earn their place.

Follow-ups (CoQA later turns) are searched as `ask` searches them (rag.retrieval.followups.retrieve), which now lets the
committed answer model choose between the question's own search and the one with its history. The
features behind the committed weights were collected with the previous answer model reading with its
lr 4e-5 fold-0 reader as that judge (a snapshot with those weights: docs/confidence.md, "Reader recipes
compared on train articles"), so collecting with the committed weights gives slightly different CoQA rows.

Run (the fold-0 reader of the committed recipe: about 20 min; the previous answer model's fold-0 reader,
lr 4e-5, is `git show 70a293d:rag/weights/reader-int8.onnx`; features: about 12 min on the 2-core machine
with the four --collect-only runs one after another; the fit itself about 75 s on the cached features):
  python train/train_reader.py --fold 0 --out /tmp/reader-fold0-int8.onnx
  RAG_CACHE_DIR=/path/cache python train/train_answer_model.py --reader /tmp/reader-fold0-int8.onnx \
      --drop similarity_sentence,similarity_gap --max-false 0.04 --news /path/cache/news-train.json \
      --out rag/answer/weights/answer_model.json --report train/results/train_answer_model.json
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import pickle
import random
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from rag.answer.answer_model import Trees
from rag.answer.extractive import idf_from_counts
from rag.answer.features import (
    EMBED_HITS,
    FEATURES,
    READ_MAX,
    SentenceVectors,
    candidates,
    near_duplicate,
    promise,
    question_terms,
)
from rag.answer.reader import READ_TOKENS, Reader, within_budget
from rag.api import default_answerer
from rag.evaluation.datasets import Question, load_dataset, split_articles
from rag.evaluation.metrics import contains_any, contains_words
from rag.evaluation.run import build_index, eval_settings, leave_out_index
from rag.index.facade import Index
from rag.retrieval.followups import retrieve
from rag.retrieval.hybrid import Filters, Retriever
from rag.settings import Settings

GROUPS = {
    "coverage (sentence, neighbours, chunk)": ["cov_sentence", "cov_neighbours", "cov_chunk", "cov_gap"],
    "rare names and numbers": ["names_missing_sentence", "names_missing_neighbours", "names_missing_chunk",
                               "phrase_missing", "phrase_in_chunk"],
    "answer type": ["type_fit", "type_missing"],
    "question-sentence embedding similarity": ["similarity_sentence", "similarity_gap"],
    "retrieval (chunk similarity, score, rank, margin, doc share)": [
        "similarity_chunk", "retrieval_score", "retrieval_rank", "retrieval_margin", "doc_share"],
    "other (novel words, question length, sentence length)": ["novel_words", "question_terms", "sentence_length"],
    "reader (cross-encoder)": ["reader", "reader_gap"],
}  # fmt: skip
SWEEP = np.arange(0.05, 0.55, 0.05)  # the thresholds the report lists
READ_COLLECT = 40  # sentences read per question while collecting; smaller budgets are simulated from these
BUDGETS = ((4, None), (8, None), (12, None), (24, None), (8, 400), (8, READ_TOKENS), (8, 250), (8, 200))
# The decision (answer or abstain): trees over the best sentence's score and features. Chosen by grouped
# cross-validation on train articles (AUC right vs. not; see the "decision" rows of the report); depth 2
# and 100 trees were as good as deeper or longer ones.
DECISION = {"n_estimators": 100, "learning_rate": 0.05, "max_depth": 2, "min_samples_leaf": 50, "random_state": 0}
CHUNK_ONLY = ["cov_chunk", "names_missing_chunk", "phrase_in_chunk", "similarity_chunk", "retrieval_score",
              "retrieval_rank", "retrieval_margin", "doc_share", "question_terms"]


@dataclass
class Row:
    """One question as asked of one training index."""

    dataset: str
    qid: str
    article: str
    indexed: bool  # its article is in this index and it is answerable
    x: np.ndarray  # candidates x FEATURES
    y: np.ndarray  # candidate holds a gold answer of this question, in its article
    texts: list[str]
    spans: list[tuple[str, int, int]]
    order: np.ndarray  # position in the reader's queue (features.promise); a large number when not eligible
    lengths: np.ndarray  # wordpieces of (question, sentence) as the reader reads it; 0 when not eligible


def right(q: Question, indexed: bool, doc_id: str, text: str, match: Callable = contains_any) -> bool:
    """A sentence's label: in the question's own article, indexed, and holding a gold answer or (CoQA) the
    rationale the answer was written from ("yes", "no")."""
    return indexed and doc_id == q.article and match(text, (*q.answers, *q.evidence))


def whole_word_labels(rows: list[Row], path: Path) -> list[Row]:
    """Rows labelled by gold answers in whole words (``--whole-word-labels``; the features stay as collected)."""
    questions = {q.qid: q for q in load_dataset(path).questions}
    return [replace(r, y=np.array([right(questions[r.qid], r.indexed, doc, text, contains_words)
                                   for text, (doc, _, _) in zip(r.texts, r.spans, strict=True)], dtype=int))
            for r in rows]


def collect(path: Path, settings: Settings, limit: int, later: int, seed: int,
            reader_path: Path, only_fold: int | None = None, reader_fold: int | None = None,
            news: bool = False) -> list[Row]:
    dataset = load_dataset(path)
    full = eval_settings(settings, path, dataset)
    build_index(full, dataset, progress=False)
    if news:  # a news file of train-half articles only (generate_questions.py --half train): no second split
        train, test = sorted({q.article for q in dataset.questions}), []  # (train_reader.news_items: same folds)
    else:
        train, test = split_articles(list(dataset.articles))
    folds = [train[0::2], train[1::2]]
    rng = random.Random(seed)
    if reader_fold is not None:  # ask only articles the reader never saw; leave them out in two halves, so
        asked_fold = folds[reader_fold]  # each index keeps the reader's articles too (closer to test size)
        folds = [asked_fold[0::2], asked_fold[1::2]]
    asked = set().union(*folds)
    firsts = [q for q in dataset.questions if q.article in asked and not q.history]
    follow = [q for q in dataset.questions if q.article in asked and q.history]
    chosen: list[Question] = rng.sample(firsts, min(limit, len(firsts))) + rng.sample(follow, min(later, len(follow)))
    rows: list[Row] = []
    for k, fold in enumerate(folds):
        if only_fold is not None and k != only_fold:
            continue
        index = Index(leave_out_index(full, dataset, test + fold, progress=False))
        retriever = Retriever(index)
        idf = idf_from_counts(index.docs.term_frequency, max(1, index.docs.counts()[1]))
        vectors = SentenceVectors(index.embedder.embed)
        reader = Reader(index.embedder.model_path, reader_path, max_tokens=10**9)  # budgets simulated later
        gone = set(fold)
        judge = default_answerer(index)
        for i, q in enumerate(chosen):
            # The committed answer model judges follow-ups, as in `ask` (see the docstring for the judge behind
            # the committed weights' features).
            hits, query = retrieve(retriever, q.text, list(q.history), 5, Filters(), judge)
            context = query[len(q.text):] if query != q.text else ""
            terms = question_terms(q.text, idf, context)
            if not hits or terms.total <= 0:
                continue
            found = candidates(terms, hits, index.embedder.embed_query(q.text), vectors,
                               functools.partial(reader, q.text), READ_COLLECT)
            indexed = q.answerable and q.article not in gone
            y = [right(q, indexed, c.hit.doc_id, c.text) for c in found]
            queue = sorted((i for i, c in enumerate(found) if c.rank < EMBED_HITS),
                           key=lambda i: -promise(found[i].features))
            order = np.full(len(found), 10**6)
            order[queue] = np.arange(len(queue))
            lengths = np.zeros(len(found), dtype=int)
            lengths[queue] = reader.lengths(q.text, [found[i].text for i in queue])
            rows.append(Row(dataset.name, q.qid, q.article, indexed,
                            np.array([[c.features[f] for f in FEATURES] for c in found]), np.array(y, dtype=int),
                            [c.text for c in found], [(c.hit.doc_id, c.start, c.end) for c in found], order,
                            lengths))
            if i % 200 == 0:
                print(f"{dataset.name} fold {k}: {i}/{len(chosen)}", file=sys.stderr, flush=True)
        index.close()
    return rows


def with_budget(rows: list[Row], n: int, tokens: int | None = READ_TOKENS) -> list[Row]:
    """The features as if the reader had read only the first ``n`` sentences of its queue, within
    ``tokens`` wordpieces (rag.answer.reader.within_budget)."""
    r, gap = FEATURES.index("reader"), FEATURES.index("reader_gap")
    out = []
    for row in rows:
        x = row.x.copy()
        queue = np.argsort(row.order, kind="stable")[: min(n, int((row.order < 10**6).sum()))]
        if tokens is not None:
            queue = queue[: within_budget(row.lengths[queue].tolist(), tokens)]
        x[~np.isin(np.arange(len(x)), queue), r] = 0.0
        x[:, gap] = x[:, r].max() - x[:, r]
        out.append(replace(row, x=x))
    return out


def reader_best(rows: list[Row]) -> dict[str, dict[str, float]]:
    """Per data set, the reader's mean best score (within the answerer's budget) with the question's article
    left out and with it indexed: how well the reader alone tells an article's own answer from a report
    of the same kind of event elsewhere (the news failure: docs/trust.md, section 3)."""
    r = FEATURES.index("reader")
    out: dict[str, dict[str, float]] = {}
    for name in sorted({row.dataset for row in rows}):
        best = {flag: [float(row.x[:, r].max()) for row in rows if row.dataset == name and row.indexed == flag]
                for flag in (False, True)}
        out[name] = {k: round(float(np.mean(v)), 4) for k, v in
                     (("left out", best[False]), ("indexed", best[True])) if v}
    return out


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, LogisticRegression]:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=1.0, max_iter=2000).fit((x - mean) / scale, y)
    return mean, scale, model


def out_of_fold(rows: list[Row], cols: list[int]) -> list[np.ndarray]:
    """Sentence scores for every row from a model that never saw the row's article."""
    groups = np.array([r.article for r in rows])
    scores: list[np.ndarray] = [np.zeros(0)] * len(rows)
    for train_idx, test_idx in GroupKFold(n_splits=5).split(np.zeros(len(rows)), groups=groups):
        x = np.vstack([rows[i].x[:, cols] for i in train_idx])
        y = np.concatenate([rows[i].y for i in train_idx])
        mean, scale, model = fit(x, y)
        for i in test_idx:
            scores[i] = model.predict_proba((rows[i].x[:, cols] - mean) / scale)[:, 1]
    return scores


def decision_rows(rows: list[Row], scores: list[np.ndarray], cols: list[int],
                  second_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Per question: the logit of its best sentence's score and that sentence's features; label: the
    answer (as `run` gives it) holds a gold answer."""
    x, y = [], []
    for row, p in zip(rows, scores, strict=True):
        best, right = answer_of(row, p, second_share)
        x.append([logit(np.array([best]))[0], *row.x[int(np.argmax(p)), cols]])
        y.append(right)
    return np.array(x), np.array(y)


def decision_out_of_fold(rows: list[Row], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The decision trees' log-odds for every question (rows of ``x``), from trees that never saw its
    article (the sentence scores in ``x`` are out of fold already)."""
    groups = np.array([r.article for r in rows])
    out = np.zeros(len(rows))
    for train_idx, test_idx in GroupKFold(n_splits=5).split(x, groups=groups):
        out[test_idx] = GradientBoostingClassifier(**DECISION).fit(x[train_idx], y[train_idx]).decision_function(
            x[test_idx])
    return out


def export_trees(model: GradientBoostingClassifier, names: list[str], x: np.ndarray) -> dict[str, object]:
    """The fitted trees as rag.answer.answer_model.Trees reads them; checked against sklearn on ``x``."""
    trees = []
    for estimator in model.estimators_[:, 0]:
        t = estimator.tree_
        trees.append([[int(t.feature[i]) if t.children_left[i] >= 0 else -1, float(t.threshold[i]),
                       int(t.children_left[i]), int(t.children_right[i]), float(t.value[i, 0, 0])]
                      for i in range(t.node_count)])
    rate = float(model.learning_rate)
    init = float(model.decision_function(x[:1])[0]
                 - rate * sum(e.predict(x[:1])[0] for e in model.estimators_[:, 0]))
    data = {"features": ["best_score", *names], "init": init, "learning_rate": rate, "trees": trees}
    mine = Trees.from_json(data)
    assert np.allclose([mine.log_odds(row) for row in x], model.decision_function(x), atol=1e-9)
    return data


def evaluate(rows: list[Row], cols: list[int], second_share: float, max_false: float,
             judged: int | None = None) -> dict[str, object]:
    """Both parts, sentence model and decision trees, out of fold with these sentence features; fitted on
    all ``rows``, judged on the first ``judged`` (default all)."""
    scores = out_of_fold(rows, cols)
    x, y = decision_rows(rows, scores, cols, second_share)
    decided, n = decision_out_of_fold(rows, x, y), judged or len(rows)
    return evaluate_scores(rows[:n], scores[:n], second_share, max_false, decided[:n])


def answer_of(row: Row, p: np.ndarray, second_share: float) -> tuple[float, bool]:
    """Best score and whether the answer (best sentence, plus a second one as `run` adds it) is right."""
    order = np.argsort(-p, kind="stable")
    chosen = [order[0]]
    for j in order[1:]:
        if len(chosen) == 2 or p[j] < second_share * p[order[0]]:
            break
        doc, s, e = row.spans[j]
        overlap = any(doc == row.spans[c][0] and s < row.spans[c][2] and row.spans[c][1] < e for c in chosen)
        if not overlap and not any(near_duplicate(row.texts[j], row.texts[c]) for c in chosen):
            chosen.append(j)
    return float(p[order[0]]), bool(row.indexed and any(row.y[c] for c in chosen))


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def evaluate_scores(rows: list[Row], scores: list[np.ndarray], second_share: float, max_false: float,
                    decision: np.ndarray | None = None, threshold_data: str = "squad-dev-v1.1") -> dict[str, object]:
    """Both error rates per data set. The decision is Platt on ``decision`` (out-of-fold log-odds of the
    decision trees) or, without it, on the logit of the best sentence's score."""
    best, right = zip(*(answer_of(r, s, second_share) for r, s in zip(rows, scores, strict=True)), strict=True)
    right_a = np.array(right)
    z = logit(np.array(best)) if decision is None else decision
    platt = LogisticRegression(C=100.0).fit(z[:, None], right_a)
    conf = platt.predict_proba(z[:, None])[:, 1]
    indexed = np.array([r.indexed for r in rows])
    on = np.array([r.dataset == threshold_data for r in rows])
    threshold = pick_threshold(conf[on], indexed[on], max_false)
    answered = conf >= threshold
    out: dict[str, object] = {
        "selection_accuracy": round(float(right_a[indexed].mean()), 4),
        "auc_right_vs_not": round(float(roc_auc_score(right_a, conf)), 4),
        "threshold": round(float(threshold), 4),
        "calibration": [float(platt.coef_[0][0]), float(platt.intercept_[0])],
    }
    for name in sorted({r.dataset for r in rows}):
        m = np.array([r.dataset == name for r in rows])
        ind, neg = m & indexed, m & ~indexed
        out[name] = {
            "false_abstention": round(float((~answered[ind]).mean()), 4),
            "false_answers": round(float(answered[neg].mean()), 4),
            "contains_gold": round(float((answered & right_a)[ind].mean()), 4),
        }
    return out


def sweep(rows: list[Row], scores: list[np.ndarray], second_share: float, full: dict[str, object],
          decision: np.ndarray) -> dict[str, object]:
    """Both error rates per data set for a grid of thresholds, with the calibration of ``full``."""
    right = np.array([answer_of(r, s, second_share)[1] for r, s in zip(rows, scores, strict=True)])
    a, b = full["calibration"]  # type: ignore[misc]
    conf = 1 / (1 + np.exp(-(a * decision + b)))
    indexed = np.array([r.indexed for r in rows])
    out: dict[str, object] = {}
    for name in [*sorted({r.dataset for r in rows}), "coqa-cnn turn 1"]:
        m = np.array([r.dataset == name.split()[0] and (name == r.dataset or r.qid.endswith("#1")) for r in rows])
        out[name] = rates(conf[m], indexed[m], right[m], SWEEP)
    return out


def rates(conf: np.ndarray, indexed: np.ndarray, right: np.ndarray, grid: Sequence[float]) -> dict[str, object]:
    """Both error rates and contains-gold at each threshold of ``grid``."""
    return {f"{t:.2f}": {"false_abstention": round(float((conf[indexed] < t).mean()), 4),
                         "false_answers": round(float((conf[~indexed] >= t).mean()), 4),
                         "contains_gold": round(float(((conf >= t) & right)[indexed].mean()), 4)} for t in grid}


def unseen_domain(rows: list[Row], domain: str, cols: list[int], second_share: float,
                  max_false: float) -> dict[str, object]:
    """The ``domain`` rows judged by a model fitted on every other row, as the model without that data
    judges them: the "before" of adding it, on the same questions, beside the sweep's "after" (out of
    fold). Same thresholds as the sweep, and the other model's own default."""
    seen = [r for r in rows if r.dataset != domain]
    new = [r for r in rows if r.dataset == domain]
    mean, scale, model = fit(np.vstack([r.x[:, cols] for r in seen]), np.concatenate([r.y for r in seen]))
    scores = out_of_fold(seen, cols)
    x, y = decision_rows(seen, scores, cols, second_share)
    own = evaluate_scores(seen, scores, second_share, max_false, decision_out_of_fold(seen, x, y))
    a, b = own["calibration"]  # type: ignore[misc]
    trees = GradientBoostingClassifier(**DECISION).fit(x, y)
    new_scores = [model.predict_proba((r.x[:, cols] - mean) / scale)[:, 1] for r in new]
    conf = 1 / (1 + np.exp(-(a * trees.decision_function(decision_rows(new, new_scores, cols, second_share)[0]) + b)))
    right = np.array([answer_of(r, p, second_share)[1] for r, p in zip(new, new_scores, strict=True)])
    indexed = np.array([r.indexed for r in new])
    grid = [float(own["threshold"]), *SWEEP]  # type: ignore[arg-type]
    return {"threshold of the model without it": own["threshold"], **rates(conf, indexed, right, grid)}


def pick_threshold(conf: np.ndarray, indexed: np.ndarray, max_false: float) -> float:
    """The lowest confidence threshold (grid of 0.01) whose false-answer rate on left-out articles is <= max_false.
    Lowest, because every step up costs answerable questions (see the sweep in
    train/results/train_answer_model.json)."""
    for t in np.linspace(0.0, 1.0, 101):
        if (conf[~indexed] >= t).mean() <= max_false:
            return float(t)
    return 1.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--squad", type=Path, default=Path("../shared/data/squad-dev-v1.1.json"))
    parser.add_argument("--coqa", type=Path, default=Path("../shared/data/coqa-cnn.json"))
    parser.add_argument("--limit", type=int, default=600, help="SQuAD questions (each asked of both fold indexes)")
    parser.add_argument("--later", type=int, default=150, help="CoQA later turns (each asked of both fold indexes)")
    parser.add_argument("--max-false", type=float, default=0.06, help="train false-answer rate for the threshold")
    parser.add_argument("--second-share", type=float, default=0.5)
    parser.add_argument("--news", type=Path, help="news questions about train-half BBC articles, a SQuAD file "
                        "(train/generate_questions.py --half train --squad-out); each asked with its article "
                        "indexed and left out, like the others")
    parser.add_argument("--news-reader-fold", type=int, choices=[0, 1],
                        help="ask only news questions of this fold (--reader trained with train_reader.py --news on "
                             "the other fold); default: all of them (a reader that saw no news)")
    parser.add_argument("--collect-only", choices=["squad", "coqa", "news"],
                        help="only compute one data set's features")
    parser.add_argument("--fold", type=int, choices=[0, 1], help="with --collect-only: only this fold (both folds "
                        "as two processes use both cores, but may meet the eval index's lock: rerun the one that "
                        "stops with IndexLockedError)")
    parser.add_argument("--reader-fold", type=int, choices=[0, 1], default=1,
                        help="ask only questions of this fold of the train articles (--reader must be trained on "
                             "the other fold only)")
    parser.add_argument("--reader", type=Path, required=True,
                        help="the reader that scores the collected sentences: one trained on the other fold only "
                             "(train/train_reader.py --fold 0; the committed reader saw both folds)")
    parser.add_argument("--whole-word-labels", action="store_true",
                        help="a sentence is right only if it holds the gold in whole words, not inside a longer "
                             "one (tried, not adopted: docs/trust.md, section 3)")
    parser.add_argument("--drop", default="", help="comma-separated FEATURES the final model leaves out")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--report", type=Path)
    args = parser.parse_args()
    settings = Settings.from_env()
    rows: list[Row] = []
    sources = [("coqa", args.coqa, 10**6, args.later, args.reader_fold), ("squad", args.squad, args.limit, 0,
               args.reader_fold)] + ([("news", args.news, 10**6, 0, args.news_reader_fold)] if args.news else [])
    for kind, path, firsts, later, reader_fold in sources:
        if args.collect_only and args.collect_only != kind:
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if kind == "news" else ""  # the file grows
        name = f"answer-features-{path.stem}{digest}-{firsts}-{later}-reader{reader_fold}-{args.reader.stem}"
        cache = settings.cache_dir / f"{name}.pkl"  # features, reused
        parts = [cache.with_suffix(f".fold{k}.pkl") for k in (0, 1)]
        if args.fold is not None:
            parts[args.fold].write_bytes(pickle.dumps(collect(path, settings, firsts, later, 1, args.reader,
                                                              args.fold, reader_fold, kind == "news")))
            return
        if not cache.exists() and all(p.exists() for p in parts):
            cache.write_bytes(pickle.dumps([r for p in parts for r in pickle.loads(p.read_bytes())]))
        if not cache.exists():
            cache.write_bytes(pickle.dumps(collect(path, settings, firsts, later, 1, args.reader,
                                                   None, reader_fold, kind == "news")))
        cached = pickle.loads(cache.read_bytes())
        rows += whole_word_labels(cached, path) if args.whole_word_labels else cached
    if args.collect_only:
        return
    print(f"{len(rows)} questions, {sum(len(r.y) for r in rows)} sentences", file=sys.stderr)

    collected = rows
    rows = with_budget(collected, READ_MAX)  # as the answerer computes them
    dropped = [f for f in args.drop.split(",") if f]
    everything = [i for i, f in enumerate(FEATURES) if f not in dropped]
    report: dict[str, object] = {"questions": len(rows), "sentences": sum(len(r.y) for r in rows),
                                 "reader's best score, mean": reader_best(rows)}
    scores = out_of_fold(rows, everything)
    x2, y2 = decision_rows(rows, scores, everything, args.second_share)
    decided = decision_out_of_fold(rows, x2, y2)
    full = evaluate_scores(rows, scores, args.second_share, args.max_false, decided)
    report["all features (out-of-fold, train articles)"] = full
    report["decision: Platt on the best sentence's score alone (the previous model)"] = evaluate_scores(
        rows, scores, args.second_share, args.max_false)
    report["decision: trees without the best score (sentence features only)"] = evaluate_scores(
        rows, scores, args.second_share, args.max_false, decision_out_of_fold(rows, x2[:, 1:], y2))
    report["threshold sweep (out-of-fold, train articles)"] = sweep(rows, scores, args.second_share, full, decided)
    if args.news:  # its data set's name is the file's stem (rag.evaluation.datasets.load_dataset)
        report[f"{args.news.stem} judged by the model fitted without it (before)"] = unseen_domain(
            rows, args.news.stem, everything, args.second_share, args.max_false)
    ablation: dict[str, object] = {}
    for group, names in GROUPS.items():
        cols = [i for i in everything if FEATURES[i] not in names]
        ablation[f"without {group}"] = evaluate(rows, cols, args.second_share, args.max_false)
        print(group, json.dumps(ablation[f"without {group}"]), file=sys.stderr)
    if dropped:
        ablation[f"with the dropped {', '.join(dropped)}"] = evaluate(
            rows, list(range(len(FEATURES))), args.second_share, args.max_false)
    chunk_cols = [FEATURES.index(f) for f in CHUNK_ONLY]
    ablation["chunk-level features only"] = evaluate(rows, chunk_cols, args.second_share, args.max_false)
    report["ablation"] = ablation
    report["reader budget (sentences, wordpieces read per question)"] = {
        f"{n}, {tokens or 'no limit'}": evaluate(budget, everything, args.second_share, args.max_false)
        for n, tokens in BUDGETS for budget in [with_budget(collected, n, tokens)]}

    x = np.vstack([r.x[:, everything] for r in rows])
    y = np.concatenate([r.y for r in rows])
    mean, scale, model = fit(x, y)
    trees = export_trees(GradientBoostingClassifier(**DECISION).fit(x2, y2), [FEATURES[i] for i in everything], x2)
    weights = {
        "about": "rag/answer/answer_model.py: logistic regression over rag/answer/features.py FEATURES picks "
                 "the sentence; gradient-boosted trees over its score and features, Platt-calibrated, give the "
                 "confidence",
        "command": f"RAG_CACHE_DIR=<cache> python train/train_answer_model.py --reader /tmp/{args.reader.name} "
                   "--out rag/answer/weights/answer_model.json "
                   f"--report train/results/train_answer_model.json --limit {args.limit} --later {args.later} "
                   f"--max-false {args.max_false} --second-share {args.second_share} --reader-fold {args.reader_fold}"
                   + (f" --drop {args.drop}" if args.drop else "")
                   + (" --whole-word-labels" if args.whole_word_labels else "")
                   + (f" --news <cache>/{args.news.name}" if args.news else "")
                   + (f" --news-reader-fold {args.news_reader_fold}" if args.news_reader_fold is not None else ""),
        "trained_on": "train half of the articles (rag.evaluation.datasets.split_articles) of SQuAD dev v1.1 and "
                      "CoQA CNN" + (", and news questions the packaged Qwen2.5 wrote about train-half BBC demo "
                                    "articles (train/generate_questions.py)" if args.news else ""),
        "features": [FEATURES[i] for i in everything],
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "coef": [round(float(v), 6) for v in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 6),
        "calibration": [round(v, 6) for v in full["calibration"]],  # type: ignore[union-attr]
        "min_confidence": full["threshold"],
        "second_share": args.second_share,
        "decision": trees,
    }
    report["coefficients (standardised)"] = dict(zip(weights["features"], weights["coef"], strict=True))
    print(json.dumps(report, indent=1))
    if args.out:  # innermost lists (tree nodes, coefficients) on one line each
        text = re.sub(r"\[([^\[\]{}]*)\]", lambda m: "[" + " ".join(m.group(1).split()) + "]",
                      json.dumps(weights, indent=1))
        args.out.write_text(text + "\n")
    if args.report:
        args.report.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
