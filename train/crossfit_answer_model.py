"""Would the answer model gain from twice the training questions? (Measured: no.)

The committed answer model is fitted on questions of fold 1 of the train articles only, because the
reader that scored its features was trained on fold 0 (the committed reader, trained on both folds,
must not score fold-1 features). Cross-fitting adds fold 0's questions, scored by a second reader
trained on fold 1, so every train question has reader scores from a reader that never saw its article.
This compares both parts (sentence model and decision trees, grouped 5-fold cross-validation) fitted on
fold 1 alone against fitted on both folds, evaluated on the same fold-1 questions.

Run (reader about 18 min, features about 15 min, this script 30 s):
  python train/train_reader.py --fold 1 --out /tmp/reader-fold1-int8.onnx
  for data in squad coqa; do for fold in 0 1; do   # one at a time: they share the full index's lock
    RAG_CACHE_DIR=<cache> python train/train_answer_model.py --reader-fold 0 \\
        --reader /tmp/reader-fold1-int8.onnx --collect-only $data --fold $fold; done; done
  RAG_CACHE_DIR=<cache> python train/crossfit_answer_model.py --out train/results/crossfit_answer_model.json
  # (after train/train_answer_model.py's own run, whose cached fold-1 features it reads too)
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

import train_answer_model as t  # train/, the script's own folder

from rag.answer.answer_model import load_model
from rag.answer.features import FEATURES, READ_MAX
from rag.settings import Settings

SETS = ("coqa-cnn-1000000-150", "squad-dev-v1.1-600-0")


def load(cache: Path, names: list[str]) -> list[t.Row]:
    sys.modules["__main__"].Row = t.Row  # type: ignore[attr-defined]  # the parts were pickled by that script
    return t.with_budget([r for n in names for r in pickle.loads((cache / n).read_bytes())], READ_MAX)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="also write the report (JSON) here")
    args = parser.parse_args()
    cache = Settings.from_env().cache_dir
    fold1 = load(cache, [f"answer-features-{s}-reader1-reader-fold0-int8.fold{k}.pkl" for s in SETS for k in (0, 1)])
    fold0 = load(cache, [f"answer-features-{s}-reader0-reader-fold1-int8.fold{k}.pkl" for s in SETS for k in (0, 1)])
    cols = [FEATURES.index(f) for f in load_model().features]
    text = json.dumps({"fold 1 questions only": t.evaluate(fold1, cols, 0.5, 0.04),
                       "fold 1 + fold 0 questions, evaluated on fold 1": t.evaluate(fold1 + fold0, cols, 0.5, 0.04,
                                                                                   len(fold1))}, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
