"""Extractive vs. language-model answers with verification, on SQuAD and CoQA turn-1 questions.

    nice -n 10 .venv/bin/python bench/bench_llm.py --answerer extractive
    nice -n 10 .venv/bin/python bench/bench_llm.py --answerer llamacpp --model smollm2-135m
    nice -n 10 .venv/bin/python bench/bench_llm.py --answerer llamacpp --model qwen2.5-coder-1.5b \\
        --answerable 30 --left-out 15
    .venv/bin/python bench/bench_llm.py --summary    # bench/results/bench_llm.json from every bench_llm-*.jsonl

Per dataset: ``--answerable`` questions (default 100) whose article is indexed, and ``--left-out``
questions (default 50) whose article is left out of the index (every answer to those is a false
answer). SQuAD: one index of 10 of its 48 articles (the answerable questions come from them); the
left-out questions come from 2 other articles. CoQA: the answerable turn-1 questions use all 100
stories; the left-out ones are the turn-1 questions of 50 stories missing from a second index.
Questions are asked SQuAD and CoQA alternately, so a run cut short still covers both. One JSON
line per question is appended to ``bench/results/bench_llm-<answerer>[-<model>].jsonl`` (a rerun skips
questions already there).
Indexes and models come from RAG_CACHE_DIR and RAG_DATA_DIR.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.api import choose_answerer, open_index, stream_with
from rag.errors import IndexLockedError
from rag.evaluation.datasets import Dataset, Question, load_dataset
from rag.evaluation.metrics import contains_any, holds_gold
from rag.evaluation.run import build_index
from rag.llm.answerer import GeneratingAnswerer, Messages
from rag.llm.verify import Verdict
from rag.prompts import MODEL_REFUSED, NOTHING_VERIFIED
from rag.retrieval.hybrid import Filters, Retriever
from rag.settings import Settings

DATA = Path(os.environ.get("RAG_BENCH_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SQUAD, COQA = DATA / "squad-dev-v1.1.json", DATA / "coqa-cnn.json"
RESULTS = Path(__file__).resolve().parent / "results"
# Notices of an answer that is the extractive one after all (the model failed, or nothing it wrote held).
FALLBACKS = ("The language model did not answer", NOTHING_VERIFIED.split("{")[0], MODEL_REFUSED)
QUIET_LOAD = 3.0  # 1-minute load average at or below which a question counts as asked on a quiet machine
SQUAD_INDEXED, SQUAD_LEFT_OUT = 10, 2  # articles: a small index, so the run fits a shared 2-core machine


def index_settings(base: Settings, dataset: Dataset, leave_out: set[str]) -> Settings:
    """An index of the dataset's articles minus ``leave_out``, built once and cached."""
    tag = hashlib.sha256("\n".join(sorted(leave_out)).encode()).hexdigest()[:10]
    root = base.cache_dir / "bench-llm" / f"{dataset.name}-{tag}"
    settings = replace(base, index_dir=root / "index", corpus_dir=root / "corpus", chroma_url="")
    kept = Dataset(dataset.name, {k: v for k, v in dataset.articles.items() if k not in leave_out})
    while True:
        try:
            build_index(settings, kept, progress=False)
            return settings
        except IndexLockedError:  # another bench run is building it
            time.sleep(10)


