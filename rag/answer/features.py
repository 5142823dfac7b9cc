"""The evidence for an answer, judged sentence by sentence.

For every sentence of the retrieved passages this computes the features the
answer model (``rag/answer/answer_model.py``) scores: how much of the question it and its
neighbours cover (idf-weighted), whether it names the question's rare names and
numbers (a sentence about "Lucio Fontana" does not answer a question about
"Isabeli Fontana"), whether it holds the kind of thing asked for (an amount for
"how much"), how similar it is to the question in the embedding space, and how
its passage ranked. Wrong answers typically fail one of these at the quoted
sentence even when the passage as a whole looks relevant.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..schema import Hit
from ..text import STOPWORDS, content_stems, sentence_spans, stem, words

# Sentences of the first EMBED_HITS passages are embedded (one batch) for question-sentence similarity;
# the others fall back to their passage's similarity. Measured: the ablation of train/train_answer_model.py.
EMBED_HITS = 3
MAX_EMBED = 24  # at most this many sentences per question are embedded (latency)
# The reader (rag/answer/reader.py) reads the READ_MAX lexically most promising sentences of those passages.
# Measured: train/train_answer_model.py --reader-fold 1 (the "reader budget" table of its report).
READ_MAX = 8
CONTEXT_WEIGHT = 0.3  # earlier turns' words count, together at most CONTEXT_SHARE of the question's own
CONTEXT_SHARE = 0.3

FEATURES = (
    "cov_sentence", "cov_neighbours", "cov_chunk",
    "names_missing_sentence", "names_missing_neighbours", "names_missing_chunk", "phrase_missing",
    "phrase_in_chunk",
    "type_fit", "type_missing", "novel_words",
    "similarity_sentence", "similarity_gap", "similarity_chunk",
    "retrieval_score", "retrieval_rank", "retrieval_margin", "doc_share",
    "cov_gap", "question_terms", "sentence_length",
    "reader", "reader_gap",
)  # fmt: skip

_NUMBER_QUESTION = re.compile(
    r"\b(how (much|many|long|old|far|big|large|often|tall|fast|high|deep|heavy)|"
    r"what (year|years|percentage|percent|number|age|date|time|day|month|decade|century|amount|price)|"
    r"when|which year|in what year)\b", re.I)
_NAME_QUESTION = re.compile(
    r"\b(who|whom|whose|where|which (country|city|team|company|person|state|club|group|party|university))\b", re.I)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
    r"thousand|million|billion|dozen|half|monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|"
    r"february|march|april|may|june|july|august|september|october|november|december|yesterday|today|week|"
    r"month|year|decade|century|centuries)s?\b", re.I)
_CAPITALISED = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w'’-]*")
_NAME_PHRASE = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:of\s+|de\s+|van\s+)?[A-Z][\w'’-]*)+")


@dataclass(frozen=True)
class QuestionTerms:
    """What a question asks for, computed once per question."""

    weights: dict[str, float]  # content stem -> idf (earlier turns' words scaled down)
    total: float
    names: dict[str, float]  # stems of the question's names and numbers -> idf
    phrases: tuple[str, ...]  # multi-word names, lower case ("isabeli fontana")
    kind: str  # "number", "name" or ""
    asked: frozenset[str]  # the question's words


def question_terms(question: str, idf: Callable[[str], float], context: str = "") -> QuestionTerms:
    weights = {t: idf(t) for t in content_stems(question)}
    extra = {t: idf(t) for t in content_stems(context) if t not in weights}
    if extra:
        own, added = sum(weights.values()), sum(extra.values())
        scale = min(CONTEXT_WEIGHT, CONTEXT_SHARE * own / added) if own else CONTEXT_WEIGHT
        weights.update({t: scale * w for t, w in extra.items()})
    names: dict[str, float] = {}
    for match in _CAPITALISED.finditer(question):
        w = match.group().lower().replace("’", "'").split("'")[0]
        if w not in STOPWORDS:
            names[stem(w)] = idf(stem(w))
    for w in words(question):
        if any(ch.isdigit() for ch in w):
            names[stem(w)] = idf(stem(w))
    phrases = tuple(dict.fromkeys(" ".join(words(m.group())) for m in _NAME_PHRASE.finditer(question)
                                  if m.start() > 0 and len(words(m.group())) > 1))
    kind = "number" if _NUMBER_QUESTION.search(question) else "name" if _NAME_QUESTION.search(question) else ""
    return QuestionTerms(weights, sum(weights.values()), names, phrases, kind, frozenset(words(question)))


@dataclass(frozen=True)
class Candidate:
    """One sentence of a retrieved passage, at its document offsets, with its features."""

    hit: Hit
    rank: int
    start: int  # in the document: document.text[start:end] == text
    end: int
    text: str
    features: dict[str, float]


class SentenceVectors:
    """Embeddings of candidate sentences, batched, with a bounded cache: the same
    passages come back for related questions."""

    def __init__(self, embed: Callable[[Sequence[str]], np.ndarray], size: int = 20000) -> None:
        self._embed = embed
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size

    def __call__(self, texts: Sequence[str]) -> list[np.ndarray]:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, vector in zip(missing, self._embed(missing), strict=True):
                self._cache[text] = np.asarray(vector, dtype=np.float32)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        for t in texts:
            self._cache.move_to_end(t)
        return [self._cache[t] for t in texts]


def _coverage(weights: dict[str, float], stems: set[str], total: float) -> float:
    return sum(w for t, w in weights.items() if t in stems) / total if total > 0 else 0.0


def _fits(q: QuestionTerms, text: str) -> float:
    if q.kind == "number":
        return float(bool(_NUMBER.search(text)))
    if q.kind == "name":
        return float(any(m.group().lower() not in q.asked for m in _CAPITALISED.finditer(text)))
    return 0.0


@dataclass(frozen=True)
class Passage:
    """What the features need of a passage's text, whatever the question: its sentences, their
    content stems (alone and with their neighbours) and words."""

    lower: str
    spans: tuple[tuple[int, int], ...]
    stems: frozenset[str]  # of the whole passage
    sentence_stems: tuple[frozenset[str], ...]
    near_stems: tuple[frozenset[str], ...]  # the sentence's and its neighbours'
    near_texts: tuple[str, ...]  # the sentence and its neighbours, as words joined by spaces
    words: tuple[tuple[str, ...], ...]


@lru_cache(maxsize=512)
def read_passage(text: str) -> Passage:
    """Cached: a follow-up's two lists, and the turns of one conversation, share most passages."""
    spans = tuple(sentence_spans(text))
    stems = tuple(frozenset(content_stems(text[s:e])) for s, e in spans)
    near = tuple(frozenset().union(*stems[max(0, i - 1) : i + 2]) for i in range(len(spans)))
    near_texts = tuple(" ".join(words(" ".join(text[a:b] for a, b in spans[max(0, i - 1) : i + 2])))
                       for i in range(len(spans)))
    return Passage(text.lower(), spans, frozenset().union(*stems), stems, near, near_texts,
                   tuple(tuple(words(text[s:e])) for s, e in spans))


