"""`rag eval` on tiny SQuAD- and CoQA-format files written here."""

import json
from dataclasses import replace

import pytest

from rag.errors import InputError
from rag.evaluation.datasets import load_dataset
from rag.evaluation.run import change_of_subject, evaluate

SQUAD = {"version": "1.1", "data": [
    {"title": "Kelvinport_Bridge", "paragraphs": [
        {"context": "The Kelvinport bridge reopened on Monday after repairs. The work cost 12 million euros.",
         "qas": [{"id": "q1", "question": "How much did the Kelvinport bridge work cost?",
                  "answers": [{"text": "12 million euros", "answer_start": 66}]}]}]},
    {"title": "Varn_Valley", "paragraphs": [
        {"context": "A late frost in April destroyed apple blossoms in the Varn valley. Cider prices rose.",
         "qas": [{"id": "q2", "question": "When did the frost hit the Varn valley?",
                  "answers": [{"text": "April", "answer_start": 15}]}]}]},
]}
COQA = {"data": [{
    "id": "s1", "story": "Mira Okonjo won the national chess title in Dorrington. She trains at the library club.",
    "questions": [{"input_text": "Who won the national chess title?", "turn_id": 1},
                  {"input_text": "Where does she train?", "turn_id": 2}],
    "answers": [{"input_text": "Mira Okonjo", "span_text": "Mira Okonjo won", "turn_id": 1},
                {"input_text": "at the library club", "span_text": "She trains at the library club", "turn_id": 2}],
}]}


@pytest.mark.slow
def test_eval_reports_all_three_retrievers_and_answers(tmp_path, settings) -> None:
    squad = tmp_path / "squad.json"
    squad.write_text(json.dumps(SQUAD))
    coqa = tmp_path / "coqa.json"
    coqa.write_text(json.dumps(COQA))
    base = replace(settings, cache_dir=tmp_path / "cache")

    alone: list[dict] = []
    report = evaluate(squad, settings=base, details=alone)
    assert not any(r["read_with_history"] for r in alone)
    assert set(report["retrieval"]) == {"dense", "bm25", "hybrid"}
    assert report["retrieval"]["hybrid"]["recall@1"] == 1.0
    answers = report["answers"]
    assert answers["contains_gold"] == 1.0 and answers["citation_precision"] >= 0.5

    followup: list[dict] = []
    later = evaluate(coqa, settings=base, turns="later", details=followup)
    assert [r["read_with_history"] for r in followup] == [True]  # "Where does she train?" needs the conversation
    assert later["questions"] == 1 and later["retrieval"]["hybrid"]["recall@1"] == 1.0
    assert load_dataset(coqa).questions[1].history == (("Who won the national chess title?", "Mira Okonjo"),)

    unanswerable = evaluate(squad, settings=base, against=coqa)
    assert "retrieval" not in unanswerable
    assert unanswerable["answers"]["unanswerable"] == 2 and unanswerable["answers"]["answerable"] == 0
    assert unanswerable["index_of"] == str(coqa)


def test_bad_dataset(tmp_path, settings) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"nope": 1}')
    with pytest.raises(InputError, match="SQuAD or CoQA"):
        evaluate(bad, settings=settings)


@pytest.mark.slow
def test_leave_out_makes_hard_negatives(tmp_path, settings) -> None:
    squad = tmp_path / "squad.json"
    squad.write_text(json.dumps(SQUAD))
    base = replace(settings, cache_dir=tmp_path / "cache")
    report = evaluate(squad, settings=base, leave_out=1, seed=0)
    assert report["articles_indexed"] == 1 and len(report["left_out"]) == 1
    answers = report["answers"]
    assert answers["answerable"] == 1 and answers["unanswerable"] == 1
    assert answers["answered_left_out"] == 0.0  # the other article does not answer it
    assert answers["abstained_on_answerable"] == 0.0

    shift = change_of_subject(squad, settings=base, limit=5)
    # Whichever reading the answer model takes (with or without the other turn's words), a change of
    # subject must not change what is found or answered.
    assert shift["pairs"] == 2 and 0.0 <= shift["history_used"] <= 1.0
    assert shift["after_other"] == shift["alone"]


def _committee(title: str, place: str, day: str, decision: str) -> dict[str, object]:
    context = f"The {place} committee met on {day}. The committee decided {decision}."
    return {"title": title, "paragraphs": [{"context": context, "qas": [
        {"id": title, "question": "What did the committee decide?",
         "answers": [{"text": decision, "answer_start": context.index(decision)}]}]}]}


@pytest.mark.slow
def test_a_question_asked_back_is_followed_to_the_story_the_user_meant(tmp_path, settings) -> None:
    """Three stories answer "What did the committee decide?": the question is asked back, its own story is
    among those offered, and asking again within that story gives the gold."""
    data = tmp_path / "committees.json"
    data.write_text(json.dumps({"version": "1.1", "data": [
        _committee("Brackwater_Buses", "Brackwater transport", "Tuesday", "to double the night bus network"),
        _committee("Varn_Parks", "Varn parks", "Monday", "to close the old boating lake"),
        _committee("Kelvinport_Schools", "Kelvinport schools", "Friday", "to build a new library")]}))
    answers = evaluate(data, settings=replace(settings, cache_dir=tmp_path / "cache"))["answers"]
    assert answers["clarified_answerable"] == 1.0 and answers["contains_gold"] == 0.0
    assert answers["clarified_offers_its_story"] == 1.0 and answers["contains_gold_after_choosing"] == 1.0
