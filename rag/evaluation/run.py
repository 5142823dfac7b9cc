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
import shutil
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
    # Always embedded: evaluation indexes must never touch a shared server's index.
    return replace(base, index_dir=root / "index", corpus_dir=root / "corpus", embed_backend=backend, chroma_url="")


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


# Seed of the one train/test split by article. Everything fitted (bench/train_answer_model.py) sees only
# "train" articles; every reported number is on "test" articles.
SPLIT_SEED = 8
SPLITS = ("all", "train", "test")


def split_articles(article_ids: Sequence[str], seed: int = SPLIT_SEED) -> tuple[list[str], list[str]]:
    """Half of the articles for fitting, half for measuring: split by article, never by question."""
    ids = sorted(article_ids)
    random.Random(seed).shuffle(ids)
    half = len(ids) // 2
    return sorted(ids[:half]), sorted(ids[half:])


def article_pool(dataset: Dataset, articles: str) -> list[str]:
    if articles not in SPLITS:
        raise InputError(f"articles must be one of {', '.join(SPLITS)}")
    if articles == "all":
        return sorted(dataset.articles)
    train, test = split_articles(list(dataset.articles))
    return train if articles == "train" else test


def choose_left_out(pool: Sequence[str], n: int, seed: int) -> list[str]:
    """``n`` articles of ``pool`` (seeded) to keep out of the index: their questions become hard negatives."""
    if not 0 <= n < len(pool) or (n and len(pool) < 2):
        raise InputError(f"--leave-out must be from 0 to {len(pool) - 1} (articles to choose from: {len(pool)})")
    return sorted(random.Random(seed).sample(sorted(pool), n))


def without(dataset: Dataset, left_out: Sequence[str]) -> Dataset:
    gone = set(left_out)
    return Dataset(dataset.name, {i: a for i, a in dataset.articles.items() if i not in gone}, dataset.questions)


def leave_out_index(full: Settings, dataset: Dataset, left_out: Sequence[str], progress: bool) -> Settings:
    """An index of the dataset without ``left_out``: a copy of the full index, pruned (nothing re-embedded)."""
    if not left_out:
        return full
    digest = hashlib.sha256("\n".join(sorted(left_out)).encode()).hexdigest()[:12]
    root = full.index_dir.parent
    target = root.with_name(f"{root.name}-without-{digest}")
    settings = replace(full, index_dir=target / "index", corpus_dir=target / "corpus")
    if not settings.index_dir.exists():
        partial = target / "index.partial"
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(full.index_dir, partial, ignore=shutil.ignore_patterns("write.lock"))
        partial.rename(settings.index_dir)
    build_index(settings, without(dataset, left_out), progress)
    return settings


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
    articles: str = "all",
    leave_out: int = 0,
    seed: int = 0,
    min_confidence: float | None = None,
    details: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Retrieval table, answer metrics and abstention for one dataset.

    With ``against``, the questions are asked of the *other* dataset's articles,
    where none is answerable: the answered fraction is the false-answer rate.
    ``articles`` keeps to one half of the train/test split; ``leave_out`` N of
    those articles (chosen with ``seed``) are kept out of the index, so their
    questions are on-topic but unanswerable (hard negatives). ``details``, when
    given, receives one record per question (confidence, correct) for curves.
    """
    from tqdm import tqdm

    from .api import answer_with, default_answerer, retrieve
    from .retrieval import Filters, Retriever

    show = sys.stderr.isatty() if progress is None else progress
    dataset = load_dataset(dataset_path)
    index_source = load_dataset(against) if against else dataset
    index_settings = eval_settings(settings, against or dataset_path, index_source)
    build_index(index_settings, index_source, show)
    pool = set(article_pool(dataset, articles))
    left_out = choose_left_out(sorted(pool), leave_out, seed) if leave_out and not against else []
    index_settings = leave_out_index(index_settings, index_source, left_out, show)
    questions = select([q for q in dataset.questions if q.article in pool], turns, limit)
    if against:
        questions = [replace(q, answerable=False) for q in questions]
    gone = set(left_out)
    questions = [replace(q, answerable=False) if q.article in gone else q for q in questions]
    if not questions:
        raise InputError("no questions selected")
    index = Index(index_settings)
    retriever = Retriever(index)
    answerer = default_answerer(index)
    if min_confidence is not None:
        answerer = answerer.with_min_confidence(min_confidence)

    ranks: dict[str, list[int | None]] = {m: [] for m in MODES}
    answers: list[tuple[Question, Answer, float]] = []
    for q in tqdm(questions, desc="questions", disable=not show, file=sys.stderr, leave=False):
        query = standalone(q.text, q.history) if rewrite else q.text
        if q.answerable:
            for mode in MODES:
                if mode == "hybrid":  # what `ask` searches: follow-ups fused with the question's own search
                    hits, _ = retrieve(retriever, q.text, list(q.history) if rewrite else [], 10, Filters(), answerer)
                else:
                    hits = retriever.search(query, 10, Filters(), mode)  # type: ignore[arg-type]
                ranks[mode].append(first_correct(hits, q))
        t0 = time.perf_counter()
        answer = answer_with(index, retriever, answerer, q.text, list(q.history) if rewrite else [], 5, Filters())
        answers.append((q, answer, time.perf_counter() - t0))
        if details is not None:
            details.append({"qid": q.qid, "article": q.article, "answerable": q.answerable,
                            "abstained": answer.abstained, "confidence": answer.confidence,
                            "contains_gold": q.answerable and contains_any(answer.text, q.answers)})
    index.close()

    report: dict[str, Any] = {
        "dataset": str(dataset_path),
        "index_of": str(against or dataset_path),
        "articles_indexed": len(index_source.articles) - len(left_out),
        "questions": len(questions),
        "turns": turns,
        "rewrite": rewrite,
        "articles": articles,
        "left_out": left_out,
        "seed": seed,
    }
    if any(ranks.values()):
        report["retrieval"] = {m: _retrieval_metrics(r) for m, r in ranks.items()}
    report["answers"] = _answer_metrics(answers)
    if left_out:
        hard = [a for q, a, _ in answers if q.article in gone]
        report["answers"]["answered_left_out"] = _rate(sum(not a.abstained for a in hard), len(hard))
    return report


def change_of_subject(
    dataset_path: Path,
    *,
    settings: Settings,
    limit: int | None = 300,
    articles: str = "all",
    seed: int = 0,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Pairs of questions from different articles: the second asked after the first vs. asked alone.

    A self-contained question must not lose its article because an unrelated turn came
    before it. The first turn's history is (question, the answer the assistant gave).
    Only first turns (self-contained questions) are used.
    """
    from tqdm import tqdm

    from .api import answer_with, default_answerer
    from .retrieval import Filters, Retriever

    show = sys.stderr.isatty() if progress is None else progress
    dataset = load_dataset(dataset_path)
    index_settings = eval_settings(settings, dataset_path, dataset)
    build_index(index_settings, dataset, show)
    pairs = subject_pairs(dataset, articles, limit, seed)
    if not pairs:
        raise InputError("no pairs of questions from different articles")
    index = Index(index_settings)
    retriever = Retriever(index)
    answerer = default_answerer(index)
    rows: dict[str, list[tuple[bool, bool]]] = {"alone": [], "after_other": []}
    rewritten = 0
    for first, second in tqdm(pairs, desc="pairs", disable=not show, file=sys.stderr, leave=False):
        previous = answer_with(index, retriever, answerer, first.text, [], 5, Filters())
        history = [(first.text, previous.text)]
        for label, turns in (("alone", []), ("after_other", history)):
            answer = answer_with(index, retriever, answerer, second.text, turns, 5, Filters())
            found = first_correct(answer.hits, second)
            rows[label].append((found is not None, contains_any(answer.text, second.answers)))
            if turns and answer.query != second.text:
                rewritten += 1
    index.close()
    n = len(pairs)
    return {
        "dataset": str(dataset_path),
        "articles": articles,
        "pairs": n,
        "seed": seed,
        "history_used": _rate(rewritten, n),
        **{label: {"recall@5": _rate(sum(r for r, _ in rs), n), "contains_gold": _rate(sum(c for _, c in rs), n)}
           for label, rs in rows.items()},
    }


