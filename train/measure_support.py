"""Measure the support thresholds of rag/llm/verify.py (MIN_LEXICAL, MIN_SEMANTIC).

    nice -n 10 .venv/bin/python train/measure_support.py [--per-split 150]

A claim is built from a SQuAD question and its gold answer ("<question without ?> <answer>.").
Supported case: the verifier is given the paragraph that holds the answer. Unsupported case: it is
given the other paragraphs of the same article that do not contain the answer (same topic, other
facts: the hard case a small model creates). For each case the verifier's best span gives a
lexical and a semantic support score. Thresholds are chosen on half of the articles (maximising
true-accept minus false-accept rate, false accepts at most 10%) and reported on the other half.
Writes train/results/measure_support.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.embedding.embedders import DEFAULT_BACKEND, get_embedder
from rag.llm.verify import Verifier
from rag.schema import Hit
from rag.settings import Settings

SQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "squad-dev-v1.1.json"
MAX_FALSE_ACCEPT = 0.10


def _hit(title: str, text: str, n: int) -> Hit:
    return Hit(f"{title}#{n}", title, title, "squad", "", None, text, 0, len(text), 1.0, 0.5)


def cases(articles: list[dict], limit: int, rng: random.Random) -> list[tuple[str, list[Hit], list[Hit]]]:
    """(claim, supporting hits, unsupporting hits) per sampled question."""
    found = []
    for article in articles:
        paragraphs = [p["context"] for p in article["paragraphs"]]
        for i, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]["text"].strip()
                others = [_hit(article["title"], t, j) for j, t in enumerate(paragraphs) if answer not in t]
                if answer and others:
                    claim = f"{qa['question'].strip().rstrip('?')} {answer}."
                    bad = rng.sample(others, min(3, len(others)))
                    found.append((claim, [_hit(article["title"], paragraphs[i], i)], bad))
    return rng.sample(found, min(limit, len(found)))


def scores(items: list[tuple[str, list[Hit], list[Hit]]], embed) -> list[tuple[float, float, bool]]:  # type: ignore[no-untyped-def]
    out = []
    for claim, good, bad in items:
        for hits, label in ((good, True), (bad, False)):
            verdict = Verifier(hits, len(hits), embed, min_lexical=0.0, min_semantic=-1.0).check(claim)
            out.append((verdict.lexical, verdict.semantic or 0.0, label))
    return out


def rates(rows: list[tuple[float, float, bool]], lex: float, sem: float) -> tuple[float, float]:
    pos = [r for r in rows if r[2]]
    neg = [r for r in rows if not r[2]]
    accept = [r for r in rows if r[0] >= lex and r[1] >= sem]
    return sum(r[2] for r in accept) / len(pos), sum(not r[2] for r in accept) / len(neg)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-split", type=int, default=150)
    args = parser.parse_args()
    data = json.loads(SQUAD.read_text())["data"]
    rng = random.Random(0)
    order = sorted(data, key=lambda a: a["title"])
    rng.shuffle(order)
    tune_articles, test_articles = order[::2], order[1::2]
    settings = Settings.from_env()
    embed = get_embedder(settings.resolved_model_path, settings.model_name, settings.embed_backend or DEFAULT_BACKEND,
                         settings.cache_dir, settings.batch_size).embed
    tune = scores(cases(tune_articles, args.per_split, rng), embed)
    test = scores(cases(test_articles, args.per_split, rng), embed)
    best = None
    for lex in [x / 20 for x in range(4, 19)]:
        for sem in [x / 20 for x in range(0, 17)]:
            tpr, fpr = rates(tune, lex, sem)
            if fpr <= MAX_FALSE_ACCEPT and (best is None or tpr - fpr > best[0]):
                best = (tpr - fpr, lex, sem)
    assert best is not None
    _, lex, sem = best
    report = {
        "command": f"python train/measure_support.py --per-split {args.per_split}",
        "claims_per_split": args.per_split,
        "chosen": {"min_lexical": lex, "min_semantic": sem},
        "tune": dict(zip(("true_accept", "false_accept"), rates(tune, lex, sem), strict=True)),
        "test": dict(zip(("true_accept", "false_accept"), rates(test, lex, sem), strict=True)),
        "test_lexical_only": dict(zip(("true_accept", "false_accept"), rates(test, lex, -1.0), strict=True)),
        "test_semantic_only": dict(zip(("true_accept", "false_accept"), rates(test, 0.0, sem), strict=True)),
    }
    out = Path(__file__).resolve().parent / "results" / "measure_support.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
