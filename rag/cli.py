"""The `rag` command. Library errors become one readable line and exit code 1."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import ConfigError, RagError
from .settings import Settings

Handler = Callable[[argparse.Namespace, Settings], int]


def _settings(args: argparse.Namespace) -> Settings:
    flags = {"embed_backend": "embed_backend", "llm_model": "model", "llm_timeout": "timeout",
             "chroma_url": "chroma_url"}
    return Settings.from_env(index_dir=args.index_dir, corpus_dir=args.corpus_dir,
                             **{field: getattr(args, flag, None) for field, flag in flags.items()})


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from .index.sync import sync

    if args.check:
        from .index.sync import check

        consistency = check(settings)
        print(json.dumps(consistency.to_json()) if args.json else consistency.summary())
        return 0 if consistency.ok else 3
    paths = [Path(p) for p in args.paths] or None
    messages: list[str] = []
    feed_errors = []
    if args.demo:
        from .ingest.bbc_demo import import_bbc

        result = import_bbc(settings.corpus_dir)
        messages.append(
            f"demo: {result.copied} BBC articles copied to {result.folder}, {result.unchanged} already there, "
            f"{result.duplicates} duplicate texts left out"
        )
    for url in args.feed:
        from .ingest.feeds import fetch_feed

        fetched = fetch_feed(url, settings.corpus_dir)
        feed_errors.extend(fetched.errors)
        messages.append(f"feed {url}: {fetched.new} new articles, {fetched.changed} changed, {fetched.known} seen "
                        "before (to keep it refreshed: rag feeds add URL)")
    report = sync(settings, paths, prune=not args.no_prune, rebuild=args.rebuild)
    report.errors[:0] = feed_errors
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
        return 0
    for line in messages:
        print(line)
    print(report.summary())
    if report.duplicates:
        print(f"{len(report.duplicates)} duplicates indexed once, e.g. {report.duplicates[0]['path']} "
              f"= {report.duplicates[0]['duplicate_of']}")
    if report.consistency and not report.consistency.ok:
        print(report.consistency.summary())
    shown = report.errors if args.verbose else report.errors[:50]
    for error in shown:
        print(f"  skipped {error.path}: {error.error}", file=sys.stderr)
        if args.verbose and error.detail:
            print("    " + error.detail.rstrip().replace("\n", "\n    "), file=sys.stderr)
    if len(report.errors) > len(shown):
        print(f"  … and {len(report.errors) - len(shown)} more (see --json or --verbose)", file=sys.stderr)
    for warning in report.warnings[: None if args.verbose else 20]:
        print(f"  warning {warning.path}: {warning.error}", file=sys.stderr)
    return 0


def _filters(args: argparse.Namespace) -> dict[str, object]:
    return {"since": args.since, "until": args.until, "sources": args.source or None,
            "group_stories": not args.all_copies}


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from .api import search

    hits = search(args.query, args.k, settings=settings, mode=args.mode, **_filters(args))  # type: ignore[arg-type]
    if args.json:
        print(json.dumps([h.to_json() for h in hits], ensure_ascii=False))
        return 0
    for n, hit in enumerate(hits, start=1):
        date = f", {hit.published.date()}" if hit.published else ", undated"
        print(f"{n}. {hit.title} ({hit.source}{date}) score {hit.score:.3f}  [{hit.doc_id} {hit.start}:{hit.end}]")
        print("   " + " ".join(hit.text.split())[:300])
        if hit.also_in:
            print(f"   also in: {', '.join(hit.also_in_sources)}")
    if not hits:
        print("no matching articles")
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from .answer.extractive import WEAK_CONFIDENCE
    from .api import ask_stream
    from .prompts import WEAK_ANSWER

    stream = ask_stream(args.question, k=args.k, settings=settings, answerer=args.answerer, document=args.document,
                        min_confidence=args.min_confidence, **_filters(args))  # type: ignore[arg-type]
    if args.json:
        print(json.dumps(stream.result().to_json(args.question), ensure_ascii=False))
        return 0
    if args.stream:  # each sentence as soon as it is generated and verified
        for i, piece in enumerate(stream):
            print(("" if i == 0 else " ") + piece, end="", flush=True)
        print()
        answer = stream.result()
    else:
        answer = stream.result()
        print(answer.text)
    if not answer.abstained and answer.confidence < WEAK_CONFIDENCE:
        print(WEAK_ANSWER.format(percent=round(100 * answer.confidence)))
    if answer.time_filter:
        print(f"\nSearched {answer.time_filter}.")
    if answer.notice:
        print(f"\nNote: {answer.notice}")
    for n, story in enumerate(answer.clarify, start=1):
        print(f"{n}) rag ask {shlex.quote(args.question)} --document {shlex.quote(story.doc_id)}")
    if answer.citations:
        print("\nSources:")
    copies = {h.doc_id: h.also_in_sources for h in answer.hits}
    for c in answer.citations:
        date = f", {c.published.date()}" if c.published else ", undated"
        print(f"[{c.n}] {c.title} ({c.source}{date}) {c.url or c.doc_id}, characters {c.start}-{c.end}")
        if copies.get(c.doc_id):
            print(f"    also in: {', '.join(copies[c.doc_id])}")
    return 0


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from .llm import gguf_models

    if args.action == "install":
        if not args.name:
            raise ConfigError(f"which model? rag models install NAME ({', '.join(gguf_models.MODELS)})")
        path = gguf_models.install(args.name, settings)
        print(f"{args.name} installed: {path} (sha256 checked)")
        return 0
    for row in gguf_models.status(settings):
        if row.installed:
            state = f"installed  {row.installed} ({row.installed.stat().st_size / 2**20:.0f} MB)"
        elif row.missing_packages:
            more = " …" if len(row.missing_packages) > 3 else ""
            state = f"needs the packages {' '.join(row.missing_packages[:3])}{more}"
        else:
            state = f"available: rag models install {row.name}"
        print(f"{row.name:<20} {state}\n{'':<20} {row.description}")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from .evaluation.report import format_report
    from .evaluation.run import change_of_subject, evaluate

    if args.change_of_subject:
        shift = change_of_subject(args.dataset, settings=settings, limit=args.limit or 300, articles=args.articles,
                                  seed=args.seed)
        print(json.dumps(shift, indent=1))
        return 0
    report = evaluate(args.dataset, settings=settings, limit=args.limit, turns=args.turns, against=args.against,
                      rewrite=not args.no_rewrite, articles=args.articles, leave_out=args.leave_out, seed=args.seed,
                      min_confidence=args.min_confidence)
    print(json.dumps(report, indent=1) if args.json else format_report(report))
    return 0


def cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    from .ingest import refresh

    if args.action == "list":
        subs = refresh.list_feeds(settings)
        if args.json:
            print(json.dumps([s.to_json() for s in subs], ensure_ascii=False))
            return 0
        for sub in subs:
            state = f"failing ({sub.failures}x): {sub.last_error}" if sub.failures else "ok"
            name = sub.source or sub.title or "(the feed's title)"
            added = f"{sub.articles_added} article{'' if sub.articles_added == 1 else 's'} added"
            print(f"{sub.url}\n  source {name}, every {sub.every_minutes} min, {added}, {state}")
            info = sub.to_json()
            print(f"  last success {info['last_success'] or 'never'}, next due {info['next_due'] or 'now'}")
        if not subs:
            print("no feeds: rag feeds add URL")
        return 0
    if not args.url:
        raise ConfigError(f"which feed? rag feeds {args.action} URL")
    if args.action == "add":
        sub = refresh.add_feed(settings, args.url, args.every, args.source or "")
        print(f"subscribed to {sub.url} (every {sub.every_minutes} min); `rag watch --once` fetches it now")
        return 0
    removed = refresh.remove_feed(settings, args.url, purge=args.purge)
    print(f"unsubscribed from {args.url}" + (f"; {removed} of its articles removed from the index" if args.purge
                                              else "; its articles stay indexed (--purge removes them)"))
    return 0


def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    import signal

    from .index.locks import WriteLock
    from .ingest import refresh

    if args.once:
        report = refresh.refresh(settings, due_only=False)
        print(json.dumps(report.to_json(), ensure_ascii=False) if args.json else report.summary())
        return 0  # failing feeds are recorded in their state; only an index failure (an error) exits non-zero
    stop: list[int] = []  # a signal handler only appends: no lock it could deadlock on
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda number, _: stop.append(number))  # finish the refresh under way, then stop

    def show(report: refresh.RefreshReport | Exception) -> None:
        if isinstance(report, Exception):
            print(f"refresh failed: {report}", file=sys.stderr, flush=True)
        else:
            print(json.dumps(report.to_json(), ensure_ascii=False) if args.json else report.summary(), flush=True)

    with WriteLock(settings.index_dir, "watch.lock"):
        print(f"watching the feeds of {settings.index_dir} (Ctrl+C stops)", file=sys.stderr, flush=True)
        refresh.watch(settings, lambda: bool(stop), on_report=show)
    print("stopped", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from ui.app import serve

    return serve(settings, host=args.host, port=args.port, auth=args.auth)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index-dir", type=Path, help="index folder (RAG_INDEX_DIR, default ./index)")
    common.add_argument("--corpus-dir", type=Path, help="article folder (RAG_CORPUS_DIR, default ./corpus)")
    common.add_argument("--chroma-url", help="a Chroma server, e.g. http://127.0.0.1:8000 (RAG_CHROMA_URL); "
                        "default: the embedded store in the index folder")
    common.add_argument(
        "--embed-backend", choices=["torch", "onnx", "onnx-int8"],
        help="embedding backend (RAG_EMBED_BACKEND; default: the index's own, or the default for a new index)",
    )

    parser = argparse.ArgumentParser(prog="rag", description="Ask questions of your news articles, offline.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common], help="add, update and prune articles in the index")
    p.add_argument("paths", nargs="*", help="files or folders to index (default: the corpus folder)")
    p.add_argument("--rebuild", action="store_true", help="delete the index and build it again")
    p.add_argument("--no-prune", action="store_true", help="keep documents whose files are gone")
    p.add_argument("--feed", action="append", default=[], metavar="URL", help="fetch an RSS/Atom feed first")
    p.add_argument("--demo", action="store_true", help="import the BBC News demo articles first")
    p.add_argument("--json", action="store_true", help="print one JSON summary")
    p.add_argument("--check", action="store_true",
                   help="only compare the vector and document stores and report (exit 3 if they differ)")
    p.add_argument("--verbose", action="store_true", help="list every skipped file with its traceback")
    p.set_defaults(handler=cmd_index)

    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("-k", type=int, default=5, help="how many passages to retrieve (default 5)")
    filters.add_argument("--since", help="only articles published on or after this date (YYYY-MM-DD)")
    filters.add_argument("--until", help="only articles published on or before this date (YYYY-MM-DD)")
    filters.add_argument("--source", action="append", help="only articles from this source (repeatable)")
    filters.add_argument("--all-copies", action="store_true",
                         help="show every copy of a story (default: one, naming the others' sources)")
    filters.add_argument("--json", action="store_true", help="print JSON")

    confidence = argparse.ArgumentParser(add_help=False)
    confidence.add_argument("--min-confidence", type=float, metavar="P",
                            help="answer when the estimated chance of being right is at least P (0-1); "
                                 "lower gives more, weaker answers (default: the calibrated threshold)")

    p = sub.add_parser("search", parents=[common, filters], help="show the best matching passages")
    p.add_argument("query")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid")
    p.set_defaults(handler=cmd_search)

    p = sub.add_parser("ask", parents=[common, filters, confidence], help="answer a question with citations")
    p.add_argument("question")
    p.add_argument("--answerer", help="extractive (default), llamacpp or openai (RAG_ANSWERER)")
    p.add_argument("--stream", action="store_true", help="print each sentence as soon as it is verified")
    p.add_argument("--document", help="answer from this article only (a document id, as `rag search` shows)")
    p.add_argument("--model", help="llamacpp: model name from `rag models list` or a .gguf path (RAG_LLM_MODEL)")
    p.add_argument("--timeout", type=float, help="seconds to wait for the model before the extractive answer "
                   "(RAG_LLM_TIMEOUT, default 60)")
    p.set_defaults(handler=cmd_ask)

    p = sub.add_parser("models", help="install or list local language models (for --answerer llamacpp)")
    p.add_argument("action", choices=["list", "install"])
    p.add_argument("name", nargs="?", help="the model to install, e.g. qwen2.5-coder-1.5b")
    p.set_defaults(handler=cmd_models, index_dir=None, corpus_dir=None)

    p = sub.add_parser("eval", parents=[common, confidence], help="measure retrieval and answers on SQuAD/CoQA data")
    p.add_argument("dataset", type=Path, help="SQuAD (v1/v2) or CoQA JSON file")
    p.add_argument("--limit", type=int, help="evaluate a fixed random sample of N questions")
    p.add_argument("--turns", choices=["all", "first", "later"], default="all", help="CoQA: which turns to ask")
    p.add_argument("--against", type=Path, help="index this other dataset instead: every question is unanswerable")
    p.add_argument("--no-rewrite", action="store_true", help="ask follow-ups without rewriting them")
    p.add_argument("--articles", choices=["all", "train", "test"], default="all",
                   help="ask only the questions of this half of the seeded train/test split by article")
    p.add_argument("--leave-out", type=int, default=0, metavar="N",
                   help="keep N of those articles out of the index: their questions must be refused")
    p.add_argument("--seed", type=int, default=0, help="which articles --leave-out and pairs choose")
    p.add_argument("--change-of-subject", action="store_true",
                   help="pairs of questions from different articles: second asked after the first vs. alone")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_eval)

    p = sub.add_parser("feeds", parents=[common], help="subscribe to RSS/Atom feeds, list or remove them")
    p.add_argument("action", choices=["add", "list", "remove"])
    p.add_argument("url", nargs="?", help="the feed's http(s) address")
    p.add_argument("--every", type=int, default=60, metavar="MINUTES", help="add: refresh interval (default 60)")
    p.add_argument("--source", help="add: the source name shown for its articles (default: the feed's title)")
    p.add_argument("--purge", action="store_true", help="remove: also remove its articles from the index")
    p.add_argument("--json", action="store_true", help="list: print JSON")
    p.set_defaults(handler=cmd_feeds)

    p = sub.add_parser("watch", parents=[common], help="refresh subscribed feeds when due, until Ctrl+C")
    p.add_argument("--once", action="store_true", help="refresh every feed now and exit (for cron or a timer)")
    p.add_argument("--json", action="store_true", help="print each refresh as JSON")
    p.set_defaults(handler=cmd_watch)

    p = sub.add_parser("serve", parents=[common], help="start the chat UI")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", help="USER:PASS required before binding beyond loopback (or RAG_UI_AUTH)")
    p.set_defaults(handler=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args, _settings(args))
    except RagError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"error": str(exc)}))
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the index is still usable; run the command again to finish", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
