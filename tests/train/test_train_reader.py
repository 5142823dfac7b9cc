"""The reader's news folds must be the answer model's (train/train_answer_model.py --news-reader-fold):
a question the fold-0 reader learned from must never be asked for the answer model's features."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "train"))

import train_reader

from rag.evaluation.datasets import load_dataset


def _news_file(tmp_path: Path) -> Path:
    data = []
    for i in range(7):
        context = f"Town {i} opened a bridge on Monday. The mayor of town {i} spoke. Rain fell later."
        answer = "Monday. The mayor" if i == 5 else "Monday"  # across two sentences: no positive, no pairs
        qas = [] if i == 3 else [{"id": f"q{i}", "question": f"When did town {i} open a bridge?",
                                  "answers": [{"text": answer, "answer_start": context.index(answer)}]}]
        data.append({"title": f"business/{i:03d}.txt", "paragraphs": [{"context": context, "qas": qas}]})
    path = tmp_path / "news-train.json"
    path.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    return path


def test_news_folds_match_the_answer_models(tmp_path: Path) -> None:
    path = _news_file(tmp_path)
    asked = sorted({q.article for q in load_dataset(path).questions})  # as train_answer_model.collect splits
    assert len(asked) == 6  # the article without questions is in no fold
    folds = [{item[0] for item in train_reader.news_items(path, k)} for k in (0, 1)]
    assert folds[0] | folds[1] == set(asked) - {f"{path.stem}/business/005.txt"}
    assert folds[0] <= set(asked[0::2]) and folds[1] <= set(asked[1::2])
    every = train_reader.news_items(path, None)
    assert len(every) == 5 and all(positive.startswith("Town") and "Monday" in positive
                                   for _, _, positive, *_ in every)


def test_a_contrast_turns_the_asked_word_into_its_opposite() -> None:
    assert train_reader.contrast("Who won the final?", "Kelvinport won the final on Sunday.") == (
        "Kelvinport lost the final on Sunday.")
    assert train_reader.contrast("How much did profits increase?", "Profits increased by 5%.") == (
        "Profits decreased by 5%.")  # WordNet's antonym with the same ending
    assert train_reader.contrast("Who heads Open Arts?", "Lena Marsh leads Open Arts.") is None  # names stay
    assert train_reader.contrast("Where was the bridge built?", "The bridge was built in Dorrington.") is None
