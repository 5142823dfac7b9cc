"""Which span of the retrieved passages supports a generated sentence, if any.

A language model's sentence is kept only when some sentence (or pair of adjacent sentences) of
the retrieved chunks supports it: most of its content words occur there (lexical support), every
number it states occurs there, when an embedder is given the two mean the same thing (cosine of
their MiniLM embeddings), and no fact of it differs from the span's (claims.py: names, numbers,
dates, roles, negation, opposite words, the actor), and, when it is turned on (RAG_LEARNED_VERIFIER=1),
the learned verifier (consistency.py) judges the claim true to that span. The citation then quotes that span, so it is
exact and points where the support is, whatever passage the model named. Spans that address the
model ("ignore previous instructions…") never count as support.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..prompts import NO_ANSWER
from ..schema import Hit
from ..text import ABBREVIATIONS, content_stems, sentence_spans
from . import consistency
from .claims import Conflict, conflict

# Measured with `python train/measure_support.py --per-split 60` (train/results/measure_support.json): claims built from
# SQuAD questions + gold answers, scored against the answer's paragraph (supported) and against the article's
# other paragraphs (unsupported); chosen on half of the articles (max true-accept minus false-accept, false
# accepts <= 10%), reported on the other half: 95% of supported claims kept, 1.7% of unsupported ones
# (60 claims per half: a small sample, run on a busy machine).
MIN_LEXICAL = 0.45
MIN_SEMANTIC = 0.4
PAIR_PENALTY = 0.02  # a single sentence wins a tie with a two-sentence span that contains it
KEEP_CITED = 0.05  # the passage the model named keeps the citation when its span scores this close to the best
# Spans over both thresholds whose facts are checked, best first, before a claim is refused; only spans
# scoring within SPAN_MARGIN of the best: a weaker match elsewhere in the article holding the changed
# number is no support (bench/bench_claims.py).
SPANS_TRIED = 5
SPAN_MARGIN = 0.1

Embed = Callable[[Sequence[str]], np.ndarray]

_CITATION = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.!?]{0,60}\b(instructions?|prompts?|rules|directions)\b"
    r"|\b(system prompt|you are now|as an ai|language model|assistant\s*:|system\s*:)",
    re.I,
)
_REFUSAL = re.compile(
    r"(don'?t|do not|does not|doesn'?t|cannot|can'?t)\s+(answer|contain|say|mention|provide|include)"
    r"|not (mentioned|stated|given|in the (articles|passages))|no information",
    re.I,
)


@dataclass(frozen=True)
class Span:
    """A candidate support: ``hits[hit].text`` at document offsets ``start:end``."""

    hit: int
    start: int
    end: int
    text: str
    pair: bool = False  # two adjacent sentences


@dataclass(frozen=True)
class Verdict:
    claim: str  # the generated sentence without its citation markers
    cited: tuple[int, ...]  # passage numbers the model wrote
    span: Span | None  # the best support, when supported
    lexical: float
    semantic: float | None
    repointed: bool = False  # supported, but not by the passage the model cited (uncited sentences are not counted)
    refusal: bool = False  # the model said the passages don't answer
    candidate: Span | None = None  # the best span, supported or not (for measuring thresholds)
    conflict: Conflict | None = None  # what the best span over both thresholds says otherwise (claims.py)
    off_question: bool = False  # supported, but its span does not answer the question (the answer model's view)
    contradicts_answer: bool = False  # supported, but denies a sentence already shown in the same answer

    @property
    def supported(self) -> bool:
        return self.span is not None


def split_citations(sentence: str) -> tuple[str, tuple[int, ...]]:
    """``"X rose 5% [2]."`` -> ``("X rose 5%.", (2,))``."""
    cited = tuple(int(n) for group in _CITATION.findall(sentence) for n in re.split(r"\s*[,;]\s*", group))
    claim = " ".join(_CITATION.sub("", sentence).split())
    claim = re.sub(r"\s+([.,;:!?])", r"\1", claim).strip(" -*•")
    return claim, cited


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def candidate_spans(hits: Sequence[Hit]) -> list[Span]:
    """Every sentence of the hits, and every pair of adjacent sentences, in document offsets."""
    seen: set[tuple[str, int, int]] = set()
    spans: list[Span] = []
    for i, hit in enumerate(hits):
        sentences = sentence_spans(hit.text)
        windows = [(s, e, False) for s, e in sentences]
        windows += [(a[0], b[1], True) for a, b in itertools.pairwise(sentences)]
        for s, e, pair in windows:
            key = (hit.doc_id, hit.start + s, hit.start + e)
            text = hit.text[s:e]
            if key in seen or _INSTRUCTION.search(text):
                continue
            seen.add(key)
            spans.append(Span(i, hit.start + s, hit.start + e, text, pair))
    return spans


def lexical_support(claim: str, span: str) -> float:
    """Share of the claim's content words found in the span; 0 when the claim states a number the span lacks."""
    return _share(content_stems(claim), numbers(claim), set(content_stems(span)), numbers(span))


