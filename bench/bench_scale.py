"""Scale curve: indexes of 1k, 10k, 30k and 100k chunks, timed end to end with the real pipeline.

How the corpus grows (real text only, no random strings):
  * the pool is every real article at hand: the 2,127 BBC demo articles, the SQuAD dev articles and the
    CoQA CNN stories (``--squad``/``--coqa``), about 12k chunks in all;
  * a size takes whole pool articles in order until it has enough chunks; past the pool's end it takes
    the pool again as "archive copies": the same article text with one line "(Archive copy k.)" appended
    (so it is a new document, not a duplicate) under a new id.
  * vectors: every pool chunk is embedded once with the real backend (``--backend``, timed: that is the
    embedding rate reported); during the index runs the embedder looks each chunk text up in that table
    (copy chunks with the appended line removed) and embeds only misses for real. So "index seconds"
    is chunking + storing (Chroma HNSW + SQLite FTS5) + lookups, and the embedding share of a real run
    is reported separately as chunks / measured chunks/s.

Per size, each in a fresh process: index wall time, chunks/s, peak RSS, size on disk; warm ``search()``
and ``ask()`` p50/p95 over 200 SQuAD dev questions; cold `rag ask` and `rag index` on the unchanged
index (median of 3 whole processes). Writes bench/results/bench_scale.json; bench/report.py renders it.

With --pool-from INDEX (repeatable) the pool and its vectors come from indexes already built with the
backend (bench_index.py's BBC index, the `rag eval` indexes) instead of embedding the pool again.

Run: .venv/bin/python bench/bench_scale.py --workdir /tmp/scale [--sizes 1000,10000,30000,100000]
     [--pool-from DIR ...] [--backend onnx]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SQUAD = Path("/work/shared/data/squad-dev-v1.1.json")
COQA = Path("/work/shared/data/coqa-cnn.json")
COPY = re.compile(r"\n\n\(Archive copy \d+\.\)$")


def loadavg() -> float:
    return float(open("/proc/loadavg").read().split()[0])


def pool_records(squad: Path, coqa: Path) -> list[dict[str, str]]:
    """Every real article: BBC demo files, then SQuAD dev articles, then CoQA stories."""
    from rag.evaluation.datasets import load_dataset
    from rag.ingest.bbc_demo import bbc_data_dir

    records = []
    for path in sorted(bbc_data_dir().rglob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n").strip()
        title = text.split("\n", 1)[0]
        records.append({"id": f"bbc/{path.parent.name}/{path.name}", "title": title, "text": text, "source": "bbc"})
    for data in (squad, coqa):
        if data.exists():
            ds = load_dataset(data)
            records += [{"id": i, "title": t, "text": x, "source": ds.name} for i, (t, x) in ds.articles.items()]
    return records


def cmd_pool_from(args: argparse.Namespace) -> None:
    """The pool and its vector table from indexes already built with the backend (no embedding here).

    Used when embedding the whole pool again is too slow on a busy machine: the documents of the given
    indexes (e.g. bench_index.py's BBC index and the `rag eval` SQuAD/CoQA indexes) are the pool, and
    their stored vectors are the table. The embedding rate is the bare encode rate of bench_index.py.
    """
    from rag.index.chroma_vectors import COLLECTION, chroma_client
    from rag.index.local_cache import LocalCache
    from rag.settings import Settings

    work: Path = args.workdir
    records: list[dict[str, str]] = []
    texts: list[str] = []
    rows: list[np.ndarray] = []
    counts: dict[str, int] = {}
    seen: set[str] = set()
    for index_dir in args.pool_from:
        docs = LocalCache(index_dir / "docs.sqlite")
        for doc_id in sorted(docs.hashes()):
            doc = docs.document(doc_id)
            records.append({"id": doc.doc_id, "title": doc.title, "text": doc.text, "source": doc.source or "pool"})
            counts[doc.doc_id] = len(docs.chunk_ids(doc_id))
        docs.close()
        client = chroma_client(Settings.from_env(index_dir=index_dir))
        got = client.get_collection(COLLECTION).get(include=["documents", "embeddings"])
        for text, vector in zip(got["documents"], got["embeddings"], strict=True):
            if text not in seen:
                seen.add(text)
                texts.append(text)
                rows.append(np.asarray(vector, dtype=np.float32))
    (work / "pool.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                                     encoding="utf-8")
    np.save(work / "pool-vectors.npy", np.vstack(rows))
    (work / "pool-texts.json").write_text(json.dumps(texts, ensure_ascii=False))
    meta = {"articles": len(records), "chunks": sum(counts.values()), "distinct_chunk_texts": len(texts),
            "embed_seconds": None, "embed_chunks_per_second": args.embed_rate, "loadavg_1min": loadavg(),
            "vectors_from": [str(p) for p in args.pool_from], "chunks_per_article": counts, "backend": args.backend}
    (work / "pool.json").write_text(json.dumps(meta))
    print(json.dumps({k: v for k, v in meta.items() if k != "chunks_per_article"}))


def cmd_pool(args: argparse.Namespace) -> None:
    """Chunk the pool with the real chunker and embed every chunk once: the vector table."""
    from rag.index.facade import Index
    from rag.index.sync import sync  # noqa: F401  (imports the package the same way the index runs do)
    from rag.ingest.loaders import load_file
    from rag.settings import Settings

    work: Path = args.workdir
    pool = work / "pool.jsonl"
    records = pool_records(args.squad, args.coqa)[: args.pool_limit]
    pool.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    settings = Settings.from_env(index_dir=work / "pool-index", corpus_dir=work, embed_backend=args.backend)
    index = Index(settings, create=True)
    docs = load_file(pool, "pool.jsonl", 2**31).documents
    seen: set[str] = set()
    texts: list[str] = []
    counts: dict[str, int] = {}
    for doc in docs:
        chunks = index.chunker.run(doc)
        counts[doc.doc_id] = len(chunks)
        for c in chunks:
            if c.text not in seen:
                seen.add(c.text)
                texts.append(c.text)
    index.embedder.embed(["warm up"])
    load = loadavg()
    t0 = time.perf_counter()
    vectors = index.embedder.embed(texts)
    seconds = time.perf_counter() - t0
    np.save(work / "pool-vectors.npy", vectors.astype(np.float32))
    (work / "pool-texts.json").write_text(json.dumps(texts, ensure_ascii=False))
    meta = {"articles": len(docs), "chunks": sum(counts.values()), "distinct_chunk_texts": len(texts),
            "embed_seconds": round(seconds, 1), "embed_chunks_per_second": round(len(texts) / seconds, 1),
            "loadavg_1min": load, "chunks_per_article": counts, "backend": args.backend}
    (work / "pool.json").write_text(json.dumps(meta))
    print(json.dumps({k: v for k, v in meta.items() if k != "chunks_per_article"}))


def write_corpus(work: Path, size: int) -> tuple[Path, int, int]:
    """The corpus folder for ``size`` chunks, written as JSONL files of 1,000 records, streamed."""
    meta = json.loads((work / "pool.json").read_text())
    counts: dict[str, int] = meta["chunks_per_article"]
    records = [json.loads(line) for line in (work / "pool.jsonl").read_text(encoding="utf-8").splitlines()]
    corpus = work / f"corpus-{size}"
    corpus.mkdir(parents=True, exist_ok=True)
    total, copies, n, part = 0, 0, 0, None
    handle = None
    while total < size:
        for record in records:
            if total >= size:
                break
            if n % 1000 == 0:
                if handle:
                    handle.close()
                part = corpus / f"part-{n // 1000:04d}.jsonl"
                handle = open(part, "w", encoding="utf-8")  # noqa: SIM115 - one file per 1,000 records
            if copies:
                record = {**record, "id": f"{record['id']}#copy{copies}",
                          "text": record["text"] + f"\n\n(Archive copy {copies}.)"}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            total += counts.get(record["id"].split("#copy")[0], 1)
            n += 1
        copies += 1
    if handle:
        handle.close()
    return corpus, n, copies - 1


def cmd_index(args: argparse.Namespace) -> None:
    """Child process: index one size with table lookups for the vectors; prints one JSON line."""
    from rag.embedding import embedders
    from rag.index.sync import sync
    from rag.settings import Settings

    work: Path = args.workdir
    texts = json.loads((work / "pool-texts.json").read_text())
    vectors = np.load(work / "pool-vectors.npy")
    table = {t: i for i, t in enumerate(texts)}
    settings = Settings.from_env(index_dir=work / f"index-{args.size}", corpus_dir=work / f"corpus-{args.size}",
                                 embed_backend=args.backend)
    base = embedders.BACKENDS[args.backend]
    misses: list[int] = []

    class TableEmbedder(base):  # type: ignore[misc, valid-type]
        """The real backend's vectors of the same chunk texts, looked up; misses embedded for real."""

        def _encode(self, batch: list[str]) -> np.ndarray:
            rows = [table.get(t, table.get(COPY.sub("", t), -1)) for t in batch]
            out = np.empty((len(batch), vectors.shape[1]), dtype=np.float32)
            missing = [i for i, r in enumerate(rows) if r < 0]
            for i, r in enumerate(rows):
                if r >= 0:
                    out[i] = vectors[r]
            if missing:
                out[missing] = super()._encode([batch[i] for i in missing])
                misses.append(len(missing))
            return out

    key = (settings.resolved_model_path, settings.model_name, args.backend, str(settings.cache_dir))
    embedders._shared[key] = TableEmbedder(key[0], key[1], settings.cache_dir, settings.batch_size)
    load = loadavg()
    t0 = time.perf_counter()
    report = sync(settings, progress=False)
    seconds = time.perf_counter() - t0
    print(json.dumps({"index_seconds": round(seconds, 2), "chunks": report.chunks_total, "docs": report.docs_added,
                      "chunks_per_second": round(report.chunks_total / seconds, 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "table_mb": round((vectors.nbytes + sum(map(len, texts))) / 2**20, 1),
                      "chunks_embedded_for_real": sum(misses), "loadavg_1min": load}))


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1)}


