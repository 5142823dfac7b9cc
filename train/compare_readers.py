"""Compare reader recipes on train articles, from the reports of train/train_answer_model.py.

A recipe change (train/train_reader.py flags) is judged on fold 0 first: train the fold-0 reader with
the new flags, collect the answer model's features with it and fit (train_answer_model.py --reader ...
--report R.json), then compare its out-of-fold figures on fold-1 questions with the committed recipe's
report. Only a recipe that wins here is worth training on both folds; test articles are not looked at.
Collect the baseline again beside the candidate (the committed recipe's fold-0 reader under another
file name, so its cached features are not reused): collecting judges CoQA follow-ups with the committed
answer model, so an older report differs in those rows.

Run:
  python train/compare_readers.py "one epoch=/tmp/report-base.json" "2 epochs=/tmp/report-ep2.json" \
      --out train/results/compare_readers.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

FULL = "all features (out-of-fold, train articles)"
SWEEP = "threshold sweep (out-of-fold, train articles)"


def summary(report: dict) -> dict[str, object]:  # type: ignore[type-arg]
    """Selection, AUC, and each data set's rates at 0.20 (a fixed point to compare at: the threshold of the
    answer model before the lr 8e-5 reader) and at the report's own threshold."""
    full = report[FULL]
    sweep = report[SWEEP]
    return {
        "reader's best score, mean": report.get("reader's best score, mean"),
        "selection_accuracy": full["selection_accuracy"],
        "auc_right_vs_not": full["auc_right_vs_not"],
        "at 0.20": {name: rates["0.20"] for name, rates in sweep.items()},
        f"at its own threshold {full['threshold']}": {
            name: full[name] for name in sweep if name in full},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("reports", nargs="+", help="NAME=REPORT.json (train_answer_model.py --report)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    table = {}
    for item in args.reports:
        name, _, path = item.partition("=")
        table[name] = summary(json.loads(Path(path).read_text(encoding="utf-8")))
    text = json.dumps(table, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
