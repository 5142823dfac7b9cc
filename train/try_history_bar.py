"""Would a lower confidence bar for follow-ups read with their history win back their abstentions?

CoQA later turns abstain about 20% at the default threshold (all train stories indexed), and about half of
those answered between 0.10 and 0.22 hold the gold (docs/trust.md, "Not built yet"), so the answer model looked
under-confident on them. This measures what a lower bar for answers read with the conversation's words
(``Answer.query != question``) would cost: train stories only, half of them left out of the index (seeded),
so a follow-up about a missing story must be refused. Every turn is answered with ``min_confidence`` 0 and
each bar applied afterwards; questions read alone keep the default threshold.

Run (about a minute a seed; RAG_CACHE_DIR as for `rag eval`):
    RAG_EMBED_BACKEND=onnx python train/try_history_bar.py --out train/results/try_history_bar.json
A rerun can differ by a turn or two of a thousand (threaded sums are not bit-identical; train/README.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rag.answer.answer_model import load_model
from rag.evaluation.run import evaluate
from rag.settings import Settings

BARS = (0.22, 0.18, 0.15, 0.12, 0.10, 0.08, 0.05)


def at_bar(records: list[dict[str, Any]], bar: float, default: float) -> dict[str, float]:
    """`rag eval`'s rates if answers read with their history needed only ``bar``."""
    def answered(r: dict[str, Any]) -> bool:
        return r["confidence"] >= (bar if r["read_with_history"] else default)

    indexed = [r for r in records if r["answerable"]]
    left = [r for r in records if not r["answerable"]]
    kept = [r for r in indexed if answered(r)]
    return {"history_bar": bar,
            "abstained_on_answerable": round(1 - len(kept) / len(indexed), 4),
            "contains_gold": round(sum(r["contains_gold"] for r in kept) / len(indexed), 4),
            "answered_left_out": round(sum(map(answered, left)) / len(left), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--coqa", type=Path, default=Path("../shared/data/coqa-cnn.json"))
    parser.add_argument("--half", choices=("train", "test"), default="train")
    parser.add_argument("--leave-out", type=int, default=25, choices=range(1, 50), metavar="1-49",
                        help="stories of the half (50) kept out of the index")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    records: list[dict[str, Any]] = []
    for seed in map(int, args.seeds.split(",")):
        evaluate(args.coqa, settings=Settings.from_env(), turns="later", articles=args.half, leave_out=args.leave_out,
                 seed=seed, min_confidence=0.0, details=records, progress=False)
    default = load_model().min_confidence
    indexed = [r for r in records if r["answerable"]]
    left = [r for r in records if not r["answerable"]]
    report = {"half": args.half, "leave_out": args.leave_out, "seeds": args.seeds, "default_threshold": default,
              "turns_indexed": len(indexed), "turns_left_out": len(left),
              "read_with_history": {name: round(sum(r["read_with_history"] for r in rs) / len(rs), 4)
                                    for name, rs in (("indexed", indexed), ("left_out", left))},
              "bars": [at_bar(records, bar, default) for bar in BARS]}
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