def cmd_query(args: argparse.Namespace) -> None:
    """Child process: warm search() and ask() latency over real questions; prints one JSON line."""
    import rag
    from rag.evaluation.datasets import load_dataset
    from rag.settings import Settings

    settings = Settings.from_env(index_dir=args.workdir / f"index-{args.size}",
                                 corpus_dir=args.workdir / f"corpus-{args.size}")
    questions = [q.text for q in load_dataset(args.squad).questions[: args.questions]]
    rag.ask("warm up the index", settings=settings)
    load = loadavg()
    timings: dict[str, list[float]] = {"search": [], "ask": []}
    embedder = rag.api.open_index(settings).embedder
    for q in questions:
        for name, call in (("search", rag.search), ("ask", rag.ask)):
            type(embedder)._cached_query.cache_clear()  # both calls embed the question, as a new one would
            t0 = time.perf_counter()
            call(q, settings=settings)
            timings[name].append(time.perf_counter() - t0)
    print(json.dumps({"search": percentiles(timings["search"]), "ask": percentiles(timings["ask"]),
                      "questions": len(questions), "loadavg_1min": load}))


def child(args: argparse.Namespace, *extra: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, *extra, "--workdir", str(args.workdir), "--backend", args.backend,
           "--squad", str(args.squad), "--coqa", str(args.coqa)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def cold(args: argparse.Namespace, size: int, command: list[str], runs: int = 3) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAG_INDEX_DIR": str(args.workdir / f"index-{size}"),
           "RAG_CORPUS_DIR": str(args.workdir / f"corpus-{size}")}
    samples, cpu, loads = [], [], []
    for _ in range(runs):
        loads.append(loadavg())
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "rag", *command], env=env, capture_output=True, check=True)
        samples.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {"median_s": round(statistics.median(samples), 2), "runs_s": [round(s, 2) for s in samples],
            "median_cpu_s": round(statistics.median(cpu), 2), "loadavg_1min": loads}