def sample(base: Settings, answerable: int, left_out: int) -> list[tuple[str, Question, bool, Settings]]:
    rng = random.Random(0)
    squad, coqa = load_dataset(SQUAD), load_dataset(COQA)
    out: list[list[tuple[str, Question, bool, Settings]]] = [[], [], [], []]

    # SQuAD articles are long (48 articles, 2,700 chunks): the index holds 10 of them, 2 others are left out.
    chosen = rng.sample(sorted(squad.articles), SQUAD_INDEXED + SQUAD_LEFT_OUT)
    kept, gone = set(chosen[:SQUAD_INDEXED]), set(chosen[SQUAD_INDEXED:])
    s_index = index_settings(base, squad, set(squad.articles) - kept)
    pool = [q for q in squad.questions if q.article in kept and q.answerable]
    out[0] = [("squad", q, True, s_index) for q in rng.sample(pool, min(answerable, len(pool)))]
    pool = [q for q in squad.questions if q.article in gone]
    out[2] = [("squad", q, False, s_index) for q in rng.sample(pool, min(left_out, len(pool)))]

    first = [q for q in coqa.questions if not q.history]
    c_full = index_settings(base, coqa, set())
    pool = [q for q in first if q.answerable]
    out[1] = [("coqa", q, True, c_full) for q in rng.sample(pool, min(answerable, len(pool)))]
    gone = set(rng.sample(sorted(coqa.articles), 50))
    c_part = index_settings(base, coqa, gone)
    pool = [q for q in first if q.article in gone]
    out[3] = [("coqa", q, False, c_part) for q in rng.sample(pool, min(left_out, len(pool)))]

    def alternate(a: list[Any], b: list[Any]) -> list[Any]:
        mixed = [x for pair in zip(a, b, strict=False) for x in pair]
        return mixed + a[len(b) :] + b[len(a) :]

    answerable_first, left = alternate(out[0], out[1]), alternate(out[2], out[3])
    mixed = []  # two answerable questions, then one left out: a run cut short still has both kinds
    while answerable_first or left:
        mixed += answerable_first[:2] + left[:1]
        answerable_first, left = answerable_first[2:], left[1:]
    return mixed


