"""News-domain training questions, written by the packaged local model about train-half articles.

Why: the reader and the answer model learned from Wikipedia-style questions (SQuAD) and 50 CoQA
stories, and answer news questions whose article is not indexed too often (docs/trust.md, section 2).
This script makes the news questions that retraining needs: for each chosen paragraph of a train-half
article (BBC demo articles, CoQA CNN stories; ``split_articles``, so no test article is ever used), the
model is asked for questions that name their subject, each with an answer copied from the paragraph
(``--half test`` instead makes a news set to measure on, from test-half articles only).
An answer is located in the article ("exact": its words as written; "sentence": the sentence holding
most of its content words, at least ``MIN_OVERLAP``); a question whose answer cannot be found is
dropped. ``needs_context`` records whether the project's own rule (rag.retrieval.rewrite) finds the
question subject-less, as CoQA's "What happened?".

Resumable and meant for the background: one JSON line per paragraph is appended to ``--out`` as it
is done, and a rerun skips paragraphs already there. ``--gpu-layers 99`` runs the model on a lent GPU
(llama.cpp through xllamacpp); on 2 CPU cores Qwen2.5-1.5B writes about one paragraph's questions in
10-15 s (shared/design/trust-notes.md).

    .venv/bin/python train/generate_questions.py --source bbc --out ~/.cache/news-rag/news-questions.jsonl
    .venv/bin/python train/generate_questions.py --source coqa --coqa ../shared/data/coqa-cnn.json --out ...
    .venv/bin/python train/generate_questions.py --summary --out ...   # counts, located shares, speed
    .venv/bin/python train/generate_questions.py --half test --out Q.jsonl --squad-out news-test.json
        # a held-out news set to measure on (test-half articles): rag eval news-test.json --leave-out N

Nothing it writes is committed: the file quotes the articles.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.evaluation.datasets import article_pool, load_dataset, split_articles
from rag.ingest.bbc_demo import bbc_documents
from rag.llm.backends import LlamaCppBackend
from rag.llm.gguf_models import resolve
from rag.retrieval.rewrite import needs_context
from rag.settings import Settings
from rag.text import content_stems, sentence_spans

MIN_OVERLAP = 0.6  # share of an answer's content words its sentence must hold, when not copied exactly
PARAGRAPH_WORDS = (60, 180)  # a paragraph is merged up to the first and cut at the second
PROMPT = (
    "Article: {title}\n\nParagraph:\n{paragraph}\n\n"
    "Write {n} questions that a news reader might ask and that this paragraph answers. Each question must "
    "name its subject (a person, organisation, place or event by name), so that it makes sense without the "
    "article. After each question, copy the shortest answer from the paragraph, word for word.\n"
    "Use exactly this form:\nQ: ...\nA: ...\n"
)
_META = re.compile(r"\b(?:article|paragraph|passage|text|this)\b", re.IGNORECASE)  # about the page, not the news
_PAIR = re.compile(r"^\s*Q\d*[:.]\s*(?P<q>.+?)\s*\n\s*A\d*[:.]\s*(?P<a>.+?)\s*$", re.MULTILINE)


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Blank-line paragraphs, merged until they hold PARAGRAPH_WORDS[0] words, cut at sentence ends
    past PARAGRAPH_WORDS[1]."""
    out: list[tuple[int, int]] = []
    start = None
    for block in re.finditer(r"\S(?:.*?\S)?(?=\n\s*\n|\s*$)", text, re.DOTALL):
        start = block.start() if start is None else start
        if len(text[start : block.end()].split()) >= PARAGRAPH_WORDS[0]:
            out.extend(_cut(text, start, block.end()))
            start = None
    return out


