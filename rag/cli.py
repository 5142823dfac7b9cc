"""The `rag` command. Library errors become one readable line and exit code 1."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import RagError
from .settings import Settings

Handler = Callable[[argparse.Namespace, Settings], int]


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(index_dir=args.index_dir, corpus_dir=args.corpus_dir)


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from .indexing import sync

    paths = [Path(p) for p in args.paths] or None
    messages: list[str] = []
    feed_errors = []
    if args.demo:
        from .demo import import_bbc

        result = import_bbc(settings.corpus_dir)
        messages.append(
            f"demo: {result.copied} BBC articles copied to {result.folder}, {result.unchanged} already there, "
            f"{result.duplicates} duplicate texts left out"
        )
    for url in args.feed:
        from .feeds import fetch_feed

        fetched = fetch_feed(url, settings.corpus_dir)
        feed_errors.extend(fetched.errors)
        messages.append(f"feed {url}: {len(fetched.saved)} new articles, {fetched.known} seen before")
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
    for error in report.errors[:50]:
        print(f"  skipped {error.path}: {error.error}", file=sys.stderr)
    if len(report.errors) > 50:
        print(f"  … and {len(report.errors) - 50} more (see --json)", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index-dir", type=Path, help="index folder (RAG_INDEX_DIR, default ./index)")
    common.add_argument("--corpus-dir", type=Path, help="article folder (RAG_CORPUS_DIR, default ./corpus)")

    parser = argparse.ArgumentParser(prog="rag", description="Ask questions of your news articles, offline.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common], help="add, update and prune articles in the index")
    p.add_argument("paths", nargs="*", help="files or folders to index (default: the corpus folder)")
    p.add_argument("--rebuild", action="store_true", help="delete the index and build it again")
    p.add_argument("--no-prune", action="store_true", help="keep documents whose files are gone")
    p.add_argument("--feed", action="append", default=[], metavar="URL", help="fetch an RSS/Atom feed first")
    p.add_argument("--demo", action="store_true", help="import the BBC News demo articles first")
    p.add_argument("--json", action="store_true", help="print one JSON summary")
    p.set_defaults(handler=cmd_index)
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
