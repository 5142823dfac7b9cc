"""`rag eval`: measure retrieval and answers on SQuAD- or CoQA-format data.

The dataset's contexts are indexed into a throwaway index (cached under the
cache folder by dataset hash and index fingerprint, so re-running while tuning
does not re-embed). Retrieval is scored for dense, BM25 and hybrid side by side;
answers and citations for the full `ask` path.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import InputError
from .rewrite import standalone
from .schema import Answer
from .settings import Settings
from .store import Index

MODES = ("dense", "bm25", "hybrid")


@dataclass(frozen=True)
class Question:
    qid: str
    text: str
    article: str  # doc_id of the article holding the answer
    answers: tuple[str, ...]  # gold answers, for answer metrics
    evidence: tuple[str, ...]  # strings whose presence in a chunk makes it a correct hit
    history: tuple[tuple[str, str], ...] = ()
    answerable: bool = True


@dataclass
class Dataset:
    name: str
    articles: dict[str, tuple[str, str]] = field(default_factory=dict)  # doc_id -> (title, text)
    questions: list[Question] = field(default_factory=list)


def load_dataset(path: Path) -> Dataset:
    """SQuAD v1/v2 (``data[].paragraphs[].qas``) or CoQA (``data[].story``)."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read dataset {path}: {exc}") from exc
    data = raw.get("data") if isinstance(raw, dict) else None
    if not isinstance(data, list) or not data:
        raise InputError(f"{path}: expected a SQuAD or CoQA JSON file with a 'data' list")
    if "paragraphs" in data[0]:
        return _squad(Path(path).stem, data)
    if "story" in data[0]:
        return _coqa(Path(path).stem, data)
    raise InputError(f"{path}: neither SQuAD (paragraphs) nor CoQA (story) format")


def _squad(name: str, data: list[dict[str, Any]]) -> Dataset:
    ds = Dataset(name)
    for article in data:
        title = str(article.get("title", "")).replace("_", " ")
        doc_id = f"{name}/{title}"
        ds.articles[doc_id] = (title, "\n\n".join(p["context"] for p in article["paragraphs"]))
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                golds = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", []) if a["text"].strip()))
                impossible = bool(qa.get("is_impossible")) or not golds
                ds.questions.append(
                    Question(str(qa["id"]), qa["question"], doc_id, golds, golds, answerable=not impossible)
                )
    return ds


def _coqa(name: str, data: list[dict[str, Any]]) -> Dataset:
    ds = Dataset(name)
    for story in data:
        doc_id = f"{name}/{story.get('id') or story.get('filename')}"
        text = story["story"]
        first = text.strip().split("\n", 1)[0]
        ds.articles[doc_id] = (first[:120], text)
        history: list[tuple[str, str]] = []
        extra = story.get("additional_answers") or {}
        for i, (q, a) in enumerate(zip(story["questions"], story["answers"], strict=False)):
            alternatives = [a] + [alt[i] for alt in extra.values() if i < len(alt)]
            golds = tuple(dict.fromkeys(x["input_text"].strip() for x in alternatives if x["input_text"].strip()))
            spans = [x.get("span_text", "").strip() for x in alternatives]
            evidence = tuple(dict.fromkeys([g for g in golds if _norm(g) in _norm(text)] + [s for s in spans if s]))
            answerable = golds[0].lower().rstrip(".") != "unknown"
            ds.questions.append(
                Question(f"{doc_id}#{q['turn_id']}", q["input_text"], doc_id, golds, evidence, tuple(history),
                         answerable)
            )
            history.append((q["input_text"], a["input_text"]))
    return ds


# --------------------------------------------------------------------------- metrics