def _cut(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    begin = start
    for _, e in sentence_spans(text, start, end):
        if len(text[begin:e].split()) >= PARAGRAPH_WORDS[1]:
            yield begin, e
            begin = next((i for i in range(e, end) if not text[i].isspace()), end)
    if begin < end and len(text[begin:end].split()) >= PARAGRAPH_WORDS[0] // 2:
        yield begin, end


def locate(answer: str, text: str, start: int, end: int) -> tuple[str, int, int] | None:
    """Where the answer is in ``text[start:end]``: ("exact", s, e), ("sentence", s, e), or None."""
    at = text.lower().find(answer.lower().strip(" .\"'"), start, end)
    if at >= 0 and answer.strip(" .\"'"):
        return "exact", at, at + len(answer.strip(" .\"'"))
    wanted = set(content_stems(answer))
    if not wanted:
        return None
    best = max(sentence_spans(text, start, end), key=lambda se: len(wanted & set(content_stems(text[se[0] : se[1]]))))
    share = len(wanted & set(content_stems(text[best[0] : best[1]]))) / len(wanted)
    return ("sentence", *best) if share >= MIN_OVERLAP else None


def articles(source: str, coqa: Path, half: str = "train") -> list[tuple[str, str, str]]:
    """(doc_id, title, text) of the source's articles of one half, in a seeded order."""
    if source == "bbc":
        docs = {doc_id: (d.title, d.text) for doc_id, d in bbc_documents().items()}
        train, test = split_articles(list(docs))
        chosen = train if half == "train" else test
    else:
        dataset = load_dataset(coqa)
        docs = dict(dataset.articles)
        chosen = article_pool(dataset, half)
    random.Random(0).shuffle(chosen)
    return [(doc_id, *docs[doc_id]) for doc_id in chosen]


def run(args: argparse.Namespace) -> None:
    done = {(r["doc_id"], r["paragraph"][0]) for r in _records(args.out)}
    settings = Settings.from_env()
    backend = LlamaCppBackend(resolve(args.model, settings), threads=args.threads, gpu_layers=args.gpu_layers)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    for doc_id, title, text in articles(args.source, args.coqa, args.half)[: args.articles]:
        spans = paragraphs(text)
        for start, end in spans[:: max(1, len(spans) // args.per_article)][: args.per_article]:
            if (doc_id, start) in done:
                continue
            began = time.perf_counter()
            prompt = PROMPT.format(title=title, paragraph=text[start:end], n=args.questions)
            reply = "".join(backend.chat([{"role": "user", "content": prompt}], 300, args.timeout))
            questions = []
            for match in _PAIR.finditer(reply):
                found = locate(match["a"], text, start, end)
                if found:
                    kind, s, e = found
                    questions.append({"question": match["q"], "answer": match["a"], "located": kind, "span": [s, e],
                                      "needs_context": needs_context(match["q"])})
            record = {"source": args.source, "doc_id": doc_id, "title": title, "paragraph": [start, end],
                      "model": args.model, "written": len(_PAIR.findall(reply)), "questions": questions,
                      "seconds": round(time.perf_counter() - began, 2)}
            with args.out.open("a", encoding="utf-8") as out:
                out.write(json.dumps(record) + "\n")
            written += 1
            print(f"{written} {doc_id}: {len(questions)}/{record['written']} kept, {record['seconds']} s", flush=True)


def _records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def summary(path: Path) -> dict:
    records = _records(path)
    questions = [q for r in records for q in r["questions"]]
    seconds = sorted(r["seconds"] for r in records)
    return {
        "paragraphs": len(records),
        "articles": len({r["doc_id"] for r in records}),
        "written": sum(r["written"] for r in records),
        "kept": len(questions),
        "located_exact": sum(q["located"] == "exact" for q in questions),
        "located_sentence": sum(q["located"] == "sentence" for q in questions),
        "needs_context": sum(q["needs_context"] for q in questions),
        "echoes_question": sum(_echoes(q) for q in questions),
        "seconds_per_paragraph_p50": seconds[len(seconds) // 2] if seconds else None,
        "questions_per_hour": round(3600 * len(questions) / sum(seconds)) if seconds else None,
    }


def _echoes(question: dict) -> bool:
    """An answer the question already holds ("Who is Marion Jones?" -> "Marion Jones"): no test of anything."""
    return " ".join(content_stems(question["answer"])) in " ".join(content_stems(question["question"]))


def _own_subject(question: dict) -> bool:
    """Does the question name what it asks about? Not so: "What is the main idea of the paragraph?",
    "Who is the plaintiff in this case?", or a subject-less one by the project's rule (needs_context)."""
    return not (question["needs_context"] or _META.search(question["question"]))


def squad_file(records: list[dict], source: str, coqa: Path, half: str, every: bool = False) -> dict:
    """A SQuAD v1 file for ``rag eval`` (``rag.evaluation.run.evaluate``): every article of the half as a
    context (those without questions stay in the index as distractors), with the questions whose answer
    was found as written and is not already in the question. Training questions (train half) must also
    name their own subject: one that does not is no answerable question when its article is indexed
    (the product asks back or abstains), so it would teach the answer model to answer it. A test set
    keeps them, as users ask them, and so does ``every`` (a train-half set to choose constants on)."""
    asked: dict[str, list[dict]] = {}
    for r in records:
        for i, q in enumerate(r["questions"]):
            if q["located"] == "exact" and not _echoes(q) and (half == "test" or every or _own_subject(q)):
                s, _ = q["span"]
                asked.setdefault(r["doc_id"], []).append(
                    {"id": f"{r['doc_id']}@{s}#{i}", "question": q["question"],
                     "answers": [{"text": q["answer"].strip(" .\"'"), "answer_start": s}]})
    data = [{"title": doc_id, "paragraphs": [{"context": text, "qas": asked.get(doc_id, [])}]}
            for doc_id, _, text in sorted(articles(source, coqa, half))]
    return {"version": "1.1", "data": data}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", choices=("bbc", "coqa"), default="bbc")
    parser.add_argument("--coqa", type=Path, default=Path("../shared/data/coqa-cnn.json"))
    parser.add_argument("--out", type=Path, required=True, help="JSON lines, appended to (resumable)")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b", help="a name of `rag models list`, or a .gguf")
    parser.add_argument("--articles", type=int, default=10_000, help="at most this many train-half articles")
    parser.add_argument("--per-article", type=int, default=2, help="paragraphs per article, spread over it")
    parser.add_argument("--questions", type=int, default=3, help="asked for per paragraph")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gpu-layers", type=int, default=None, help="layers on a GPU (99: all), where one is lent")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--half", choices=("train", "test"), default="train",
                        help="train: training data; test: only a set to measure on, never to train on")
    parser.add_argument("--summary", action="store_true", help="print counts of --out and stop")
    parser.add_argument("--squad-out", type=Path, help="write --out as a SQuAD file for rag eval, and stop")
    parser.add_argument("--every", action="store_true",
                        help="with --squad-out on the train half: keep subject-less questions too (to measure on)")
    args = parser.parse_args()
    if args.summary:
        print(json.dumps(summary(args.out), indent=1))
    elif args.squad_out:
        records = _records(args.out)
        args.squad_out.write_text(json.dumps(squad_file(records, args.source, args.coqa, args.half, args.every)))
    else:
        run(args)


if __name__ == "__main__":
    main()
