"""What one copy per story costs and changes on a real index: search and ask latency with
``group_stories`` on and off (interleaved, same process, warm), how many result lists held two copies of
one story without it, and how many stories the index holds.

Queries: the titles of a seeded sample of the index's articles (search), and "What happened to <title>?"
(ask). Run it on an index built with stories (a fresh `rag index`, e.g. the one `scripts/run.sh` builds):

Run: .venv/bin/python bench/bench_group.py --index-dir index --corpus-dir corpus [--queries 200]
     --out bench/results/bench_group.json
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

import rag
from rag.api import open_index
from rag.settings import Settings


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--corpus-dir", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = Settings.from_env(index_dir=args.index_dir, corpus_dir=args.corpus_dir)
    index = open_index(settings)
    conn = index.docs.conn
    sizes = [n for (n,) in conn.execute("SELECT COUNT(*) FROM documents GROUP BY CASE story WHEN '' THEN doc_id "
                                        "ELSE story END")]
    titles = [t for (t,) in conn.execute("SELECT title FROM documents ORDER BY doc_id")]
    rng = random.Random(args.seed)
    sample = rng.sample(titles, min(args.queries, len(titles)))
    rag.search("warm up", 5, settings=settings)
    rag.ask("What happened to the warm up?", settings=settings)
    times: dict[str, list[float]] = {"search-grouped": [], "search-all": [], "ask-grouped": [], "ask-all": []}
    lists_with_copies = 0
    answers_citing_copies = 0
    for i, title in enumerate(sample):
        order = [True, False] if i % 2 == 0 else [False, True]
        for grouped in order:
            started = time.perf_counter()
            hits = rag.search(title, 5, settings=settings, group_stories=grouped)
            times["search-grouped" if grouped else "search-all"].append(time.perf_counter() - started)
            if not grouped:
                stories = index.docs.chunks([h.chunk_id for h in hits])
                labels = [(stories[h.chunk_id].story or h.doc_id, h.doc_id) for h in hits if h.chunk_id in stories]
                per_story: dict[str, set[str]] = {}
                for story, doc_id in labels:
                    per_story.setdefault(story, set()).add(doc_id)
                lists_with_copies += any(len(d) > 1 for d in per_story.values())
        for grouped in order:
            started = time.perf_counter()
            answer = rag.ask(f"What happened to {title}?", settings=settings, group_stories=grouped)
            times["ask-grouped" if grouped else "ask-all"].append(time.perf_counter() - started)
            if not grouped and len(answer.citations) > 1:
                cited = index.docs.chunks([h.chunk_id for h in answer.hits])
                story_of = {c.doc_id: c.story or c.doc_id for c in cited.values()}
                docs = {c.doc_id for c in answer.citations}
                answers_citing_copies += len({story_of.get(d, d) for d in docs}) < len(docs)
    result: dict[str, Any] = {
        "documents": len(titles), "chunks": index.docs.chunk_count(), "stories": len(sizes),
        "stories_with_copies": sum(1 for n in sizes if n > 1),
        "documents_in_such_stories": sum(n for n in sizes if n > 1),
        "queries": len(sample),
        "top5_lists_with_two_copies_without_grouping": lists_with_copies,
        "answers_citing_two_copies_without_grouping": answers_citing_copies,
        "latency_ms": {name: {"p50": round(1000 * statistics.median(v), 1), "p95": round(1000 * percentile(v, 0.95), 1)}
                       for name, v in times.items()},
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
