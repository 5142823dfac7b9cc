"""Answer scoring: SQuAD's normalisation and token F1."""

from rag.evaluation.metrics import token_f1


def test_token_f1() -> None:
    assert token_f1("The 12 million euros", "12 million euros") == 1.0
    assert token_f1("nothing", "12 million euros") == 0.0
