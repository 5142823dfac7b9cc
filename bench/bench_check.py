"""Cost of the store consistency check (``rag index --check``) as the index grows.

    .venv/bin/python bench/bench_check.py [--sizes 10000,30000,100000] [--workdir /tmp/news-rag-check] \\
        [--out bench/results/bench_check.json]

The check reads only ids (SQLite ``chunk_id``s and Chroma ids), so its cost depends on the
number of chunks, not on their text or vectors. To reach 100k chunks quickly, this builds
stores through the real ``LocalCache`` and ``VectorStore`` classes from a real text repeated
under distinct ids, with random unit vectors (the HNSW graph is built as usual, but no
model runs). Reports the check's seconds (median of 3) per size.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from rag.embedding.embedders import get_embedder
from rag.index.local_cache import LocalCache
from rag.index.sync import check_stores
from rag.schema import Chunk, Document
from rag.settings import Settings

TEXT = ("The harbour bridge reopened on Monday after six weeks of repairs, the city council said. "
        "Engineers replaced forty steel cables damaged in the March storm.")


def build(settings: Settings, size: int) -> SimpleNamespace:
    """Stores of ``size`` chunks; returned as the parts of an ``Index`` that ``check_stores`` uses."""
    from rag.index.chroma_documents import StoredDocument
    from rag.index.chroma_vectors import ChromaEmbedding, VectorStore, chroma_client

    index_dir = Path(settings.index_dir)
    index_dir.mkdir(parents=True)
    embedder = get_embedder(settings.resolved_model_path, settings.model_name, "onnx", settings.cache_dir)
    fingerprint = {**embedder.fingerprint, "chunker": "bench-check"}
    docs = LocalCache(index_dir / "docs.sqlite")
    vectors = VectorStore(chroma_client(settings), ChromaEmbedding(embedder), fingerprint, str(index_dir))
    rng = np.random.default_rng(0)
    per_doc = 5
    for lo in range(0, size, 5000):
        items = []
        for d in range(lo // per_doc, min(size, lo + 5000) // per_doc):
            doc = Document(doc_id=f"doc{d}", title=f"Story {d}", text=TEXT)
            chunks = [Chunk(Chunk.make_id(doc.doc_id, i, TEXT), doc.doc_id, i, 0, len(TEXT), TEXT)
                      for i in range(per_doc)]
            items.append((doc, chunks))
        pairs = [(doc, c) for doc, chunks in items for c in chunks]
        v = rng.normal(size=(len(pairs), embedder.dim)).astype(np.float32)
        vectors.upsert(pairs, v / np.linalg.norm(v, axis=1, keepdims=True))
        docs.apply([StoredDocument(d, c, 0.0) for d, c in items], (), store_id="bench", seq=lo)
    return SimpleNamespace(docs=docs, vectors=vectors, embedder=embedder, settings=settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,30000,100000")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/news-rag-check"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        folder = args.workdir / f"index-{size}"
        shutil.rmtree(folder, ignore_errors=True)
        settings = Settings.from_env(index_dir=folder, corpus_dir=args.workdir / "corpus")
        started = time.perf_counter()
        index = build(settings, size)
        built = time.perf_counter() - started
        runs = [check_stores(index, repair=False).seconds for _ in range(3)]  # type: ignore[arg-type]
        index.docs.close()
        row = {"chunks": size, "build_s": round(built, 1), "check_s_median": round(statistics.median(runs), 3),
               "check_s_runs": [round(r, 3) for r in runs],
               "loadavg_1min": float(Path("/proc/loadavg").read_text().split()[0])}
        print(json.dumps(row), flush=True)
        results.append(row)
    if args.out:
        args.out.write_text(json.dumps({"command": "python bench/bench_check.py --sizes " + args.sizes,
                                        "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
