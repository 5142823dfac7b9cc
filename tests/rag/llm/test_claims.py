"""One-fact changes of a source sentence are told from true restatements: pure rules, no model.

The article is invented for these tests; each changed sentence is one kind the issue lists (a person
in another's role, an invented name, another country or group as the actor, a negation, an opposite
verb, a wrong office-holder, a changed number or date).
"""

from __future__ import annotations

import pytest

from rag.llm.claims import closest_sentence, conflict, contradicts

TITLE = "Water treaty talks open in Corvale"
ARTICLE = (
    "Ministers from Arland and Belmora met in Corvale on Tuesday to discuss the water treaty. "
    "Arland's foreign minister, Lena Marsh, welcomed the draft agreement. "
    "Belmora's prime minister, Tomas Varga, said his government needed more time. "
    "The farmers' union took part in the talks, while the fishing federation stayed away. "
    "Officials said the treaty would cost 40 million euros over five years. "
    "At the signing, Varga thanked Marsh for her patience."
)


def check(claim: str):  # type: ignore[no-untyped-def]
    return conflict(claim, closest_sentence(claim, ARTICLE), ARTICLE, TITLE)


@pytest.mark.parametrize("claim", [
    "Arland's foreign minister, Lena Marsh, welcomed the draft agreement.",
    "Lena Marsh welcomed the draft agreement.",
    "Arland welcomed the draft agreement.",
    "The draft agreement was welcomed by Arland's foreign minister.",
    "The treaty would cost 40 million euros over five years, officials said.",
    "The farmers' union took part in the talks.",
    "Tomas Varga said his government needed more time.",
    "Ministers from Arland and Belmora met in Corvale on Tuesday.",
    "The talks in Corvale were about the water treaty.",
    "At the signing, Varga thanked Marsh.",
    "Marsh was thanked by Varga for her patience.",
])
def test_true_restatements_pass(claim: str) -> None:
    assert check(claim) is None


@pytest.mark.parametrize(("claim", "kind"), [
    ("Belmora's prime minister, Lena Marsh, said his government needed more time.", "name"),  # Lena: not here
    ("Arland's foreign minister, Lena Hart, welcomed the draft agreement.", "name"),
    ("Belmora welcomed the draft agreement.", "name"),  # Belmora is named in the neighbouring sentences only
    ("Arland's foreign minister did not welcome the draft agreement.", "negation"),
    ("The farmers' union boycotted the talks.", "opposite"),
    ("The fishing federation took part in the talks.", "actor"),
    ("Arland's prime minister, Lena Marsh, welcomed the draft agreement.", "role"),
    ("Officials said the treaty would cost 50 million euros over five years.", "number"),
    ("Officials said the treaty would cost 40 million euros over six years.", "number"),
    ("Ministers from Arland and Belmora met in Corvale on Wednesday.", "name"),
    ("Tomas Varga welcomed the draft agreement.", "name"),
    ("At the signing, Marsh thanked Varga for her patience.", "actor"),
    ("At the signing, Varga was thanked by Marsh for her patience.", "actor"),
    ("Tomas Varga said her government needed more time.", "pronoun"),
])
def test_one_changed_fact_is_found(claim: str, kind: str) -> None:
    found = check(claim)
    assert found is not None and found.kind == kind


def test_a_pronoun_the_context_never_uses_is_a_changed_fact() -> None:
    source = "Tomas Varga said the government needed more time."
    found = conflict("She said the government needed more time.", source, source)
    assert found is not None and found.kind == "pronoun"


def test_two_sentences_that_deny_each_other() -> None:
    assert contradicts("Lena Marsh welcomed the draft agreement.", "Lena Marsh did not welcome the draft agreement.")
    assert contradicts("Prices rose sharply in March.", "Prices fell sharply in March.")
    assert not contradicts("Lena Marsh welcomed the draft agreement.", "Tomas Varga asked for more time.")
    assert not contradicts("The talks began on Tuesday.", "The talks did not end on Tuesday evening, officials said.")


@pytest.mark.parametrize(("claim", "span", "context"), [
    ("Thomas Murphy stayed on as president.", "Thomas S. Murphy stayed on as president.", ""),
    ("The edict protected Catholics in the north.", "The edict protected Catholic interests in the north.", ""),
    ("Jeffrey MacDonald was convicted of the murders.", "Ten years later, MacDonald was convicted of the murders.",
     "Jeffrey MacDonald was a doctor. Ten years later, MacDonald was convicted of the murders."),
    ("Some pharmacies sell drugs without a prescription, which is one problem.",
     "One problem is that some pharmacies sell drugs without a prescription.", ""),
])
def test_what_a_language_model_writes_of_a_true_source_passes(claim: str, span: str, context: str) -> None:
    """Restatements seen from Qwen2.5-1.5B (bench/bench_llm.py): a middle initial left out, a plural, a first
    name the neighbouring sentence gives, the same words in another order."""
    assert conflict(claim, span, context or span) is None


def test_stayed_on_where_the_source_says_he_left_is_a_changed_fact() -> None:
    """Shown by the v2 run of bench/bench_llm.py (Qwen2.5 against SQuAD); the pair was added after it."""
    source = "Following the merger, Thomas S. Murphy left ABC, Robert Iger taking his place as president and CEO."
    found = conflict("Thomas Murphy stayed on as president and CEO of ABC.", source)
    assert found is not None and found.kind == "opposite"


@pytest.mark.parametrize(("claim", "source"), [
    ("The council bought the old depot in March.", "The council sold the old depot in March."),
    ("Exports of steel strengthened the currency.", "Exports of steel weakened the currency."),
    ("The minister said the talks had been easy.", "The minister said the talks had been difficult."),
])
def test_an_opposite_the_list_lacks_is_found_through_wordnet(claim: str, source: str) -> None:
    found = conflict(claim, source)
    assert found is not None and found.kind == "opposite"


def test_the_old_of_an_age_is_not_the_opposite_of_young() -> None:
    assert conflict("The young driver was unhurt.", "The 19-year-old driver was unhurt.") is None


def test_a_name_put_in_another_names_place_is_a_changed_fact() -> None:
    """Both names are in the span, so only where they stand tells the swap."""
    source = "Fans in Corvale cheered a concert by Arland bands."
    found = conflict("Fans in Arland cheered a concert by Corvale bands.", source)
    assert found is not None and found.kind == "name"
    assert conflict("Fans in Corvale cheered a concert by Arland bands.", source) is None
    both = "Fans in Corvale cheered, and fans in Arland cheered too."
    assert conflict("Fans in Arland cheered.", both) is None  # this name stands there too
