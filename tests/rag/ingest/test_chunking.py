import itertools
from pathlib import Path

from rag.ingest.chunking import MODEL_WINDOW, Chunker, ChunkerConfig
from rag.schema import Document
from rag.settings import Settings
from rag.text import sentence_spans


def make_chunker(max_tokens: int = 160, overlap: int = 32) -> Chunker:
    s = Settings.from_env()
    return Chunker(ChunkerConfig(max_tokens, overlap), s.resolved_model_path, s.cache_dir)


def check(doc: Document, chunker: Chunker) -> list:
    chunks = chunker.run(doc)
    assert chunks, "a non-empty document has chunks"
    for i, c in enumerate(chunks):
        assert doc.text[c.start : c.end] == c.text
        assert c.index == i
        assert c.text == c.text.strip()
    assert max(chunker.wordpieces([c.text for c in chunks])) <= MODEL_WINDOW
    return chunks


def test_chunks_cover_text_with_overlap_and_offsets() -> None:
    sentences = [f"Aldmere has {i} bridges." for i in range(80)]
    doc = Document(doc_id="d", title="t", text="Title\n\n" + " ".join(sentences))
    chunks = check(doc, make_chunker(60, 16))
    assert len(chunks) > 5
    # Consecutive chunks overlap by whole sentences, and together they cover every sentence.
    assert all(b.start < a.end for a, b in itertools.pairwise(chunks))
    for s, e in sentence_spans(doc.text):
        assert any(c.start <= s and e <= c.end for c in chunks)


def test_pathological_text_never_exceeds_model_window() -> None:
    # One sentence with no punctuation, long numbers and rare words: tiktoken counts it much
    # lower than WordPiece does, so only the model-tokenizer check keeps it inside the window.
    blob = " ".join(f"Zxqvbr{i}kq 9{i}8{i}7{i}6{i}5 ŋʘʭ{i}" for i in range(400))
    doc = Document(doc_id="d", title="t", text=blob)
    chunks = check(doc, make_chunker(160, 32))
    assert len(chunks) > 3


def test_windows_and_unicode_text(tmp_path: Path) -> None:
    text = "Überschrift\n\nDie Straße ist gesperrt. 東京で会議が開かれた。 “Quotes” — dashes…\n" * 30
    check(Document(doc_id="d", title="t", text=text), make_chunker())


# --------------------------------------------------------------------------- hostile text


def test_text_without_spaces_long_tokens_and_other_scripts() -> None:
    chunker = make_chunker()
    # Chinese without spaces or full stops: raised RecursionError before, and stopped the whole run.
    check(Document(doc_id="zh", title="t", text="中国新闻\n\n" + "北京今天宣布新的经济政策以促进增长" * 400), chunker)
    url = "https://example.org/" + "a1b2c3" * 20000  # a 120 kB token
    check(Document(doc_id="url", title="t", text=f"See {url} for details. And more."), chunker)
    check(Document(doc_id="one-line", title="t", text="word " * 40000), chunker)  # a single 200 kB line
    check(Document(doc_id="blob", title="t", text="x" * 200_000), chunker)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PIECES = st.sampled_from(["😀", "\u200b", "\u200f", "\u202e", "e\u0301", "\r\n", "\r", "\n\n", "。", "！", "? ",
                          ". ", "Mr. ", "U.S. ", "שלום ", "مرحبا ", "北京", "https://x.org/" + "q" * 300, " " * 5,
                          "\t", "1,140", "Zxqvbr9kq ", "ŋʘʭ", "\ufeff"])
TEXTS = st.lists(st.one_of(st.text(max_size=60), PIECES), min_size=1, max_size=120).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=TEXTS, budget=st.sampled_from([16, 40, 160]))
def test_property_chunks_are_exact_spans_within_the_window(text: str, budget: int) -> None:
    chunker = _chunkers.setdefault(budget, make_chunker(budget, budget // 5))
    chunks = chunker.run(Document(doc_id="d", title="t", text=text))
    assert bool(chunks) == bool(text.strip())
    for i, c in enumerate(chunks):
        assert text[c.start : c.end] == c.text and c.index == i and c.text.strip()
    if chunks:
        assert max(chunker.wordpieces([c.text for c in chunks])) <= MODEL_WINDOW
        covered = {i for c in chunks for i in range(c.start, c.end)}
        assert all(i in covered or text[i].isspace() for i in range(len(text)))  # nothing but space is lost


_chunkers: dict[int, Chunker] = {}