def candidates(
    q: QuestionTerms,
    hits: Sequence[Hit],
    question_vector: np.ndarray | None = None,
    vectors: Callable[[Sequence[str]], list[np.ndarray]] | None = None,
    read: Callable[[Sequence[str]], np.ndarray] | None = None,
    read_max: int = READ_MAX,
) -> list[Candidate]:
    """Every distinct sentence of ``hits`` with its features (see FEATURES). ``read``: the reader,
    bound to the question (sentences -> probability each answers it)."""
    if not hits:
        return []
    scores = sorted((h.score for h in hits), reverse=True)
    margin = scores[0] - (scores[1] if len(scores) > 1 else 0.0)
    docs = [h.doc_id for h in hits]
    names_total = sum(q.names.values())
    seen: set[tuple[str, int]] = set()
    rows: list[tuple[Hit, int, int, int, str, dict[str, float]]] = []
    for rank, hit in enumerate(hits):
        passage = read_passage(hit.text)
        cov_chunk = _coverage(q.weights, passage.stems, q.total)
        names_chunk = _coverage(q.names, passage.stems, names_total) if names_total else 1.0
        for (s, e), stems, near, near_text, sentence_words in zip(
            passage.spans, passage.sentence_stems, passage.near_stems, passage.near_texts, passage.words, strict=True
        ):
            start = hit.start + s
            if (hit.doc_id, start) in seen:
                continue  # the same sentence in an overlapping chunk
            seen.add((hit.doc_id, start))
            text = hit.text[s:e]
            novel = len([w for w in sentence_words if w not in q.asked and w not in STOPWORDS])
            fit = _fits(q, text)
            f = {
                "cov_sentence": _coverage(q.weights, stems, q.total),
                "cov_neighbours": _coverage(q.weights, near, q.total),
                "cov_chunk": cov_chunk,
                "names_missing_sentence": 1 - _coverage(q.names, stems, names_total) if names_total else 0.0,
                "names_missing_neighbours": 1 - _coverage(q.names, near, names_total) if names_total else 0.0,
                "names_missing_chunk": 1 - names_chunk if names_total else 0.0,
                "phrase_missing": float(any(p not in near_text for p in q.phrases)) if q.phrases else 0.0,
                "type_fit": fit,
                "type_missing": float(bool(q.kind) and not fit),
                "novel_words": min(novel, 10) / 10,
                "similarity_chunk": hit.similarity,
                "retrieval_score": hit.score,
                "retrieval_rank": 1 / (1 + rank),
                "retrieval_margin": margin,
                "doc_share": docs.count(hit.doc_id) / len(docs),
                "question_terms": min(len(q.weights), 12) / 12,
                "sentence_length": min(math.log1p(len(sentence_words)) / math.log(60), 1.5),
                "phrase_in_chunk": float(all(p in passage.lower for p in q.phrases)) if q.phrases else 1.0,
            }
            rows.append((hit, rank, start, hit.start + e, text, f))
    _add_similarities(rows, question_vector, vectors)
    _add_reader(rows, read, read_max)
    best_cov = max(f["cov_sentence"] for *_, f in rows)
    best_sim = max(f["similarity_sentence"] for *_, f in rows)
    best_read = max(f["reader"] for *_, f in rows)
    out = []
    for hit, rank, start, end, text, f in rows:
        f["cov_gap"] = best_cov - f["cov_sentence"]
        f["similarity_gap"] = best_sim - f["similarity_sentence"]
        f["reader_gap"] = best_read - f["reader"]
        out.append(Candidate(hit, rank, start, end, text, f))
    return out


