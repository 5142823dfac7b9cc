"""Scores of retrieval and answers against gold answers (SQuAD's normalisation, recall@k, MRR)."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..schema import Answer
    from .datasets import Question


def normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, articles or extra space."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in string.punctuation)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def token_f1(prediction: str, gold: str) -> float:
    p, g = normalise(prediction).split(), normalise(gold).split()
    common = sum((Counter(p) & Counter(g)).values())
    if not p or not g or common == 0:
        return float(p == g)
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def contains_any(text: str, golds: Sequence[str]) -> bool:
    body = normalise(text)
    return any(normalise(g) and normalise(g) in body for g in golds)


def contains_words(text: str, golds: Sequence[str]) -> bool:
    """``contains_any`` in whole words, any punctuation read as a space: "1970" is not in "1970s", nor "no" in
    "not". Counts the same answers on our three test sets; as training labels, tried and not adopted
    (docs/trust.md, section 3)."""
    body = f" {_words(text)} "
    return any(g and f" {g} " in body for g in map(_words, golds))


def _words(text: str) -> str:
    text = re.sub(r"[^\w\s]|_", " ", text.lower())
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def holds_gold(answer: Answer, golds: Sequence[str]) -> bool:
    """An answer given (not an abstention, not a question back) whose text holds a gold answer. A question back
    lists story titles, and those may hold the answer (or "no" inside "not"): that is not an answer."""
    return not answer.abstained and contains_any(answer.text, golds)


def first_correct(hits: Sequence[Any], q: Question) -> int | None:
    for rank, hit in enumerate(hits, start=1):
        if hit.doc_id == q.article and contains_any(hit.text, q.evidence):
            return rank
    return None


def retrieval_metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "recall@1": round(sum(1 for r in ranks if r and r <= 1) / n, 4),
        "recall@5": round(sum(1 for r in ranks if r and r <= 5) / n, 4),
        "recall@10": round(sum(1 for r in ranks if r and r <= 10) / n, 4),
        "mrr@10": round(sum(1 / r for r in ranks if r) / n, 4),
    }


def answer_metrics(results: list[tuple[Question, Answer, float]]) -> dict[str, Any]:
    answerable = [(q, a) for q, a, _ in results if q.answerable]
    unanswerable = [(q, a) for q, a, _ in results if not q.answerable]
    given = [(q, a) for q, a in answerable if not a.abstained]
    citations = [(q, c) for q, a in given for c in a.citations]
    latencies = sorted(t for _, _, t in results)
    out: dict[str, Any] = {
        "answerable": len(answerable),
        "abstained_on_answerable": rate(sum(a.abstained for _, a in answerable), len(answerable)),
        "contains_gold": rate(sum(holds_gold(a, q.answers) for q, a in answerable), len(answerable)),
        "contains_gold_when_answered": rate(sum(holds_gold(a, q.answers) for q, a in given), len(given)),
        "token_f1": round(sum(max(token_f1(_strip(a.text), g) for g in q.answers) for q, a in given)
                          / max(1, len(answerable)), 4),  # an abstention scores 0, as in holds_gold
        "citation_precision": rate(sum(contains_any(c.quote, q.answers) for q, c in citations), len(citations)),
        "citations": len(citations),
        "unanswerable": len(unanswerable),
        "answered_unanswerable": rate(sum(not a.abstained for _, a in unanswerable), len(unanswerable)),
        # questions back ("Which story do you mean?"), counted above as abstentions
        "clarified_answerable": rate(sum(bool(a.clarify) for _, a in answerable), len(answerable)),
        "clarified_unanswerable": rate(sum(bool(a.clarify) for _, a in unanswerable), len(unanswerable)),
        "mean_confidence_answered": round(sum(a.confidence for _, a in given) / len(given), 4) if given else None,
        "latency_p50_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
    }
    return out


def _strip(text: str) -> str:
    return re.sub(r"\s*\[\d+\]", "", text)


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
