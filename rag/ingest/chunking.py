"""Split a document into overlapping, sentence-aligned chunks.

Budgets are counted in tiktoken (cl100k) tokens; every chunk is then checked
with the embedding model's own WordPiece tokenizer so that none is silently
truncated by the model's 256-wordpiece window.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..offline import seed_tiktoken_cache
from ..schema import Chunk, Document
from ..text import sentence_spans, strip_span

# Room for [CLS] and [SEP] inside the model's 256-position window.
MODEL_WINDOW = 256
_WORDPIECE_LIMIT = MODEL_WINDOW - 2

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class ChunkerConfig:
    max_tokens: int = 160
    overlap: int = 32

    @property
    def fingerprint(self) -> str:
        return f"sentences/cl100k/{self.max_tokens}/{self.overlap}/wp{MODEL_WINDOW}"


@cache
def _tiktoken(cache_dir: str):  # type: ignore[no-untyped-def]
    import tiktoken

    seed_tiktoken_cache(Path(cache_dir))
    return tiktoken.get_encoding("cl100k_base")


@cache
def _wordpiece(model_path: str):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


class Chunker:
    """Packs sentences into chunks of at most ``max_tokens`` with ``overlap``."""

    def __init__(self, config: ChunkerConfig, model_path: str, cache_dir: Path) -> None:
        self.config = config
        self._enc = _tiktoken(str(cache_dir))
        self._wp = _wordpiece(model_path)

    def run(self, document: Document) -> list[Chunk]:
        spans = self._pack(document.text, sentence_spans(document.text), self.config.max_tokens)
        spans = self._fit_window(document.text, spans)
        return [
            Chunk(
                chunk_id=Chunk.make_id(document.doc_id, s, document.text[s:e]),
                doc_id=document.doc_id,
                index=i,
                start=s,
                end=e,
                text=document.text[s:e],
            )
            for i, (s, e) in enumerate(spans)
        ]

    def wordpieces(self, texts: Sequence[str]) -> list[int]:
        """Number of model positions each text needs, [CLS] and [SEP] included."""
        return [len(e.ids) for e in self._wp.encode_batch(list(texts))]

    def _count(self, texts: Sequence[str]) -> list[int]:
        """cl100k token counts; a plain loop, because encode_ordinary_batch starts a thread pool per call."""
        return [len(self._enc.encode_ordinary(t)) for t in texts]

    def _pack(self, text: str, sentences: list[tuple[int, int]], budget: int) -> list[tuple[int, int]]:
        units = self._split_long(text, sentences, budget)
        counts = self._count([text[s:e] for s, e in units])
        overlap = min(self.config.overlap, budget // 4)
        chunks: list[tuple[int, int]] = []
        i = 0
        while i < len(units):
            j, used = i, 0
            while j < len(units) and (j == i or used + counts[j] <= budget):
                used += counts[j]
                j += 1
            chunks.append((units[i][0], units[j - 1][1]))
            if j >= len(units):
                break
            # Start the next chunk with the trailing sentences that fit the overlap.
            k, carried = j, 0
            while k - 1 > i and carried + counts[k - 1] <= overlap:
                k -= 1
                carried += counts[k]
            i = k
        return chunks

    def _split_long(self, text: str, sentences: list[tuple[int, int]], budget: int) -> list[tuple[int, int]]:
        """Units of at most ``budget`` tokens: sentences, else their words, else pieces of a word.

        Words are cut into pieces of ``budget // 4`` characters first (a character is at most
        four tokens), so no unbroken run (a URL, base64, text without spaces) ever reaches
        the tokenizer whole; packing joins the pieces up to the budget again.
        """
        counts = self._count([text[s:e] for s, e in sentences])
        piece = max(1, budget // 4)
        units: list[tuple[int, int]] = []
        for (s, e), n in zip(sentences, counts, strict=True):
            if n <= budget:
                units.append((s, e))
                continue
            for m in _WORD.finditer(text, s, e):
                units.extend((a, min(a + piece, m.end())) for a in range(m.start(), m.end(), piece))
        return units

    def _fit_window(self, text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Halve any chunk the embedding model would truncate until every part fits.

        Iterative and always shorter: a part of one character always fits, so this ends.
        """
        fitted: list[tuple[int, int]] = []
        todo = self._measured(text, spans)[::-1]  # one batch first: almost every chunk fits
        while todo:
            s, e, n = todo.pop()
            if n <= MODEL_WINDOW or e - s <= 1:
                fitted.append((s, e))
            else:
                todo.extend(self._measured(text, _halves(text, s, e))[::-1])
        return fitted

    def _measured(self, text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
        sizes = self.wordpieces([text[s:e] for s, e in spans])
        return [(s, e, n) for (s, e), n in zip(spans, sizes, strict=True)]


def _halves(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Two non-empty, trimmed parts of ``text[start:end]``, cut at a sentence end, else at
    the space nearest the middle, else at the middle."""
    middle = (start + end) // 2
    sentences = sentence_spans(text, start, end)
    if len(sentences) > 1:
        cut = min((s for s, _ in sentences[1:]), key=lambda s: abs(s - middle))
    else:
        spaces = [m.start() for m in re.finditer(r"\s", text[start:end])]
        cut = start + min(spaces, key=lambda i: abs(start + i - middle)) if spaces else middle
        cut = cut if start < cut < end else middle
    return [part for part in (strip_span(text, start, cut), strip_span(text, cut, end)) if part[0] < part[1]]
