"""Bare encode speed of each embedding backend on real chunk texts, in one process.

    .venv/bin/python bench/bench_encode.py INDEX_DIR [--limit 400] [--batch 8] [--backend onnx ...]

Takes the first ``--limit`` chunk texts of an existing index (e.g. the BBC demo index) and
times ``Embedder.embed`` for each backend after a short warm-up; prints chunks/s and the load.
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

from rag.embedding.embedders import get_embedder
from rag.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("--limit", type=int, default=400)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--backend", action="append", default=[])
    args = parser.parse_args()
    settings = Settings.from_env()
    with sqlite3.connect(args.index_dir / "docs.sqlite") as conn:
        texts = [r[0] for r in conn.execute("SELECT text FROM chunks ORDER BY rowid LIMIT ?", (args.limit,))]
    for backend in args.backend or ["torch", "onnx", "onnx-int8"]:
        embedder = get_embedder(settings.resolved_model_path, settings.model_name, backend, settings.cache_dir,
                                args.batch)
        embedder.embed(texts[:16])
        started = time.perf_counter()
        embedder.embed(texts)
        seconds = time.perf_counter() - started
        load = Path("/proc/loadavg").read_text().split()[0]
        print(f"{backend}: {len(texts) / seconds:.1f} chunks/s ({len(texts)} chunks, batch {args.batch}, load {load})")


if __name__ == "__main__":
    main()
