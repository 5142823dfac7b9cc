"""Where the false answers on our news set come from: each question of the held-out news set
(train/generate_questions.py --half test --squad-out) split by whether it names its own subject (the
generator's rule for training files), then whether it names anything (a name or number: "Who signed the
oil deal?" stands alone but fits any oil deal; `names_subject`), and whether its article is indexed,
with how often it is answered, and how often a left-out question's answer quotes its gold text from
another article (a sibling report of the same event, counted false by `rag eval`). docs/trust.md,
section 3.

Run: RAG_EMBED_BACKEND=onnx RAG_CACHE_DIR=DIR .venv/bin/python bench/news_misses.py DIR/news-test.json \
         --out bench/results/news_misses-names.json
     (CoQA test first turns the same way: ../shared/data/coqa-cnn.json --coqa --leave-out 25
      --out bench/results/news_misses-coqa.json)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))

from generate_questions import _own_subject

from rag.evaluation.datasets import load_dataset
from rag.evaluation.run import evaluate
from rag.retrieval.rewrite import names_subject, needs_context
from rag.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("news", type=Path)
    parser.add_argument("--leave-out", type=int, default=556, help="as bench/bench_clarify.py --news-leave-out")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--coqa", action="store_true", help="the file is CoQA: its test-half first turns, "
                        "--leave-out of its stories out (25: as bench/bench_clarify.py)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    texts = {q.qid: q.text for q in load_dataset(args.news).questions}
    counts: dict[str, dict[str, int]] = {}
    for seed in args.seeds.split(","):
        details: list[dict[str, object]] = []
        scope = {"turns": "first", "articles": "test"} if args.coqa else {}
        evaluate(args.news, settings=Settings.from_env(), leave_out=args.leave_out, seed=int(seed), details=details,
                 progress=False, **scope)  # type: ignore[arg-type]
        for r in details:
            text = texts[str(r["qid"])]
            own = _own_subject({"question": text, "needs_context": needs_context(text)})
            kind = ("no subject of its own" if not own else
                    "names a name or number" if names_subject(text) else "stands alone, names nothing")
            key = kind + (", article indexed" if r["answerable"] else ", article left out")
            c = counts.setdefault(key, {"asked": 0, "answered": 0, "contains_gold": 0, "quotes_gold_text": 0})
            c["asked"] += 1
            c["answered"] += not r["abstained"]
            c["contains_gold"] += bool(r["contains_gold"])
            c["quotes_gold_text"] += bool(r["quotes_gold_text"])
    report = {"seeds": args.seeds, "leave_out": args.leave_out, "counts (all seeds)": counts,
              "rates": {k: {m: round(v / c["asked"], 4) for m, v in c.items() if m != "asked"}
                        for k, c in sorted(counts.items())}}
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