def _norm(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, articles or extra space."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in string.punctuation)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def token_f1(prediction: str, gold: str) -> float:
    p, g = _norm(prediction).split(), _norm(gold).split()
    common = sum((Counter(p) & Counter(g)).values())
    if not p or not g or common == 0:
        return float(p == g)
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def contains_any(text: str, golds: Sequence[str]) -> bool:
    body = _norm(text)
    return any(_norm(g) and _norm(g) in body for g in golds)


# --------------------------------------------------------------------------- running


def eval_settings(base: Settings, dataset_path: Path, dataset: Dataset) -> Settings:
    digest = hashlib.sha256(Path(dataset_path).read_bytes()).hexdigest()[:16]
    from .embedding import DEFAULT_BACKEND

    backend = base.embed_backend or DEFAULT_BACKEND  # one cached index per embedding backend
    tag = f"{digest}-{base.chunk_tokens}-{base.chunk_overlap}-{backend}"
    root = base.cache_dir / "eval" / f"{dataset.name}-{tag}"
    return replace(base, index_dir=root / "index", corpus_dir=root / "corpus", embed_backend=backend)


def build_index(settings: Settings, dataset: Dataset, progress: bool) -> None:
    """Index the dataset's articles once; later runs find them unchanged."""
    from .indexing import sync

    corpus = settings.corpus_dir
    corpus.mkdir(parents=True, exist_ok=True)
    records = [{"id": doc_id, "title": t, "text": text, "source": dataset.name}
               for doc_id, (t, text) in dataset.articles.items()]
    target = corpus / "articles.jsonl"
    payload = "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n"
    if not target.exists() or target.read_text(encoding="utf-8") != payload:
        target.write_text(payload, encoding="utf-8")
    sync(settings, progress=progress)


def select(questions: list[Question], turns: str, limit: int | None) -> list[Question]:
    if turns == "first":
        questions = [q for q in questions if not q.history]
    elif turns == "later":
        questions = [q for q in questions if q.history]
    if limit and limit < len(questions):
        questions = random.Random(0).sample(questions, limit)
    return questions


def evaluate(
    dataset_path: Path,
    *,
    settings: Settings,
    limit: int | None = None,
    turns: str = "all",
    against: Path | None = None,
    rewrite: bool = True,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Retrieval table, answer metrics and abstention for one dataset.

    With ``against``, the questions are asked of the *other* dataset's articles,
    where none is answerable: the answered fraction is the false-answer rate.
    """
    from tqdm import tqdm

    from .api import answer_with, default_answerer
    from .retrieval import Filters, Retriever

    show = sys.stderr.isatty() if progress is None else progress
    dataset = load_dataset(dataset_path)
    index_source = load_dataset(against) if against else dataset
    index_settings = eval_settings(settings, against or dataset_path, index_source)
    build_index(index_settings, index_source, show)
    questions = select(dataset.questions, turns, limit)
    if against:
        questions = [replace(q, answerable=False) for q in questions]
    if not questions:
        raise InputError("no questions selected")
    index = Index(index_settings)
    retriever = Retriever(index)
    answerer = default_answerer(index)

    ranks: dict[str, list[int | None]] = {m: [] for m in MODES}
    answers: list[tuple[Question, Answer, float]] = []
    for q in tqdm(questions, desc="questions", disable=not show, file=sys.stderr, leave=False):
        query = standalone(q.text, q.history) if rewrite else q.text
        if not against:
            for mode in MODES:
                hits = retriever.search(query, 10, Filters(), mode)  # type: ignore[arg-type]
                ranks[mode].append(_first_correct(hits, q))
        t0 = time.perf_counter()
        answer = answer_with(index, retriever, answerer, q.text, list(q.history) if rewrite else [], 5, Filters())
        answers.append((q, answer, time.perf_counter() - t0))
    index.close()

    report: dict[str, Any] = {
        "dataset": str(dataset_path),
        "index_of": str(against or dataset_path),
        "articles_indexed": len(index_source.articles),
        "questions": len(questions),
        "turns": turns,
        "rewrite": rewrite,
    }
    if not against:
        report["retrieval"] = {m: _retrieval_metrics(r) for m, r in ranks.items()}
    report["answers"] = _answer_metrics(answers)
    return report


def _first_correct(hits: Sequence[Any], q: Question) -> int | None:
    for rank, hit in enumerate(hits, start=1):
        if hit.doc_id == q.article and contains_any(hit.text, q.evidence):
            return rank
    return None


def _retrieval_metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "recall@1": round(sum(1 for r in ranks if r and r <= 1) / n, 4),
        "recall@5": round(sum(1 for r in ranks if r and r <= 5) / n, 4),
        "recall@10": round(sum(1 for r in ranks if r and r <= 10) / n, 4),
        "mrr@10": round(sum(1 / r for r in ranks if r) / n, 4),
    }


def _answer_metrics(results: list[tuple[Question, Answer, float]]) -> dict[str, Any]:
    answerable = [(q, a) for q, a, _ in results if q.answerable]
    unanswerable = [(q, a) for q, a, _ in results if not q.answerable]
    given = [(q, a) for q, a in answerable if not a.abstained]
    citations = [(q, c) for q, a in given for c in a.citations]
    latencies = sorted(t for _, _, t in results)
    out: dict[str, Any] = {
        "answerable": len(answerable),
        "abstained_on_answerable": _rate(sum(a.abstained for _, a in answerable), len(answerable)),
        "contains_gold": _rate(sum(contains_any(a.text, q.answers) for q, a in answerable), len(answerable)),
        "contains_gold_when_answered": _rate(sum(contains_any(a.text, q.answers) for q, a in given), len(given)),
        "token_f1": round(sum(max(token_f1(_strip(a.text), g) for g in q.answers) for q, a in answerable)
                          / max(1, len(answerable)), 4),
        "citation_precision": _rate(sum(contains_any(c.quote, q.answers) for q, c in citations), len(citations)),
        "citations": len(citations),
        "unanswerable": len(unanswerable),
        "answered_unanswerable": _rate(sum(not a.abstained for _, a in unanswerable), len(unanswerable)),
        "latency_p50_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
    }
    return out


def _strip(text: str) -> str:
    return re.sub(r"\s*\[\d+\]", "", text)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def format_report(report: dict[str, Any]) -> str:
    lines = [f"{report['dataset']} ({report['questions']} questions, turns={report['turns']}, "
             f"rewrite={report['rewrite']}) against an index of {report['articles_indexed']} articles "
             f"from {report['index_of']}"]
    if "retrieval" in report:
        lines.append(f"{'retrieval':<10}{'R@1':>8}{'R@5':>8}{'R@10':>8}{'MRR@10':>8}")
        for mode, m in report["retrieval"].items():
            lines.append(f"{mode:<10}{m['recall@1']:>8.3f}{m['recall@5']:>8.3f}{m['recall@10']:>8.3f}"
                         f"{m['mrr@10']:>8.3f}")
    a = report["answers"]
    lines.append("answers: " + ", ".join(f"{k}={v}" for k, v in a.items()))
    return "\n".join(lines)
