import itertools
from pathlib import Path

from rag.chunking import MODEL_WINDOW, Chunker, ChunkerConfig, sentence_spans
from rag.schema import Document
from rag.settings import Settings


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


def test_sentences_respect_abbreviations_and_lines() -> None:
    text = 'Mr. Smith met Dr. Jones. U.S. officials said "No." Then they left!\nHeadline here'
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans == ["Mr. Smith met Dr. Jones.", 'U.S. officials said "No."', "Then they left!", "Headline here"]


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
