"""Where sentences end (rag/text.py): shared by the chunker, the answerers and the verifier."""

from rag.text import sentence_spans


def test_sentences_respect_abbreviations_and_lines() -> None:
    text = 'Mr. Smith met Dr. Jones. U.S. officials said "No." Then they left!\nHeadline here'
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans == ["Mr. Smith met Dr. Jones.", 'U.S. officials said "No."', "Then they left!", "Headline here"]


def test_sentence_ends_of_other_scripts() -> None:
    text = "北京今天宣布新政策。股市上涨！会持续吗？Привет мир. Это тест. مرحبا بالعالم؟ نعم"
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans == ["北京今天宣布新政策。", "股市上涨！", "会持续吗？", "Привет мир.", "Это тест.", "مرحبا بالعالم؟",
                     "نعم"]
