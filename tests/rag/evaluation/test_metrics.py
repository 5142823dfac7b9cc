"""Answer scoring: SQuAD's normalisation, token F1, and what counts as holding the gold."""

from dataclasses import replace

from rag.evaluation.datasets import Question
from rag.evaluation.metrics import answer_metrics, contains_any, contains_words, holds_gold, token_f1
from rag.schema import Answer


def test_token_f1() -> None:
    assert token_f1("The 12 million euros", "12 million euros") == 1.0
    assert token_f1("nothing", "12 million euros") == 0.0


def test_a_question_back_or_refusal_never_holds_the_gold() -> None:
    """A question back lists story titles, which may hold the answer ("no" inside "does not say", too): only an
    answer given counts."""
    asked_back = Answer(text="Which story do you mean? The question does not say, and these match it: 1) Mira "
                        "Okonjo wins chess title (Ledger).", citations=[], abstained=True, hits=[])
    assert not holds_gold(asked_back, ["Mira Okonjo"]) and not holds_gold(asked_back, ["no"])
    given = replace(asked_back, text="Mira Okonjo won the national chess title. [1]", abstained=False)
    assert holds_gold(given, ["mira okonjo"]) and not holds_gold(given, ["Dorrington"])
    metrics = answer_metrics([(Question("q", "Who won?", "a", ("Mira Okonjo",), ("Mira Okonjo",)), asked_back, 0.1)])
    assert metrics["contains_gold"] == 0.0 and metrics["token_f1"] == 0.0


def test_whole_words_are_not_found_inside_longer_ones() -> None:
    assert contains_any("In the 1970s they left.", ["1970"])  # SQuAD's containment finds it inside "1970s"
    assert not contains_words("In the 1970s they left.", ["1970"])
    assert not contains_words("He did not go.", ["no"])
    assert contains_words("A polynomial-time method.", ["polynomial"])  # punctuation reads as a space
    assert contains_words("Swank’s film won.", ["Swank"]) and contains_words("U.S. troops", ["U.S."])
