"""Indexing benchmark on the BBC demo corpus, per embedding backend.

Measures, in one process, for each backend given with --backend (default: all three):
  * full index wall time and chunks/s, vs the bare torch encode (SentenceTransformer.encode) of the same
    chunk texts, timed before the first and after the last index run (this shared machine drifts by +-10%
    between runs; the mean of the two cancels most of it), and vs the bare encode of the backend itself
  * cosine of the backend's vectors to the torch vectors of the same chunk texts
  * peak RSS of the process (all runs together)
  * rerun on the unchanged corpus, adding one article in-process, and updating it with a `rag index` command

Each backend gets its own index folder (``<workdir>/index-<backend>``), kept with --workdir for the
cold-start benchmark (bench/bench_cold.py).

Run: .venv/bin/python bench/bench_index.py [--backend onnx --backend onnx-int8] [--articles 500]
     [--workdir DIR] [--out bench/results/bench_index.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag.embedding.embedders import BACKENDS, get_embedder
from rag.index.facade import Index, wipe
from rag.index.sync import file_key, sync
from rag.ingest.bbc_demo import import_bbc
from rag.ingest.loaders import discover, load_file
from rag.settings import Settings


def chunk_texts(index: Index, settings: Settings) -> list[str]:
    """Chunk texts of the corpus's distinct documents, as `rag index` will make them."""
    files, _ = discover([settings.corpus_dir])
    seen: set[str] = set()
    texts: list[str] = []
    for path in files:
        for doc in load_file(path, file_key(path, settings.corpus_dir), 10 * 2**20).documents:
            if doc.text.strip() not in seen:
                seen.add(doc.text.strip())
                texts.extend(c.text for c in index.chunker.run(doc))
    return texts


def keep_first(corpus: Path, articles: int) -> None:
    """A fixed subset: the first N article files in path order; the rest are deleted from the work corpus."""
    files = sorted(p for p in corpus.rglob("*") if p.is_file())
    for path in files[articles:]:
        path.unlink()


def timed_encode(settings: Settings, backend: str, texts: list[str]) -> tuple[float, np.ndarray]:
    embedder = get_embedder(settings.resolved_model_path, settings.model_name, backend, settings.cache_dir,
                            settings.batch_size)
    embedder.embed(["warm up the model"])
    t0 = time.perf_counter()
    vectors = embedder.embed(texts)
    return time.perf_counter() - t0, vectors


def loadavg() -> list[float]:
    return [float(x) for x in open("/proc/loadavg").read().split()[:3]]


def bench_backend(settings: Settings, backend: str, texts: list[str], torch_vectors: np.ndarray) -> dict:
    settings = replace(settings, index_dir=settings.index_dir.parent / f"index-{backend}", embed_backend=backend)
    wipe(settings)
    load_before = loadavg()
    encode_s, vectors = timed_encode(settings, backend, texts)
    cosine = (vectors * torch_vectors).sum(axis=1)

    t0 = time.perf_counter()
    full = sync(settings, progress=True)
    full_s = time.perf_counter() - t0

    index = Index(settings)
    assert sorted(texts) == sorted(r[0] for r in index.docs.conn.execute("SELECT text FROM chunks"))
    index.close()

    t0 = time.perf_counter()
    rerun = sync(settings)
    rerun_s = time.perf_counter() - t0

    new_article = settings.corpus_dir / "bench" / "new-article.txt"
    new_article.parent.mkdir(parents=True, exist_ok=True)
    new_article.write_text(
        "Benchmark town opens a new library\n\nThe town of Benchmark opened a three-storey library on Monday. "
        "It holds 80,000 books and a makerspace, and cost 14 million pounds, the council said.\n"
    )
    t0 = time.perf_counter()
    added = sync(settings)
    add_s = time.perf_counter() - t0

    new_article.write_text(new_article.read_text() + "\nA second article paragraph was added later.\n")
    t0 = time.perf_counter()
    cli = subprocess.run(
        [sys.executable, "-m", "rag", "index", "--json", "--index-dir", str(settings.index_dir),
         "--corpus-dir", str(settings.corpus_dir)],
        capture_output=True, text=True, check=True,
    )
    cli_s = time.perf_counter() - t0
    new_article.unlink()  # the next backend indexes the same corpus
    new_article.parent.rmdir()
    sync(settings)
    return {
        "backend": backend,
        "chunks": full.chunks_added,
        "index_seconds": round(full_s, 2),
        "chunks_per_second": round(full.chunks_added / full_s, 1),
        "bare_encode_seconds": round(encode_s, 2),
        "ratio_index_to_own_encode": round(full_s / encode_s, 3),
        "cosine_to_torch": {"mean": round(float(cosine.mean()), 4), "min": round(float(cosine.min()), 4),
                            "p5": round(float(np.percentile(cosine, 5)), 4)},
        "rerun_seconds": round(rerun_s, 3),
        "rerun_chunks_added": rerun.chunks_added,
        "add_one_article_seconds_in_process": round(add_s, 3),
        "add_one_article_docs_added": added.docs_added,
        "update_one_article_cli_seconds_incl_interpreter": round(cli_s, 2),
        "cli_report_chunks_added": json.loads(cli.stdout)["chunks_added"],
        "loadavg_before_after": [load_before, loadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", action="append", choices=list(BACKENDS), help="repeatable; default: all")
    parser.add_argument("--articles", type=int, help="index only the first N article files (a fixed subset)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--workdir", type=Path, help="keep the corpus and indexes here (default: a temp folder)")
    args = parser.parse_args()
    backends = args.backend or list(BACKENDS)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="rag-bench-"))
    settings = Settings.from_env(index_dir=work / "index", corpus_dir=work / "corpus")
    imported = import_bbc(settings.corpus_dir)
    if args.articles:
        keep_first(settings.corpus_dir, args.articles)

    probe = replace(settings, index_dir=work / "probe", embed_backend="torch")
    index = Index(probe, create=True)
    texts = chunk_texts(index, settings)
    index.close()
    torch_before_s, torch_vectors = timed_encode(probe, "torch", texts)
    print(f"{len(texts)} chunks; bare torch encode {torch_before_s:.1f} s", file=sys.stderr, flush=True)

    runs = []
    for backend in backends:
        runs.append(bench_backend(settings, backend, texts, torch_vectors))
        print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    torch_after_s, _ = timed_encode(probe, "torch", texts)
    torch_s = (torch_before_s + torch_after_s) / 2
    for run in runs:
        run["ratio_index_to_torch_encode"] = round(run["index_seconds"] / torch_s, 3)
        run["speedup_vs_torch_encode"] = round(torch_s / run["index_seconds"], 2)

    results = {
        "command": "python bench/bench_index.py " + " ".join(sys.argv[1:]),
        "cpus": os.cpu_count(),
        "articles_imported": imported.copied + imported.unchanged,
        "articles_used": args.articles or "all",
        "duplicates_left_out_at_import": imported.duplicates,
        "chunks": len(texts),
        "torch_bare_encode_seconds_before_after": [round(torch_before_s, 2), round(torch_after_s, 2)],
        "torch_bare_encode_seconds": round(torch_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "backends": runs,
    }
    print(json.dumps(results, indent=1))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