def _share(wanted: list[str], stated: set[str], have: set[str], found: set[str]) -> float:
    if not wanted or not stated <= found:
        return 0.0
    return sum(1 for t in wanted if t in have) / len(wanted)


def is_refusal(claim: str) -> bool:
    return claim.rstrip(".").lower() == NO_ANSWER.rstrip(".").lower() or bool(_REFUSAL.search(claim))


class Verifier:
    """Checks generated sentences against one answer's hits; the span embeddings are computed once."""

    def __init__(
        self,
        hits: Sequence[Hit],
        passages: int,
        embed: Embed | None = None,
        min_lexical: float = MIN_LEXICAL,
        min_semantic: float = MIN_SEMANTIC,
        learned: bool = False,
    ) -> None:
        self.hits = list(hits)
        self.passages = passages  # passage n (1-based) shown to the model is hits[n - 1]
        self.embed = embed
        self.min_lexical = min_lexical
        self.min_semantic = min_semantic
        self.spans = candidate_spans(self.hits)
        # The learned verifier, where its weights are installed: it catches what the rules do not list
        # (an unlisted opposite); measured in bench/bench_claims.py ("wired"). learned=False: the rules alone
        # (the default; RAG_LEARNED_VERIFIER=1 turns it on for the generating answerer).
        self.learned = consistency.get_model() if learned and consistency.MODEL_PATH.exists() else None
        self._vectors: np.ndarray | None = None
        self._words: list[tuple[set[str], set[str]]] | None = None

    def _span_words(self) -> list[tuple[set[str], set[str]]]:
        """Each span's content stems and numbers, computed once per answer rather than once per sentence."""
        if self._words is None:
            self._words = [(set(content_stems(s.text)), numbers(s.text)) for s in self.spans]
        return self._words

    def _lexical(self, claim: str) -> np.ndarray:
        """``lexical_support`` of the claim against every span."""
        wanted, stated = content_stems(claim), numbers(claim)
        return np.array([_share(wanted, stated, have, found) for have, found in self._span_words()], dtype=np.float32)

    def _span_vectors(self) -> np.ndarray:
        if self._vectors is None:
            assert self.embed is not None
            self._vectors = np.asarray(self.embed([s.text for s in self.spans]), dtype=np.float32)
        return self._vectors

    def check(self, sentence: str) -> Verdict:
        claim, cited = split_citations(sentence)
        if is_refusal(claim):
            return Verdict(claim, cited, None, 0.0, None, refusal=True)
        if not self.spans or not content_stems(claim):
            return Verdict(claim, cited, None, 0.0, None)
        lexical = self._lexical(claim)
        semantic: np.ndarray | None = None
        if self.embed is not None:
            vector = np.asarray(self.embed([claim]), dtype=np.float32)[0]
            semantic = self._span_vectors() @ vector
        pair = np.array([PAIR_PENALTY * s.pair for s in self.spans], dtype=np.float32)
        score = lexical + (semantic if semantic is not None else 0.0) - pair
        best = int(np.argmax(score))
        cited_hits = {n - 1 for n in cited if 1 <= n <= self.passages}
        own = [i for i, s in enumerate(self.spans) if s.hit in cited_hits]
        if own:  # prefer the model's own citation when it is (nearly) as good as the best
            best_own = max(own, key=lambda i: score[i])
            if score[best_own] >= score[best] - KEEP_CITED:
                best = best_own
        if self.spans[best].pair:  # the smallest support: one sentence of the pair, if it holds the whole claim
            inner = [i for i, x in enumerate(self.spans) if not x.pair and x.hit == self.spans[best].hit
                     and self.spans[best].start <= x.start and x.end <= self.spans[best].end
                     and lexical[i] >= lexical[best]]
            if inner:
                best = max(inner, key=lambda i: score[i])

        def passes(i: int) -> bool:
            return bool(lexical[i] >= self.min_lexical and (semantic is None or semantic[i] >= self.min_semantic))

        # The best span first, then the next best over both thresholds: the first whose facts agree supports.
        tried = [best] if passes(best) else []
        first = self.spans[best]
        tried += [int(i) for i in np.argsort(-score, kind="stable")
                  if int(i) != best and passes(int(i)) and score[i] >= score[best] - SPAN_MARGIN
                  and not (first.hit == self.spans[i].hit and self.spans[i].start <= first.start
                           and first.end <= self.spans[i].end)]  # a pair around a refused sentence adds nothing
        found: Conflict | None = None
        chosen = None
        for i in tried[:SPANS_TRIED]:
            why = self.conflict(claim, self.spans[i])
            if why is None and self.learned is not None:  # one model call per span the rules pass
                p = self.learned.probability(self.spans[i].text, claim)
                if p < self.learned.threshold:
                    why = Conflict("consistency", f"the learned verifier gives {p:.2f}")
            if why is None:
                chosen = i
                break
            found = found or why
        at = best if chosen is None else chosen
        lex = float(lexical[at])
        sem = float(semantic[at]) if semantic is not None else None
        span = self.spans[chosen] if chosen is not None else None
        repointed = span is not None and bool(cited_hits) and span.hit not in cited_hits  # uncited: we cite
        return Verdict(claim, cited, span, lex, sem, repointed=repointed, candidate=self.spans[at],
                       conflict=None if span is not None else found)

    def conflict(self, claim: str, span: Span) -> Conflict | None:
        """What of the claim the span does not say; names may also stand in the neighbouring sentences
        or the title."""
        hit = self.hits[span.hit]
        local = [(hit.start + s, hit.start + e) for s, e in sentence_spans(hit.text)]
        before = [s for s, e in local if e <= span.start][-1:]
        after = [e for s, e in local if s >= span.end][:1]
        start, end = (before or [span.start])[0], (after or [span.end])[0]
        context = hit.text[start - hit.start : end - hit.start]
        return conflict(claim, span.text, context, hit.title)


