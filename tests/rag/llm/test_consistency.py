"""The learned verifier (rag/llm/consistency.py) on an invented sentence none of its training data has."""

from __future__ import annotations

import pytest

from rag.llm import consistency

pytestmark = pytest.mark.slow

SPAN = "The Harwick council approved a plan to rebuild the old ferry pier, mayor Elena Brisk said on Tuesday."
TRUE = "Mayor Elena Brisk said on Tuesday that the Harwick council approved a plan to rebuild the old ferry pier."
CHANGED = {
    "negated": "The Harwick council did not approve a plan to rebuild the old ferry pier, mayor Elena Brisk said "
    "on Tuesday.",
    "opposite word": "The Harwick council rejected a plan to rebuild the old ferry pier, mayor Elena Brisk said on "
    "Tuesday.",
    "swapped name": "The Harwick council approved a plan to rebuild the old ferry pier, mayor Tomas Varga said on "
    "Tuesday.",
}


@pytest.fixture(scope="module")
def model() -> consistency.ConsistencyModel:
    return consistency.get_model()


def test_true_restatement_is_consistent(model: consistency.ConsistencyModel) -> None:
    assert model.probability(SPAN, TRUE) >= model.threshold
    assert model.consistent(SPAN, SPAN)


@pytest.mark.parametrize("kind", sorted(CHANGED))
def test_changed_fact_is_inconsistent(model: consistency.ConsistencyModel, kind: str) -> None:
    assert model.probability(SPAN, CHANGED[kind]) < model.threshold, kind


def test_one_session_per_process(model: consistency.ConsistencyModel) -> None:
    model.probability(SPAN, TRUE)
    session = model._session
    assert consistency.get_model() is model
    consistency.probability(SPAN, SPAN)
    assert model._session is session


def test_empty_input_gives_a_number(model: consistency.ConsistencyModel) -> None:
    for span, claim in (("", ""), ("", TRUE), (SPAN, "")):
        p = model.probability(span, claim)
        assert 0.0 <= p <= 1.0


def test_verifier_refuses_an_opposite_with_the_model_wired_in_and_with_the_rules_alone() -> None:
    """"old" for "new": the learned verifier, wired into Verifier.check, judges it inconsistent; since
    WordNet's antonyms joined the rules (claims.py), the rules alone refuse it too."""
    from rag.llm.verify import Verifier
    from rag.schema import Hit

    text = "The Harwick ferry company bought two new boats last spring, its chairman Elena Brisk said."
    changed = text.replace("new boats", "old boats")
    hits = [Hit("c-ferry", "ferry", "Ferry", "test", "", None, text, 0, len(text), 1.0, 0.6)]
    assert Verifier(hits, 1, learned=True).check(text + " [1]").supported
    assert not Verifier(hits, 1, learned=True).check(changed + " [1]").supported
    model = consistency.get_model()
    assert model.probability(text, changed) < model.threshold
    verdict = Verifier(hits, 1, learned=False).check(changed + " [1]")
    assert not verdict.supported
    assert verdict.conflict is not None and verdict.conflict.kind == "opposite"
