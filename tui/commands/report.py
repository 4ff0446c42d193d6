"""`callwatch report SOURCE`: an incident report (post-mortem) of a capture or a live feed.

    callwatch report incident.jsonl --from 10:30 --to +45m --html -o incident.html

Reads the source exactly as `callwatch summary` does (same helpers, same pipeline, same counts), into
a `ReportCollector`, then renders Markdown (default), a self-contained HTML page or JSON. The
capture's bookmarks (`SOURCE.bookmarks.json`, written by the dashboard's `m` key) are included.
Exit status: 0 when the report was written, 2 when the source or an option was unusable.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tui.commands.summary import (
    BadLines,
    SourceError,
    add_source_arguments,
    display_source,
    is_url,
    item_label,
    read_source,
)

PROG = "callwatch report"


def _time(text: str) -> object:
    from tui.domain.report import parse_time

    try:
        return parse_time(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register `callwatch report`."""
    p = sub.add_parser(
        "report",
        parents=[common],
        help="write an incident report (Markdown, HTML or JSON) of a capture or a live feed",
        description="A post-mortem of a capture (or of a live feed for --duration): the time window, totals "
        "by outcome and vendor, the top reasons with counts and shares, spikes and first-seen reasons, a "
        "per-minute timeline of abnormal disconnects, what each top reason means (advice, cross-vendor "
        "equivalents), bookmarks and sample events. Counts equal `callwatch summary` on the same input.",
        epilog="times: 2025-07-14T10:40:00Z, Unix seconds, 10:40 (UTC, on the first event's day) or +15m "
        "(after the first event). examples: callwatch report calls.jsonl -o incident.md | "
        "callwatch report calls.jsonl --from 10:30 --to 10:50 --html -o incident.html | "
        "callwatch report wss://feed.example/ws --token T --duration 600 --json",
    )
    add_source_arguments(p)
    p.add_argument("--from", dest="time_from", type=_time, metavar="TIME",
                   help="count only events at or after TIME")
    p.add_argument("--to", dest="time_to", type=_time, metavar="TIME", help="count only events before TIME")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_const", dest="format", const="markdown",
                     help="Markdown (the default, unless -o names a .html or .json file)")
    fmt.add_argument("--html", action="store_const", dest="format", const="html",
                     help="one self-contained HTML page (inline chart; no script, no network)")
    fmt.add_argument("--json", action="store_const", dest="format", const="json", help="JSON")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE (atomically) instead of stdout")
    p.add_argument("--title", default=None, help="report title (default: 'Incident report: SOURCE')")
    p.add_argument("--top", type=_count, default=10, metavar="N", help="top reasons described (default 10)")
    p.add_argument("--samples", type=_count, default=5, metavar="N", help="sample events shown (default 5)")
    p.add_argument("--mask", action="store_true", help="mask identifiers (call ids, user ids...) in sample events")
    marks = p.add_mutually_exclusive_group()
    marks.add_argument("--bookmarks", type=Path, metavar="FILE",
                       help="bookmark file (default: SOURCE.bookmarks.json when it exists)")
    marks.add_argument("--no-bookmarks", action="store_true", help="leave bookmarks out")
    p.set_defaults(run=run)


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if args.output is not None:
        suffix = args.output.suffix.lower()
        if suffix in (".html", ".htm"):
            return "html"
        if suffix == ".json":
            return "json"
    return "markdown"


def run(args: argparse.Namespace) -> int:
    """Read the source, build the report, write it. Returns the exit status."""
    from tui.domain.bookmarks import BookmarkStore, bookmarks_path
    from tui.commands.common import catalogs_for
    from tui.domain.pipeline import Pipeline
    from tui.domain.report import ReportCollector, build_report, render

    mask = None
    if args.mask:
        from tui.domain.mask import Masker

        # A random key per report: pseudonyms correlate within the report, not with anything else.
        mask = Masker().mask_event
    marks = ()
    if not args.no_bookmarks:
        path = args.bookmarks if args.bookmarks is not None else bookmarks_path(args.source)
        if path is not None and (args.bookmarks is not None or path.exists()):
            if args.bookmarks is not None and not path.exists():
                print(f"{PROG}: {path}: no such file", file=sys.stderr)
                return 2
            store = BookmarkStore(path)
            if store.error:
                print(f"{PROG}: {store.error}", file=sys.stderr)
            marks = store.bookmarks
    catalogs = catalogs_for(args)
    collector = ReportCollector(window=(args.time_from, args.time_to), keep_seqs={b.seq for b in marks})
    bad = BadLines(item_label(args.source))
    pipeline = Pipeline(catalogs, collector, keep_events=True, on_invalid=bad)
    source = display_source(args.source)
    try:
        read_source(args, pipeline.feed, lambda: collector.seen)
    except SourceError as exc:
        bad.report(PROG)
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    bad.report(PROG)
    title = args.title or f"Incident report: {Path(source).name if not is_url(args.source) and source != '<stdin>' else source}"
    report = build_report(collector, marks, catalogs=catalogs, title=title, source_name=source,
                          generated=time.time(), mask=mask, top=args.top, samples=args.samples)  # type: ignore[arg-type]
    fmt = _format(args)
    text = render(report, fmt)
    if args.output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return 0
    try:
        _write(args.output, text)
    except OSError as exc:
        print(f"{PROG}: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"{PROG}: wrote {args.output} ({fmt}, {report.events:,} events)", file=sys.stderr)
    return 0


def _write(path: Path, text: str) -> None:
    from tui.domain.bookmarks import atomic_write

    atomic_write(path, text.encode("utf-8"))
