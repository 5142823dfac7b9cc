"""The evaluation data: SQuAD- and CoQA-format files read into questions and articles, and the one
train/test split by article that every fitted part and every reported number respects."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from .metrics import normalise


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
            found = [g for g in golds if normalise(g) in normalise(text)]
            evidence = tuple(dict.fromkeys(found + [s for s in spans if s]))
            answerable = golds[0].lower().rstrip(".") != "unknown"
            ds.questions.append(
                Question(f"{doc_id}#{q['turn_id']}", q["input_text"], doc_id, golds, evidence, tuple(history),
                         answerable)
            )
            history.append((q["input_text"], a["input_text"]))
    return ds


# Seed of the one train/test split by article. Everything fitted (train/train_answer_model.py) sees only
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


def select(questions: list[Question], turns: str, limit: int | None) -> list[Question]:
    if turns == "first":
        questions = [q for q in questions if not q.history]
    elif turns == "later":
        questions = [q for q in questions if q.history]
    if limit and limit < len(questions):
        questions = random.Random(0).sample(questions, limit)
    return questions


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
