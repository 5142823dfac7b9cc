"""`rag eval`: measure retrieval and answers on SQuAD- or CoQA-format data.

The dataset's contexts are indexed into a throwaway index (cached under the
cache folder by dataset hash and index fingerprint, so re-running while tuning
does not re-embed). Retrieval is scored for dense, BM25 and hybrid side by side;
answers and citations for the full `ask` path.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..index.facade import Index
from ..retrieval.rewrite import standalone
from ..schema import Answer
from ..settings import Settings
from .datasets import Dataset, Question, article_pool, choose_left_out, load_dataset, select, subject_pairs, without
from .metrics import answer_metrics, first_correct, holds_gold, rate, retrieval_metrics

if TYPE_CHECKING:
    from ..answer.interface import Answerer
    from ..retrieval.hybrid import Retriever

MODES = ("dense", "bm25", "hybrid")


def eval_settings(base: Settings, dataset_path: Path, dataset: Dataset) -> Settings:
    digest = hashlib.sha256(Path(dataset_path).read_bytes()).hexdigest()[:16]
    from ..embedding.embedders import DEFAULT_BACKEND

    backend = base.embed_backend or DEFAULT_BACKEND  # one cached index per embedding backend
    tag = f"{digest}-{base.chunk_tokens}-{base.chunk_overlap}-{backend}"
    root = base.cache_dir / "eval" / f"{dataset.name}-{tag}"
    # Always embedded: evaluation indexes must never touch a shared server's index.
    return replace(base, index_dir=root / "index", corpus_dir=root / "corpus", embed_backend=backend, chroma_url="")


def build_index(settings: Settings, dataset: Dataset, progress: bool) -> None:
    """Index the dataset's articles once; later runs find them unchanged."""
    from ..index.sync import sync

    corpus = settings.corpus_dir
    corpus.mkdir(parents=True, exist_ok=True)
    records = [{"id": doc_id, "title": t, "text": text, "source": dataset.name}
               for doc_id, (t, text) in dataset.articles.items()]
    target = corpus / "articles.jsonl"
    payload = "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n"
    if not target.exists() or target.read_text(encoding="utf-8") != payload:
        target.write_text(payload, encoding="utf-8")
    sync(settings, progress=progress)


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

    from ..api import answer_with, default_answerer
    from ..retrieval.followups import retrieve
    from ..retrieval.hybrid import Filters, Retriever

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
    chosen: list[tuple[bool, bool]] = []  # answerable questions asked back: (story offered, gold after choosing it)
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
        if q.answerable and answer.clarify:
            chosen.append(after_choosing(index, retriever, answerer, q, answer))
        if details is not None:
            holds = holds_gold(answer, q.answers)
            details.append({"qid": q.qid, "article": q.article, "answerable": q.answerable,
                            "abstained": answer.abstained, "confidence": answer.confidence,
                            "read_with_history": answer.query != q.text,
                            "contains_gold": q.answerable and holds,
                            # a left-out question answered with its gold from another article (a sibling report)
                            "quotes_gold_text": holds})
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
        report["retrieval"] = {m: retrieval_metrics(r) for m, r in ranks.items()}
    report["answers"] = answer_metrics(answers)
    # What a user who answers the question back gets: the gold directly, or after choosing the story they meant.
    direct = sum(holds_gold(a, q.answers) for q, a, _ in answers if q.answerable)
    report["answers"]["clarified_offers_its_story"] = rate(sum(o for o, _ in chosen), len(chosen))
    report["answers"]["contains_gold_after_choosing"] = rate(direct + sum(g for _, g in chosen),
                                                             report["answers"]["answerable"])
    if left_out:
        hard = [a for q, a, _ in answers if q.article in gone]
        report["answers"]["answered_left_out"] = rate(sum(not a.abstained for a in hard), len(hard))
    return report


def after_choosing(
    index: Index, retriever: Retriever, answerer: Answerer, q: Question, asked: Answer
) -> tuple[bool, bool]:
    """An answerable question asked back ("Which story do you mean?"), followed as a user who picks the story
    they meant: is it among those offered, and does asking again within it (as the UI's story buttons
    do) give the gold?"""
    from ..api import answer_with
    from ..retrieval.hybrid import Filters

    if q.article not in {story.doc_id for story in asked.clarify}:
        return False, False
    again = answer_with(index, retriever, answerer, q.text, [], 5, Filters(documents=(q.article,)))
    return True, holds_gold(again, q.answers)


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

    from ..api import answer_with, default_answerer
    from ..retrieval.hybrid import Filters, Retriever

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
            rows[label].append((found is not None, holds_gold(answer, second.answers)))
            if turns and answer.query != second.text:
                rewritten += 1
    index.close()
    n = len(pairs)
    return {
        "dataset": str(dataset_path),
        "articles": articles,
        "pairs": n,
        "seed": seed,
        "history_used": rate(rewritten, n),
        **{label: {"recall@5": rate(sum(r for r, _ in rs), n), "contains_gold": rate(sum(c for _, c in rs), n)}
           for label, rs in rows.items()},
    }