class TimedBackend:
    """Records when the model's first token arrived (the answerer shows only verified sentences)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.description = inner.description
        self.first: float | None = None

    def chat(self, messages: Messages, max_tokens: int, timeout: float) -> Iterator[str]:
        for n, piece in enumerate(self.inner.chat(messages, max_tokens, timeout)):
            if n == 0:
                self.first = time.perf_counter()
            yield piece


def run(args: argparse.Namespace) -> None:
    base = Settings.from_env(answerer=args.answerer, llm_model=args.model or None, llm_timeout=args.timeout)
    name = args.answerer + (f"-{args.model}" if args.model else "")
    out = RESULTS / f"bench_llm-{name}.jsonl"
    done = {json.loads(line)["qid"] for line in out.read_text().splitlines()} if out.exists() else set()
    questions = sample(base, args.answerable, args.left_out)
    print(f"{len(questions)} questions, {len(done)} done before; writing {out}", flush=True)
    for n, (dataset, q, answerable, settings) in enumerate(questions):
        if q.qid in done:
            continue
        settings = replace(settings, answerer=base.answerer, llm_model=base.llm_model, llm_timeout=base.llm_timeout)
        index = open_index(settings)
        answerer = choose_answerer(index, settings, None)
        timed = None
        verdicts: list[dict[str, Any]] = []
        if isinstance(answerer, GeneratingAnswerer):
            timed = answerer.backend = TimedBackend(answerer.backend)

            def record(v: Verdict, into: list[dict[str, Any]] = verdicts) -> None:
                into.append({
                    "claim": v.claim, "cited": list(v.cited), "lexical": v.lexical, "semantic": v.semantic,
                    "refusal": v.refusal, "supported": v.supported, "repointed": v.repointed,
                    "span": v.candidate.text if v.candidate else None,
                    "conflict": f"{v.conflict.kind}: {v.conflict.detail}" if v.conflict else None,
                    "off_question": v.off_question, "contradicts_answer": v.contradicts_answer,
                })  # fmt: skip

            answerer.on_verdict = record
        started = time.perf_counter()
        first_piece = None
        pieces = stream_with(index, Retriever(index), answerer, q.text, [], 5, Filters())
        while True:
            try:
                next(pieces)
            except StopIteration as end:
                answer = end.value
                break
            first_piece = first_piece or time.perf_counter()
        total = time.perf_counter() - started
        golds = q.answers
        precise = sum(contains_any(c.quote, golds) for c in answer.citations) if answerable else 0
        record = {
            "qid": q.qid, "dataset": dataset, "answerable": answerable, "question": q.text, "golds": list(golds),
            "answer": answer.text, "abstained": answer.abstained, "notice": answer.notice,
            "contains_gold": answerable and holds_gold(answer, golds),
            "citations": len(answer.citations), "precise_citations": precise,
            "generated": answer.generated, "removed": answer.removed, "repointed": answer.repointed,
            "fallback": answer.notice.startswith(FALLBACKS),
            "as_recorded": True,  # judged by the whole pipeline that ran (facts, relevance): never rejudged
            "first_piece_s": (first_piece - started) if first_piece and not answer.abstained else None,
            "first_token_s": (timed.first - started) if timed and timed.first else None,
            "total_s": total, "loadavg": Path("/proc/loadavg").read_text().split()[0], "verdicts": verdicts,
        }  # fmt: skip
        with out.open("a") as f:
            f.write(json.dumps(record) + "\n")
        print(f"{n + 1}/{len(questions)} {dataset} {'ans' if answerable else 'out'} {total:.1f}s "
              f"gold={record['contains_gold']} abst={answer.abstained} removed={answer.removed}/{answer.generated}",
              flush=True)


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))], 3)


def rejudge(row: dict[str, Any], min_lexical: float, min_semantic: float) -> dict[str, Any]:
    """A generated answer as it would be under these thresholds (the spans chosen do not depend on them); only
    rows written before the fact and relevance checks (runs since are taken as recorded)."""
    verdicts = [v for v in row.get("verdicts") or [] if not v["refusal"]]
    if not verdicts or row["fallback"] or row.get("as_recorded"):
        return row
    kept = [
        v for v in verdicts if v["lexical"] >= min_lexical and (v["semantic"] is None or v["semantic"] >= min_semantic)
    ]
    spans = list(dict.fromkeys(v["span"] for v in kept))
    text = " ".join(v["claim"] for v in kept)
    return {
        **row,
        "abstained": not kept,
        "contains_gold": bool(row["answerable"] and kept and contains_any(text, row["golds"])),
        "citations": len(spans),
        "precise_citations": sum(contains_any(s, row["golds"]) for s in spans) if row["answerable"] else 0,
        "generated": len(verdicts),
        "removed": len(verdicts) - len(kept),
        "repointed": sum(1 for v in kept if v["repointed"] and v["cited"]),  # an uncited sentence is not re-pointed
        "uncited": sum(1 for v in verdicts if not v["cited"]),
        "first_piece_s": row["first_piece_s"] if kept else None,
    }


def summarise() -> dict[str, Any]:
    from rag.llm.verify import MIN_LEXICAL, MIN_SEMANTIC

    report: dict[str, Any] = {"thresholds": {"min_lexical": MIN_LEXICAL, "min_semantic": MIN_SEMANTIC}}
    runs = {path.stem.removeprefix("bench_llm-"): [rejudge(json.loads(line), MIN_LEXICAL, MIN_SEMANTIC)
                                                 for line in path.read_text().splitlines() if line.strip()]
            for path in sorted(RESULTS.glob("bench_llm-*.jsonl"))}
    for name, rows in runs.items():
        for dataset in ("squad", "coqa"):
            ans = [r for r in rows if r["dataset"] == dataset and r["answerable"]]
            out = [r for r in rows if r["dataset"] == dataset and not r["answerable"]]
            cites = sum(r["citations"] for r in ans)
            generated = sum(r["generated"] for r in rows if r["dataset"] == dataset)
            # Latency over questions that got an answer written (or quoted), without each run's first question
            # (it loads the embedding model and the LLM).
            timed = [r for r in ans if r is not rows[0] and (r["first_token_s"] is not None or
                                                              (not r.get("verdicts") and not r["abstained"]))]
            firsts = [r["first_piece_s"] for r in timed if r["first_piece_s"] is not None]
            tokens = [r["first_token_s"] for r in timed if r["first_token_s"] is not None]
            totals = [r["total_s"] for r in timed]
            # The same, over questions asked while nothing else ran (the run itself keeps 2 cores busy).
            quiet = [r for r in timed if float(r["loadavg"]) <= QUIET_LOAD]
            loads = [float(r["loadavg"]) for r in rows if r["dataset"] == dataset]
            report[f"{name}/{dataset}"] = {
                "answerable_n": len(ans),
                "left_out_n": len(out),
                "contains_gold": round(sum(r["contains_gold"] for r in ans) / len(ans), 3) if ans else None,
                "abstained_answerable": round(sum(r["abstained"] for r in ans) / len(ans), 3) if ans else None,
                "citation_precision": round(sum(r["precise_citations"] for r in ans) / cites, 3) if cites else None,
                "generated_sentences": generated,
                "removed_share": round(sum(r["removed"] for r in rows if r["dataset"] == dataset) / generated, 3)
                if generated else None,
                "repointed": sum(r["repointed"] for r in rows if r["dataset"] == dataset),
                "uncited_generated": sum(r.get("uncited", 0) for r in rows if r["dataset"] == dataset),
                "false_answers": round(sum(not r["abstained"] for r in out) / len(out), 3) if out else None,
                "fallbacks": sum(r["fallback"] for r in rows if r["dataset"] == dataset),
                "first_sentence_p50_s": _pct(firsts, 50), "first_sentence_p95_s": _pct(firsts, 95),
                "first_token_p50_s": _pct(tokens, 50), "first_token_p95_s": _pct(tokens, 95),
                "full_answer_p50_s": _pct(totals, 50), "full_answer_p95_s": _pct(totals, 95),
                "quiet_n": len(quiet),
                "quiet_first_token_p50_s": _pct([r["first_token_s"] for r in quiet if r["first_token_s"]], 50),
                "quiet_first_token_p95_s": _pct([r["first_token_s"] for r in quiet if r["first_token_s"]], 95),
                "quiet_full_answer_p50_s": _pct([r["total_s"] for r in quiet], 50),
                "quiet_full_answer_p95_s": _pct([r["total_s"] for r in quiet], 95),
                "loadavg_median": round(statistics.median(loads), 2) if loads else None,
            }  # fmt: skip
            if name != "extractive" and "extractive" in runs:
                report[f"{name}/{dataset}"]["against extractive, same questions"] = paired(
                    ans + out, runs["extractive"])
    return report


def paired(rows: list[dict[str, Any]], extractive: list[dict[str, Any]]) -> dict[str, int]:
    """Question by question against the extractive run: does this answerer ever say less than the extractive
    answer (it abstains where the extractive answer was confident enough to be given, or loses its gold)?"""
    other = {r["qid"]: r for r in extractive}
    both = [(r, other[r["qid"]]) for r in rows if r["qid"] in other]
    return {
        "questions": len(both),
        "extractive answered, this abstained": sum(r["abstained"] and not e["abstained"] for r, e in both),
        "this answered, extractive abstained": sum(e["abstained"] and not r["abstained"] for r, e in both),
        "extractive held the gold, this did not": sum(e["contains_gold"] and not r["contains_gold"] for r, e in both),
        "this held the gold, extractive did not": sum(r["contains_gold"] and not e["contains_gold"] for r, e in both),
    }


def set_results(folder: Path) -> None:
    """Write and summarise in another folder (a fresh run beside the committed one)."""
    global RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    RESULTS = folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answerer", default="extractive", choices=["extractive", "llamacpp", "openai"])
    parser.add_argument("--model", default="", help="llamacpp model name (rag models list) or .gguf path")
    parser.add_argument("--answerable", type=int, default=100, help="answerable questions per dataset")
    parser.add_argument("--left-out", type=int, default=50, help="questions per dataset whose article is left out")
    parser.add_argument("--timeout", type=float, default=300.0, help="llm_timeout for the run (a busy machine)")
    parser.add_argument("--summary", action="store_true", help="summarise every bench/results/bench_llm-*.jsonl")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of the .jsonl files and the summary")
    args = parser.parse_args()
    set_results(args.results)
    if args.summary:
        report = summarise()
        (RESULTS / "bench_llm.json").write_text(json.dumps(report, indent=1) + "\n")
        print(json.dumps(report, indent=1))
        return
    run(args)


if __name__ == "__main__":
    main()