# --------------------------------------------------------------------------- sentences as they stream

_END = re.compile(r"[.!?…]+[\"'”’)]*(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*[.]?")


class SentenceBuffer:
    """Collects streamed text and hands out each sentence once it is complete, citations included.

    A sentence is complete when its end mark (and any ``[n]`` after it) is followed by the first
    letter of the next sentence, or by a line break; ``flush`` returns what is left at the end.
    """

    def __init__(self) -> None:
        self.text = ""

    def feed(self, delta: str) -> list[str]:
        self.text += delta
        done: list[str] = []
        while True:
            cut = self._boundary()
            if cut is None:
                return done
            sentence, self.text = self.text[:cut].strip(), self.text[cut:].lstrip()
            if sentence:
                done.append(sentence)

    def flush(self) -> list[str]:
        rest, self.text = self.text.strip(), ""
        return [line.strip() for line in rest.split("\n") if line.strip()]

    def _boundary(self) -> int | None:
        text = self.text
        newline = text.find("\n")
        for match in _END.finditer(text):
            end = match.end()
            if newline != -1 and newline < match.start():
                break
            after = text[end:]
            stripped = after.lstrip()
            if not stripped or stripped[0] == "[" or len(stripped) == len(after):
                continue  # not yet known whether a citation or more of this sentence follows
            before = text[: match.start()].rsplit(None, 1)
            word = before[-1].lower() if before else ""
            if match.group().startswith(".") and (word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())):
                continue
            if not (stripped[0].isupper() or stripped[0].isdigit() or stripped[0] in "\"'“‘("):
                continue
            return end
        if newline != -1 and text[newline + 1 :].strip():
            return newline + 1
        return None