def du_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", nargs="?", default="all", choices=["all", "pool", "index", "query"])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--sizes", default="1000,10000,30000,100000")
    parser.add_argument("--size", type=int)
    parser.add_argument("--backend", default="onnx")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--pool-limit", type=int, help="use only the first N pool articles (a quick trial)")
    parser.add_argument("--embed-rate", type=float, default=33.6 * 1.7,
                        help="chunks/s to report the embedding share at, with --pool-from (default: the README's "
                        "quiet-machine torch index rate x the measured onnx speed-up 1.7)")
    parser.add_argument("--pool-from", type=Path, action="append",
                        help="take the pool and its vectors from this existing index (repeatable)")
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--coqa", type=Path, default=COQA)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "bench_scale.json")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.mode == "pool":
        return cmd_pool(args)
    if args.mode == "index":
        return cmd_index(args)
    if args.mode == "query":
        return cmd_query(args)

    if args.pool_from and not (args.workdir / "pool.json").exists():
        cmd_pool_from(args)
    if not (args.workdir / "pool.json").exists():
        limit = ["--pool-limit", str(args.pool_limit)] if args.pool_limit else []
        subprocess.run([sys.executable, __file__, "pool", "--workdir", str(args.workdir), "--backend", args.backend,
                        "--squad", str(args.squad), "--coqa", str(args.coqa), *limit],
                       check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    pool = json.loads((args.workdir / "pool.json").read_text())
    pool.pop("chunks_per_article")
    results: dict[str, Any] = {"command": "python bench/bench_scale.py " + " ".join(sys.argv[1:]),
                               "cpus": os.cpu_count(), "backend": args.backend, "pool": pool, "sizes": []}
    if args.out.exists():  # keep sizes measured by an earlier run
        old = json.loads(args.out.read_text())
        if old.get("backend") == args.backend:
            results["sizes"] = old.get("sizes", [])
    for size in [int(s) for s in args.sizes.split(",")]:
        corpus, articles, copies = write_corpus(args.workdir, size)
        row: dict[str, Any] = {"target_chunks": size, "articles": articles, "archive_copies_of_pool": copies}
        row["index"] = child(args, "index", "--size", str(size))
        row["index"]["embed_seconds_at_measured_rate"] = round(
            row["index"]["chunks"] / pool["embed_chunks_per_second"], 1)
        row["disk_mb"] = du_mb(args.workdir / f"index-{size}")
        row["corpus_mb"] = du_mb(corpus)
        row["warm"] = child(args, "query", "--size", str(size), "--questions", str(args.questions))
        row["cold_ask"] = cold(args, size, ["ask", "Who won the Australian Open?"])
        row["cold_index_unchanged"] = cold(args, size, ["index"])
        print(json.dumps(row), file=sys.stderr, flush=True)
        results["sizes"] = [r for r in results["sizes"] if r["target_chunks"] != size] + [row]
        results["sizes"].sort(key=lambda r: r["target_chunks"])
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