def _add_similarities(
    rows: list[tuple[Hit, int, int, int, str, dict[str, float]]],
    question_vector: np.ndarray | None,
    vectors: Callable[[Sequence[str]], list[np.ndarray]] | None,
) -> None:
    """Question-sentence cosine for the lexically most promising sentences of the top passages;
    the rest get their passage's similarity (a sentence is rarely closer than its passage)."""
    for *_, f in rows:
        f["similarity_sentence"] = f["similarity_chunk"]
    if question_vector is None or vectors is None:
        return
    chosen = promising(rows)[:MAX_EMBED]
    if not chosen:
        return
    for r, v in zip(chosen, vectors([r[4] for r in chosen]), strict=True):
        r[5]["similarity_sentence"] = float(np.dot(v, question_vector))


def _add_reader(
    rows: list[tuple[Hit, int, int, int, str, dict[str, float]]],
    read: Callable[[Sequence[str]], np.ndarray] | None,
    read_max: int,
) -> None:
    """The reader's probability for the most promising sentences; 0 for the rest (and without a reader)."""
    for *_, f in rows:
        f["reader"] = 0.0
    chosen = promising(rows)[:read_max] if read is not None else []
    if chosen:
        for r, p in zip(chosen, read([r[4] for r in chosen]), strict=True):
            r[5]["reader"] = float(p)


def promising(
    rows: list[tuple[Hit, int, int, int, str, dict[str, float]]],
) -> list[tuple[Hit, int, int, int, str, dict[str, float]]]:
    """Sentences of the top EMBED_HITS passages, lexically most promising first: the ones worth
    the cost of embedding and reading."""
    return sorted((r for r in rows if r[1] < EMBED_HITS), key=lambda r: -promise(r[5]))


def promise(f: dict[str, float]) -> float:
    """How promising a sentence looks before embedding or reading it (lexical and retrieval only)."""
    return f["cov_neighbours"] + f["cov_sentence"] + 0.5 * f["retrieval_score"]


def near_duplicate(a: str, b: str, threshold: float = 0.6) -> bool:
    """Do two sentences say the same thing (syndicated copies, overlapping passages)?
    Jaccard overlap of their content words."""
    x, y = set(content_stems(a)), set(content_stems(b))
    if not x or not y:
        return a.strip() == b.strip()
    return len(x & y) / len(x | y) >= threshold
