"""Which story? How often a first question is asked back, and what that does to false answers and
false abstentions: `rag eval` with the question back off and at several values of
``rag.answer.clarify.CLOSE`` (the share of the best story's score a second story must reach) and
``CONFIDENT`` (the extractive answer's confidence from which the question is answered anyway).

CoQA first turns, 25 of the half's 50 stories left out of the index (seeds 1-3, as docs/confidence.md):
the value is chosen on the train half and quoted on the test half. SQuAD test (1,000 questions, 12 of
24 articles left out, seed 1) checks that questions naming their subject are not affected. ``--news``
adds a held-out news set of our own (docs/trust.md, section 3), half its articles left out, same seeds:
with ``--values 0.5/0.4`` (the defaults) the three test sets of the answer model in one run. A third value
(``0.5/0.4/0.6``) sets ``NAMELESS_CONFIDENT``, the gate for first questions that name nothing.

Run: RAG_EMBED_BACKEND=onnx RAG_CACHE_DIR=DIR .venv/bin/python bench/bench_clarify.py --half train
     [--values off,0.8/0.5,0.7/0.5] [--squad] [--news DIR/news-test.json] --out bench/results/bench_clarify-train.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.answer import clarify
from rag.evaluation.run import evaluate
from rag.settings import Settings

COQA = Path("../shared/data/coqa-cnn.json")
SQUAD = Path("../shared/data/squad-dev-v1.1.json")
KEYS = ("abstained_on_answerable", "answered_left_out", "contains_gold", "clarified_answerable",
        "clarified_unanswerable", "clarified_offers_its_story", "contains_gold_after_choosing")


def run(path: Path, settings: Settings, close: float, confident: float, **kwargs: object) -> dict[str, object]:
    clarify.CLOSE, clarify.CONFIDENT = close, confident
    report = evaluate(path, settings=settings, progress=False, **kwargs)  # type: ignore[arg-type]
    return {k: report["answers"].get(k) for k in KEYS} | {"questions": report["questions"]}


def over_seeds(label: str, path: Path, settings: Settings, close: float, confident: float, seeds: str,
               **kwargs: object) -> dict[str, object]:
    """One run per seed, each measure averaged over them (printed under ``label``)."""
    rows = [run(path, settings, close, confident, seed=int(seed), **kwargs) for seed in seeds.split(",")]
    pooled = {k: round(sum(v) / len(v), 4) if v else None  # None: no seed had this measure (none asked back)
              for k in KEYS for v in [[float(r[k]) for r in rows if r[k] is not None]]}  # type: ignore[arg-type]
    print(f"{label}: " + ", ".join(f"{k} {v}" for k, v in pooled.items()))
    return {"seeds": rows, "mean": pooled}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=("train", "test"), default="train")
    parser.add_argument("--values", default="off,0.5/0.4", help="off, or CLOSE/CONFIDENT[/NAMELESS_CONFIDENT]")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--squad", action="store_true", help="also SQuAD test, 1,000 questions (off and each value)")
    parser.add_argument("--news", type=Path, help="also a held-out news set (train/generate_questions.py --half test "
                        "--squad-out), seeds as CoQA, --news-leave-out of its articles out of the index")
    parser.add_argument("--news-leave-out", type=int, default=556, help="half of the 1,113 BBC test-half articles")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = Settings.from_env()
    results: dict[str, object] = {"half": args.half, "coqa": {}, "squad": {}, "news": {}}
    for value in args.values.split(","):
        parts = [float(v) for v in value.split("/")] if value != "off" else [float("inf"), 0.0]
        close, confident = parts[:2]
        clarify.NAMELESS_CONFIDENT = parts[2] if len(parts) > 2 else None
        results["coqa"][value] = over_seeds(  # type: ignore[index]
            f"CoQA {args.half} first turns, CLOSE={value}", COQA, settings, close, confident, args.seeds,
            turns="first", articles=args.half, leave_out=25)
        if args.squad:
            squad = run(SQUAD, settings, close, confident, articles="test", leave_out=12, seed=1, limit=1000)
            results["squad"][value] = squad  # type: ignore[index]
            print(f"SQuAD test 1,000, CLOSE={value}: {squad}")
        if args.news:
            results["news"][value] = over_seeds(  # type: ignore[index]
                f"news set, CLOSE={value}", args.news, settings, close, confident, args.seeds, articles="all",
                leave_out=args.news_leave_out)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