def subject_pairs(dataset: Dataset, articles: str, limit: int | None, seed: int) -> list[tuple[Question, Question]]:
    """Seeded (first, second) pairs of answerable first turns from different articles of one half."""
    pool = set(article_pool(dataset, articles))
    firsts = [q for q in dataset.questions if q.article in pool and not q.history and q.answerable]
    rng = random.Random(seed)
    rng.shuffle(firsts)
    pairs: list[tuple[Question, Question]] = []
    for second in firsts:
        others = [q for q in firsts if q.article != second.article]
        if others:
            pairs.append((rng.choice(others), second))
        if limit and len(pairs) >= limit:
            break
    return pairs


def first_correct(hits: Sequence[Any], q: Question) -> int | None:
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
        "mean_confidence_answered": round(sum(a.confidence for _, a in given) / len(given), 4) if given else None,
        "latency_p50_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
    }
    return out


def _strip(text: str) -> str:
    return re.sub(r"\s*\[\d+\]", "", text)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def format_report(report: dict[str, Any]) -> str:
    lines = [f"{report['dataset']} ({report['questions']} questions, turns={report['turns']}, "
             f"rewrite={report['rewrite']}, articles={report['articles']}) against an index of "
             f"{report['articles_indexed']} articles from {report['index_of']}"]
    if report["left_out"]:
        lines.append(f"left out of the index (seed {report['seed']}): {len(report['left_out'])} articles, "
                     f"{report['answers']['unanswerable']} of their questions asked")
    if "retrieval" in report:
        lines.append(f"{'retrieval':<10}{'R@1':>8}{'R@5':>8}{'R@10':>8}{'MRR@10':>8}")
        for mode, m in report["retrieval"].items():
            lines.append(f"{mode:<10}{m['recall@1']:>8.3f}{m['recall@5']:>8.3f}{m['recall@10']:>8.3f}"
                         f"{m['mrr@10']:>8.3f}")
    a = report["answers"]
    lines.append("answers: " + ", ".join(f"{k}={v}" for k, v in a.items()))
    lines.append(f"false abstention (answerable, article indexed): {a['abstained_on_answerable']}; "
                 f"false answers (article not indexed): {a['answered_unanswerable']}")
    return "\n".join(lines)
