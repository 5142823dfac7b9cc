"""Would features that a passage is about *this* event lower the news false answers? An experiment on the
committed answer model's cached training rows (train/train_answer_model.py), not a fit: candidate features
are computed after the fact from each row's question and its candidates' articles, appended, and the model
is judged out of fold (by article) as train_answer_model.py judges it, with and without them.

The candidates (docs/trust.md, section 3, "Features that a passage is about this event"):
  doc_cov, doc_names_missing   the question's words / names found anywhere in the candidate's article (title
                               included), not only in its passage;
  rare_missing_sentence/_doc   the rarest question word the sentence / its article lacks (its idf over the
                               question's highest): coverage averages one missing specific word away;
  when_conflict                the question names a month, weekday or year and the sentence names only others
                               ("in January" answered with a December figure);
  other_doc_reader, its gap    the reader's best score in another article: several stories answering alike
                               mark a question the corpus cannot pin to one story;
  docs_answering               articles with a sentence the reader scores 0.3 or more;
  names_nothing                the question names no name or number ("Who signed the oil deal?",
                               rag.retrieval.rewrite.names_subject): it fits any story of its kind.
The idf here is over the data set's articles (the answerer's is over its index's chunks); every feature is
a ratio or a flag, so the scale does not matter.

Run (the three caches of the committed weights' command, RAG_CACHE_DIR as there; the news file is the one
those weights were fitted on, 363 questions, sha256 01f4966d7de2...):
    RAG_CACHE_DIR=DIR .venv/bin/python train/try_event_features.py --news-file DIR/news-train.json \\
        --news-cache DIR/answer-features-news-train01f4966d7de2-1000000-0-readerNone-reader-fold0-int8.pkl \\
        --report train/results/try_event_features.json
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import train_answer_model as fit_model
from sklearn.metrics import roc_auc_score

from rag.answer.features import FEATURES, question_terms
from rag.evaluation.datasets import load_dataset
from rag.retrieval.rewrite import names_subject
from rag.settings import Settings
from rag.text import content_stems

NEW = ("doc_cov", "doc_names_missing", "rare_missing_sentence", "rare_missing_doc", "when_conflict",
       "names_nothing", "other_doc_reader", "other_doc_reader_gap", "docs_answering")
VARIANTS = {
    "article coverage (doc_cov, doc_names_missing)": ("doc_cov", "doc_names_missing"),
    "rarest word missing (sentence, article)": ("rare_missing_sentence", "rare_missing_doc"),
    "a different month, weekday or year (when_conflict)": ("when_conflict",),
    "another article's reader score (and its gap)": ("other_doc_reader", "other_doc_reader_gap"),
    "articles the reader finds answering (docs_answering)": ("docs_answering",),
    "the question names nothing (names_nothing)": ("names_nothing",),
    "all of them": NEW,
}
DROPPED = ("similarity_sentence", "similarity_gap")  # as the committed weights
_WHEN = re.compile(r"\b(january|february|march|april|may|june|july|august|september|october|november|december|"
                   r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|(?:19|20)\d\d)\b", re.I)


def _whens(text: str) -> set[str]:
    return {m.lower() for m in _WHEN.findall(text)}


def lexical_features(rows: list[fit_model.Row], dataset_path: Path) -> None:
    """Append the first six NEW columns to each row of this data set (in place)."""
    dataset = load_dataset(dataset_path)
    text = {q.qid: q.text for q in dataset.questions}
    # Article ids carry the file's stem ("news-train/business/324.txt"): key by the part after it.
    stems = {a.split("/", 1)[1]: frozenset(content_stems(f"{t} {x}")) for a, (t, x) in dataset.articles.items()}
    df, n = Counter(s for st in stems.values() for s in st), len(stems)

    def idf(term: str) -> float:
        return math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))

    for row in rows:
        q = question_terms(text[row.qid], idf)
        top, names = max(q.weights.values(), default=0.0), sum(q.names.values())
        asked = _whens(text[row.qid])
        nameless = float(not names_subject(text[row.qid]))
        extra = []
        for (doc, _, _), sentence in zip(row.spans, row.texts, strict=True):
            in_doc, in_sentence = stems[doc.split("/", 1)[1]], set(content_stems(sentence))
            said = _whens(sentence)
            extra.append([
                sum(w for t, w in q.weights.items() if t in in_doc) / q.total if q.total else 0.0,
                1 - sum(w for t, w in q.names.items() if t in in_doc) / names if names else 0.0,
                max((w for t, w in q.weights.items() if t not in in_sentence), default=0.0) / top if top else 0.0,
                max((w for t, w in q.weights.items() if t not in in_doc), default=0.0) / top if top else 0.0,
                float(bool(asked) and bool(said) and not asked & said),
                nameless,
            ])  # fmt: skip
        row.x = np.hstack([row.x, np.array(extra).reshape(len(row.x), 6)])


def reader_features(rows: list[fit_model.Row]) -> None:
    """Append the last three NEW columns, from the reader's scores within the answerer's budget (in place)."""
    r = FEATURES.index("reader")
    for row in rows:
        docs, read = [d for d, _, _ in row.spans], row.x[:, r]
        other = np.array([max((v for v, e in zip(read, docs, strict=True) if e != d), default=0.0) for d in docs])
        answering = min(len({d for d, v in zip(docs, read, strict=True) if v >= 0.3}), 4) / 4
        row.x = np.hstack([row.x, other[:, None], (read - other)[:, None], np.full((len(docs), 1), answering)])


def judge(rows: list[fit_model.Row], cols: list[int]) -> dict[str, object]:
    """train_answer_model's out-of-fold judgement, plus how well the decision tells a news question whose article
    is indexed from one whose article is left out, whatever the threshold (the thresholds move with the
    calibration, so the rates alone slide along one curve)."""
    scores = fit_model.out_of_fold(rows, cols)
    x, y = fit_model.decision_rows(rows, scores, cols, 0.5)
    decided = fit_model.decision_out_of_fold(rows, x, y)
    out = fit_model.evaluate_scores(rows, scores, 0.5, 0.04, decided)
    out.pop("calibration")
    news = np.array([r.dataset == "news-train" for r in rows])
    indexed = np.array([r.indexed for r in rows])
    out["news AUC, article indexed vs left out"] = round(float(roc_auc_score(indexed[news], decided[news])), 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=Path("../shared/data/squad-dev-v1.1.json"))
    parser.add_argument("--coqa", type=Path, default=Path("../shared/data/coqa-cnn.json"))
    parser.add_argument("--news-file", type=Path, required=True, help="the news file the news cache was collected from")
    parser.add_argument("--news-cache", type=Path, required=True)
    parser.add_argument("--reader-stem", default="reader-fold0-int8")
    parser.add_argument("--report", type=Path)
    args = parser.parse_args()
    cache = Settings.from_env().cache_dir
    sys.modules["__main__"].Row = fit_model.Row  # type: ignore[attr-defined]  # the pickles name __main__.Row
    sources = [(args.coqa, cache / f"answer-features-coqa-cnn-1000000-150-reader1-{args.reader_stem}.pkl"),
               (args.squad, cache / f"answer-features-squad-dev-v1.1-600-0-reader1-{args.reader_stem}.pkl"),
               (args.news_file, args.news_cache)]
    rows: list[fit_model.Row] = []
    for path, pkl in sources:
        part = pickle.loads(pkl.read_bytes())
        lexical_features(part, path)
        rows += part
    rows = fit_model.with_budget(rows, fit_model.READ_MAX)  # as the answerer reads
    reader_features(rows)
    names = [*FEATURES, *NEW]
    base = [i for i, f in enumerate(FEATURES) if f not in DROPPED]
    report: dict[str, object] = {"questions": len(rows), "committed features": judge(rows, base)}
    for label, added in VARIANTS.items():
        report[f"+ {label}"] = judge(rows, base + [names.index(f) for f in added])
        print(label, json.dumps(report[f"+ {label}"]), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=1))
    if args.report:
        args.report.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
