"""Write docs/benchmarks.md (tables) and docs/bench-*.png (plots, log axes) from bench/results/*.json.

Inputs, each written by the benchmark it is named after:
  bench/results/bench_index.json                bench/bench_index.py   (per backend: chunks/s, ratio, cosine)
  bench/results/bench_eval_backends-<backend>.json  bench/bench_eval_backends.py (`rag eval` per backend)
  bench/results/bench_cold-<backend>.json       bench/bench_cold.py    (whole processes, median of 5)
  bench/results/bench_scale.json                bench/bench_scale.py   (1k .. 100k chunks)
  bench/results/bench_bm25.json                 bench/bench_bm25.py    (BM25 per postings budget: latency, recall)
  bench/results/bench_exact.json                bench/bench_exact.py   (dense search: exact over the cache vs. HNSW)
  bench/results/bench_server.json               bench/bench_server.py  (embedded vs. a Chroma server)

Run: .venv/bin/python bench/report.py
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
DOCS = ROOT / "docs"


def load(name: str) -> Any:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    return (f"{os.cpu_count()} CPU cores ({cpu}), {mem:.0f} GB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}; no GPU. The machine is shared with other jobs: every timing "
            "is listed with the 1-minute load average at the time (2.0 means both cores busy).")


def backend_section() -> list[str]:
    data = load("bench_index.json")
    if not data:
        return []
    lines = [
        "## Embedding backends: indexing speed and fidelity", "",
        f"`{data['command']}`: {data['chunks']} chunks of {data['articles_used']} BBC articles "
        f"(of {data['articles_imported']}), one process. Bare torch encode (sentence-transformers, batch 8) "
        f"of the same chunk texts: {data['torch_bare_encode_seconds']} s (mean of "
        f"{data['torch_bare_encode_seconds_before_after']} s, before the first and after the last index run). "
        f"Peak RSS of the whole run {data['peak_rss_mb']} MB. {data.get('note', '')}", "",
        "| backend | index s | chunks/s | speed-up vs bare torch encode | index / own bare encode | "
        "cosine to torch (mean / 5th pct / min) | one new article, cold `rag index` s | load avg |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in data["backends"]:
        c = run["cosine_to_torch"]
        lines.append(
            f"| {run['backend']} | {run['index_seconds']} | {run['chunks_per_second']} | "
            f"{run['speedup_vs_torch_encode']}x | {run['ratio_index_to_own_encode']} | "
            f"{c['mean']} / {c['p5']} / {c['min']} | {run['update_one_article_cli_seconds_incl_interpreter']} | "
            f"{run['loadavg_before_after'][0][0]}-{run['loadavg_before_after'][1][0]} |")
    return [*lines, ""]


def eval_section() -> list[str]:
    rows = []
    for backend in ("torch", "onnx", "onnx-int8"):
        data = load(f"bench_eval_backends-{backend}.json")
        if not data:
            continue
        for name, report in data["runs"].items():
            for mode in ("hybrid", "dense"):
                m = report["retrieval"][mode]
                rows.append(f"| {name} | {backend} | {mode} | {m['recall@1']:.3f} | {m['recall@5']:.3f} | "
                            f"{m['recall@10']:.3f} | {m['mrr@10']:.3f} | {report['answers']['latency_p50_ms']} |")
    if not rows:
        return []
    commands = [c for b in ("torch", "onnx", "onnx-int8") for c in (load(f"bench_eval_backends-{b}.json") or {}).get(
        "commands", [])]
    return ["## Embedding backends: retrieval quality (`rag eval`)", "",
            f"Commands: {'; '.join(f'`{c}`' for c in commands)} (one cached eval index per backend).", "",
            "| data | backend | retriever | R@1 | R@5 | R@10 | MRR@10 | ask p50 ms |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |", *sorted(rows), ""]


def cold_section() -> list[str]:
    lines = []
    for backend in ("torch", "onnx", "onnx-int8"):
        data = load(f"bench_cold-{backend}.json")
        if not data:
            continue
        if not lines:
            lines = ["## Cold start (whole processes, median of runs)", "",
                     "Wall time includes waiting for a core on this shared machine; CPU time (user + system of "
                     "the process) is what the process itself spent.", "",
                     "| backend | command | wall median s | CPU median s | runs s | load avg |",
                     "| --- | --- | --- | --- | --- | --- |"]
        for name, r in data.items():
            if isinstance(r, dict) and "median_s" in r:
                load_range = f"{min(r['loadavg_1min'])}-{max(r['loadavg_1min'])}"
                lines.append(f"| {backend} | {name} | {r['median_s']} | {r.get('median_cpu_s')} | "
                             f"{r['runs_s']} | {load_range} |")
        lines.append(f"\n`{data['command']}`\n")
    return lines


def server_section() -> list[str]:
    data = load("bench_server.json")
    if not data:
        return []
    lines = ["## Embedded store vs. a Chroma server (`chroma run` on loopback)", "",
             f"{data['articles']} BBC articles, {data['questions']} headlines asked warm; load average "
             f"{data['loadavg_start']:.1f} at the start, {data['loadavg_end']:.1f} at the end.", "",
             "| mode | index s | chunks | chunks/s | search p50 / p95 ms | ask p50 / p95 ms |",
             "| --- | --- | --- | --- | --- | --- |"]
    for mode in ("embedded", "server"):
        r = data[mode]
        lines.append(f"| {mode} | {r['index_s']} | {r['chunks']} | {r['chunks_per_s']} | "
                     f"{r['search_p50_ms']} / {r['search_p95_ms']} | {r['ask_p50_ms']} / {r['ask_p95_ms']} |")
    new = data["new_article"]
    lines += ["", f"A new article through one instance (`rag index`, a whole process: median "
              f"{new['rag_index_one_new_s_median']} s) is found by another running instance "
              f"{new['seen_by_other_instance_after_s_median']} s (median of 5, max "
              f"{new['seen_by_other_instance_after_s_max']} s) after that process ends "
              f"(`RAG_SYNC_SECONDS` = {new['sync_seconds']})."]
    if "cache_build" in data:
        c, f = data["cache_build"], data["full_server_index"]
        lines += ["", f"Whole demo corpus on the server: {f['chunks']} chunks indexed in {f['index_s']} s. A new "
                  f"instance with an empty folder builds its cache ({c['documents']} documents, {c['chunks']} "
                  f"chunks, {c['cache_mb']} MB) in {c['seconds']} s; its first cold `rag ask` takes "
                  f"{data['cold_rag_ask_server_s']} s in all."]
    return [*lines, "", "`.venv/bin/python bench/bench_server.py`", ""]


def scale_section() -> list[str]:
    data = load("bench_scale.json")
    if not data or not data["sizes"]:
        return []
    pool = data["pool"]
    lines = [
        "## Scale curve", "",
        f"`{data['command']}`, backend {data['backend']}. Real text only: a pool of {pool['articles']} real "
        f"articles = {pool['chunks']} chunks; sizes past the "
        "pool take it again as archive copies (the same article with one line \"(Archive copy k.)\" appended, a "
        "new id). " + (
            f"Vectors: those stored in indexes built earlier ({', '.join(pool['vectors_from'])}); embedding "
            f"share at {pool['embed_chunks_per_second']} chunks/s" if pool.get("vectors_from") else
            "Vectors: every pool chunk was embedded once for real "
            f"({pool['distinct_chunk_texts']} texts in {pool['embed_seconds']} s = {pool['embed_chunks_per_second']} "
            f"chunks/s, load {pool['loadavg_1min']})")
        + "; the index runs look each chunk's vector up in that table, so "
        "**index s is chunking + storing (Chroma HNSW + SQLite FTS5) + embedding only the chunks missing from the "
        "table (see the notes)**; the embedding a real "
        "run adds is shown beside it at the measured rate.", "",
        "| chunks | articles | index s (table vectors; misses embedded for real) | + embedding s (at measured rate) | "
        "chunks/s stored | "
        "peak RSS MB | disk MB | search p50/p95 ms | ask p50/p95 ms | cold `rag ask` s (CPU s) | "
        "`rag index` unchanged s (CPU s) | load avg |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in data["sizes"]:
        i, w = r["index"], r["warm"]
        lines.append(
            f"| {i['chunks']} | {r['articles']} | {i['index_seconds']} | {i['embed_seconds_at_measured_rate']} | "
            f"{i['chunks_per_second']} | {i['peak_rss_mb']} | {r['disk_mb']} | {w['search']['p50_ms']}/"
            f"{w['search']['p95_ms']} | {w['ask']['p50_ms']}/{w['ask']['p95_ms']} | {r['cold_ask']['median_s']} "
            f"({r['cold_ask'].get('median_cpu_s')}) | {r['cold_index_unchanged']['median_s']} "
            f"({r['cold_index_unchanged'].get('median_cpu_s')}) | {i['loadavg_1min']}, {w['loadavg_1min']} |")
    lines += ["", "![index time](bench-scale-index.png) ![latency](bench-scale-latency.png)", ""]
    plot_scale(data)
    return lines


def bm25_section() -> list[str]:
    data = load("bench_bm25.json")
    if not data:
        return []
    lines = ["## BM25: postings budget (`rag.index.local_cache.MAX_POSTINGS`)", "",
             "FTS5 scores every chunk holding any query term; the budget searches the rarest terms whose chunk "
             "counts add up to at most N (None: all terms). SQuAD dev questions, seeded sample; hit = a chunk of the "
             "question's article (or an archive copy of it) holding the answer.", "",
             "| chunks | budget | BM25 p50 / p95 ms | BM25 hit@5 | BM25 hit@30 | hybrid search hit@5 |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in data["results"]:
        for b in r["budgets"]:
            lines.append(f"| {r['chunks']} | {b['max_postings']} | {b['bm25_p50_ms']} / {b['bm25_p95_ms']} | "
                         f"{b['bm25_hit5']} | {b['bm25_hit30']} | {b['search_hit5']} |")
    return [*lines, "", f"`{data['command']}`", ""]


def exact_section() -> list[str]:
    data = load("bench_exact.json")
    if not data:
        return []
    lines = ["## Dense search: exact over the cached vectors vs. Chroma's HNSW (30 neighbours)", "",
             "| chunks | load vectors ms (once per process) | exact p50 / p95 ms | HNSW p50 / p95 ms | "
             "HNSW recall of the exact 30 |", "| --- | --- | --- | --- | --- |"]
    for r in data["results"]:
        e, h = r["exact"], r["chroma_hnsw"]
        lines.append(f"| {r['chunks']} | {r['load_ms']} | {e['p50_ms']} / {e['p95_ms']} | {h['p50_ms']} / "
                     f"{h['p95_ms']} | {r['hnsw_recall_at_30']} |")
    return [*lines, "", f"`{data['command']}`", ""]


def plot_scale(data: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["index"]["chunks"] for r in data["sizes"]]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.loglog(sizes, [r["index"]["index_seconds"] for r in data["sizes"]], "o-",
              label="index (table vectors; misses embedded)")
    ax.loglog(sizes, [r["index"]["embed_seconds_at_measured_rate"] for r in data["sizes"]], "s--",
              label="embedding at measured rate")
    ax.loglog(sizes, [r["cold_index_unchanged"]["median_s"] for r in data["sizes"]], "^-",
              label="`rag index`, unchanged")
    ax.loglog(sizes, [r["cold_ask"]["median_s"] for r in data["sizes"]], "v-", label="cold `rag ask`")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("seconds")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(DOCS / "bench-scale-index.png", dpi=110)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for key, marker in (("search", "o"), ("ask", "s")):
        for pct, style in (("p50_ms", "-"), ("p95_ms", "--")):
            ax.loglog(sizes, [r["warm"][key][pct] for r in data["sizes"]], marker + style, label=f"{key}() {pct[:3]}")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("milliseconds, warm")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(DOCS / "bench-scale-latency.png", dpi=110)


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    notes = (BENCH / "benchmarks-notes.md").read_text() if (BENCH / "benchmarks-notes.md").exists() else ""
    lines = ["# Benchmarks", "", "Generated by `python bench/report.py` from `bench/results/*.json`; do not edit "
             "by hand (the commentary comes from `bench/benchmarks-notes.md`).", "", f"Machine: {machine()}", "",
             *backend_section(), *eval_section(), *cold_section(), *scale_section(), *bm25_section(), *exact_section(),
             *server_section(), notes]
    (DOCS / "benchmarks.md").write_text("\n".join(lines).rstrip() + "\n")
    print(f"wrote {DOCS / 'benchmarks.md'}")


if __name__ == "__main__":
    main()
