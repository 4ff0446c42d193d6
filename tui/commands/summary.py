"""`callwatch summary SOURCE`: count a capture (or a live feed for a while) by reason and print the table.

Files are read at full speed (no pacing) through the same decode -> lookup -> aggregate pipeline as
the dashboard, in count-only mode (no event objects are kept). Bad lines never abort: each is counted
under its cause and reported on stderr with its line number (the first 20, then a count of the rest).
Exit status: 0 when the source was read (bad lines included), 2 when it could not be (missing or
unreadable file, bad URL, refused connection) or on a usage error.

The source helpers here (`add_source_arguments`, `read_source`, `BadLines`) are shared with `explain`.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tui.domain.aggregate import Aggregate
from tui.domain.model import InvalidMessage
from tui.ingest.raw import RawMessage

BY_CHOICES = ("reason", "category", "outcome", "vendor", "source")
#: Bad lines reported one by one on stderr before the rest are only counted.
BAD_LINES_SHOWN = 20
#: Elapsed-time checks (--duration) happen once per this many messages on the file path.
_CHECK_EVERY = 1024


class SourceError(Exception):
    """The source could not be opened or read: one clear line for stderr, exit status 2."""


# ------------------------------------------------------------------------------------------ arguments


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME:VALUE, got {text!r}")
    return name.strip(), value.strip()


def add_source_arguments(p: argparse.ArgumentParser) -> None:
    """SOURCE plus the live-feed and stop options shared by `summary` and `explain`."""
    p.add_argument(
        "source",
        metavar="SOURCE",
        help="capture file (.jsonl/.ndjson, .json, .yaml; optionally .gz), '-' for standard input, "
        "or a ws:// / wss:// feed URL",
    )
    p.add_argument("--duration", type=_positive_float, metavar="S",
                   help="stop after S seconds (live feeds; also limits a file read)")
    p.add_argument("--count", type=_positive_int, metavar="N",
                   help="stop after N received elements (events + invalid)")
    live = p.add_argument_group("live feed (ws:// or wss:// SOURCE)")
    live.add_argument("--token", help="bearer token sent as 'Authorization: Bearer TOKEN' (never printed)")
    live.add_argument("--header", action="append", type=_header, default=[], metavar="NAME:VALUE",
                      help="extra handshake header (repeatable)")
    # argparse refuses both together (exit 2), for every command that takes a source.
    trust = live.add_mutually_exclusive_group()
    trust.add_argument("--ca-file", type=Path, metavar="PEM", help="trust this CA bundle for wss://")
    trust.add_argument("--insecure", action="store_true", help="wss:// without certificate verification")


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "summary",
        parents=[common],
        help="count a capture or a live feed by reason",
        description="Count every call end in a capture file (read at full speed) or a live feed by "
        "reason, category, outcome, vendor or source. Bad lines are counted and listed on stderr; "
        "exit status 0 unless the source cannot be read (2).",
        epilog="examples: callwatch summary calls.jsonl | callwatch summary calls.jsonl.gz --by category "
        "--json | callwatch summary wss://feed.example/ws --token T --duration 60 --top 10",
    )
    add_source_arguments(p)
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object with every count")
    fmt.add_argument("--csv", action="store_true", help="the --by table as CSV")
    fmt.add_argument("--markdown", action="store_true", help="the --by table as a Markdown table")
    p.add_argument("--by", choices=BY_CHOICES, default="reason", help="how to group the table (default reason)")
    p.add_argument("--top", type=_positive_int, metavar="N", help="show only the N largest rows")
    p.set_defaults(run=run)


# ------------------------------------------------------------------------------------------ reading


def is_url(source: str) -> bool:
    return source.lower().startswith(("ws://", "wss://"))


def item_label(source: str) -> str:
    """What one message of this source is called in messages to the user."""
    if is_url(source):
        return "frame"
    from tui.ingest.capture import capture_format

    if source == "-":
        return "line"
    return {"jsonl": "line", "json": "element", "yaml": "document"}[capture_format(source)]


def display_source(source: str) -> str:
    """The source as shown to the user: never a URL's credentials or query values (tokens), and
    control characters made visible."""
    from tui.domain.sanitize import clean

    if source == "-":
        return "<stdin>"
    if is_url(source):
        from tui.ingest.redact import redact_url

        return clean(redact_url(source), 300)
    return clean(source, 300)


class BadLines:
    """Collects invalid messages for stderr: the first `shown` with their line number, then a count."""

    def __init__(self, label: str, shown: int = BAD_LINES_SHOWN) -> None:
        self.label = label
        self.shown = shown
        self.first: list[InvalidMessage] = []
        self.total = 0

    def __call__(self, bad: InvalidMessage) -> None:
        self.total += 1
        if len(self.first) < self.shown:
            self.first.append(bad)

    def line(self, bad: InvalidMessage) -> str:
        return f"{self.label} {bad.seq}: {bad.cause}: {bad.detail}"

    def report(self, prog: str, stream: Any = None) -> None:
        stream = stream if stream is not None else sys.stderr
        for bad in self.first:
            print(f"{prog}: {self.line(bad)}", file=stream)
        if self.total > len(self.first):
            print(f"{prog}: ... {self.total - len(self.first):,} more invalid", file=stream)


#: Bytes read at a time by the bulk JSON Lines reader.
BLOCK_SIZE = 1 << 20


def iter_line_blocks(
    stream: Any, max_line: int | None = None, block_size: int = BLOCK_SIZE
) -> Iterator[tuple[int, list[bytes]] | RawMessage]:
    """Read a JSON Lines stream in blocks: yield ``(number of the first line, lines)`` per block.

    The same lines, numbers and size cap as `capture.read_lines` + `capture.line_message`, without a
    Python-level call per line: a line keeps a trailing CR before its LF (`Pipeline.count_lines`
    ignores it); a line longer than `max_line` is not kept but yielded on its own, in order, as the
    oversize `RawMessage` that `line_message` makes. An unterminated last line ending in CR is also
    yielded as its `RawMessage`, so that its CR is kept as `read_lines` keeps it. Memory stays within
    about `block_size` + `max_line`, whatever the line lengths.
    """
    from tui.ingest.capture import MAX_LINE, line_message

    limit = MAX_LINE if max_line is None else max_line
    read = getattr(stream, "read1", None) or stream.read
    number = 0  # lines completed so far
    head: list[bytes] = []  # pieces of the line being read, while it is within the cap
    head_len = 0  # its length so far (also when over the cap and no longer kept)
    last_piece = b""
    while True:
        chunk = read(block_size)
        if not chunk:
            break
        parts = chunk.split(b"\n")
        tail = parts.pop()
        if parts:
            first = parts[0]
            length = head_len + len(first)
            if length > limit:
                cr = first.endswith(b"\r") if first else last_piece.endswith(b"\r")
                number += 1
                yield _oversize(line_message, number, length - cr)
                parts = parts[1:]
            elif head:
                head.append(first)
                parts[0] = b"".join(head)
            head, head_len = [], 0
            if parts:
                yield from _block(number + 1, parts, limit, block_size, line_message)
                number += len(parts)
        if tail:
            head_len += len(tail)
            last_piece = tail
            if head_len <= limit:
                head.append(tail)
            else:
                head = []
    if head_len > limit:
        yield _oversize(line_message, number + 1, head_len)
    elif head:
        line = b"".join(head)
        if line.endswith(b"\r"):
            raw = line_message(number + 1, line)
            if raw is not None:
                yield raw
        else:
            yield number + 1, [line]


def _block(start: int, lines: list[bytes], limit: int, block_size: int,
           line_message: Callable[..., RawMessage | None]) -> Iterator[tuple[int, list[bytes]] | RawMessage]:
    """One block of complete lines, split around any line over the cap (only possible when the cap is
    smaller than the block size)."""
    if limit >= block_size or max(map(len, lines)) <= limit:
        yield start, lines
        return
    kept: list[bytes] = []
    kept_start = start
    for number, line in enumerate(lines, start):
        length = len(line) - line.endswith(b"\r")
        if len(line) > limit:
            if kept:
                yield kept_start, kept
                kept = []
            yield _oversize(line_message, number, length)
            kept_start = number + 1
        else:
            kept.append(line)
    if kept:
        yield kept_start, kept


def _oversize(line_message: Callable[..., RawMessage | None], number: int, length: int) -> RawMessage:
    raw = line_message(number, b"", length)
    assert raw is not None
    return raw


def read_source(
    args: argparse.Namespace, handle: Callable[[RawMessage], None], received: Callable[[], int],
    lines: Callable[[int, list[bytes]], None] | None = None,
) -> None:
    """Feed every message of args.source to `handle` until the end (or --count/--duration).

    `received` returns the elements counted so far (for --count). With `lines` (summary's bulk
    path), a JSON Lines file or stdin read to the end without --count/--duration goes to
    `lines(first line number, lines)` block by block instead. Raises `SourceError`.
    """
    if is_url(args.source):
        _read_live(args, handle, received)
        return
    from tui.domain.catalog_yaml import safe_load_all_yaml
    from tui.ingest.capture import CaptureError, capture_format, iter_capture

    path = args.source
    if path != "-" and not Path(path).exists():
        raise SourceError(f"{path}: no such file")
    if lines is not None and args.count is None and args.duration is None and (
            path == "-" or capture_format(path) == "jsonl"):
        _read_blocks(path, handle, lines)
        return
    if path == "-" and args.duration is not None:
        _read_stdin_for(args, handle, received)  # a blocked read must not outlive --duration
        return
    loader = (lambda text: safe_load_all_yaml(text, str(path)))  # noqa: E731 - the hardened loader
    messages: Iterator[RawMessage] = iter_capture(path, yaml_loader=loader)
    limit = args.count
    deadline = time.monotonic() + args.duration if args.duration else None
    try:
        if limit is None and deadline is None:
            for raw in messages:  # the fast path: nothing to check per message
                handle(raw)
            return
        n = 0
        for raw in messages:
            handle(raw)
            n += 1
            if limit is not None and received() >= limit:
                return
            if deadline is not None and n % _CHECK_EVERY == 0 and time.monotonic() >= deadline:
                return
    except CaptureError as exc:
        raise SourceError(str(exc)) from None
    finally:
        close = getattr(messages, "close", None)
        if close is not None:
            close()


def _read_stdin_for(args: argparse.Namespace, handle: Callable[[RawMessage], None],
                    received: Callable[[], int]) -> None:
    import asyncio

    from tui.ingest.capture import CaptureError, aiter_capture

    limit = args.count
    # The reader thread may still be blocked in a read when --duration ends. On sys.stdin itself that
    # read holds the buffer lock that interpreter shutdown takes ("could not acquire lock ... at
    # interpreter shutdown", exit 134); on a private buffered reader over a duplicate of fd 0 it does not.
    import os

    stream = open(os.dup(sys.stdin.fileno()), "rb")  # noqa: SIM115 - owned by the daemon reader thread

    async def pump() -> None:
        async for raw in aiter_capture("-", stdin=stream):
            handle(raw)
            if limit is not None and received() >= limit:
                return

    async def main() -> None:
        try:
            await asyncio.wait_for(pump(), timeout=args.duration)
        except TimeoutError:
            pass

    try:
        asyncio.run(main())
    except CaptureError as exc:
        raise SourceError(str(exc)) from None
    except KeyboardInterrupt:
        pass


def _read_blocks(path: str, handle: Callable[[RawMessage], None], lines: Callable[[int, list[bytes]], None]) -> None:
    import gzip
    import zlib

    try:
        if path == "-":
            stream: Any = sys.stdin.buffer
        elif path.lower().endswith(".gz"):
            stream = gzip.open(path, "rb")
        else:
            stream = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise SourceError(f"{path}: {exc.strerror or exc}") from None
    try:
        for item in iter_line_blocks(stream):
            if type(item) is tuple:
                lines(*item)
            else:
                handle(item)  # type: ignore[arg-type]
    except (OSError, EOFError, zlib.error) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc) or type(exc).__name__)
        raise SourceError(f"{path}: {why}") from None
    finally:
        if path != "-":
            stream.close()


def _read_live(args: argparse.Namespace, handle: Callable[[RawMessage], None], received: Callable[[], int]) -> None:
    import asyncio
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(args.source)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise SourceError(f"bad URL {display_source(args.source)!r}: {exc}") from None
    if not parts.hostname:
        raise SourceError(f"bad URL {display_source(args.source)!r}: no host")
    if args.ca_file is not None and not args.ca_file.is_file():
        raise SourceError(f"{args.ca_file}: CA file not found")
    try:
        asyncio.run(_live(args, handle, received))
    except KeyboardInterrupt:
        pass  # Ctrl-C ends a live summary: print what was counted


async def _live(args: argparse.Namespace, handle: Callable[[RawMessage], None], received: Callable[[], int]) -> None:
    """Read frames until --duration, --count, Ctrl-C or the source stops. A feed that never connects
    (refused, DNS, TLS, 401...) is an error: the first failure ends the command instead of retrying."""
    import asyncio

    from tui.ingest.websocket_client import WebSocketSource

    failure: str | None = None
    connected = False

    def on_status(status: Any) -> None:
        nonlocal failure, connected
        if status.state == "live":
            connected = True
        elif status.state in ("reconnecting", "stopped") and not connected and failure is None:
            failure = status.detail or status.state
            source.stop()

    source = WebSocketSource(args.source, token=args.token, headers=args.header, ca_file=args.ca_file,
                             insecure=args.insecure, on_status=on_status)
    limit = args.count

    async def pump() -> None:
        frames = source.messages()
        try:
            async for raw in frames:
                handle(raw)
                if limit is not None and received() >= limit:
                    return
        finally:
            await frames.aclose()  # type: ignore[attr-defined]

    try:
        await asyncio.wait_for(pump(), timeout=args.duration)
    except TimeoutError:
        pass
    if failure is not None:
        raise SourceError(f"{source.origin}: {failure}")


# ------------------------------------------------------------------------------------------ output


def _rows(snapshot: dict[str, Any], by: str, top: int | None) -> list[dict[str, Any]]:
    """The --by table as dicts, sorted count desc then name, cut to --top."""
    if by == "reason":
        rows = list(snapshot["reasons"])
    else:
        rows = [{by: name, "count": n} for name, n in snapshot[f"by_{by}"].items()]
    return rows[:top] if top else rows


def to_json(snapshot: dict[str, Any], source: str, by: str, top: int | None) -> dict[str, Any]:
    reasons = snapshot["reasons"]
    return {
        "source": source,
        "received": snapshot["received"],
        "messages": snapshot["messages"],
        "events": snapshot["events"],
        "invalid": snapshot["invalid"],
        "unknown": snapshot["unknown"],
        "no_reason": snapshot["no_reason"],
        "distinct_reasons": len(reasons),
        "reasons": reasons[:top] if top else reasons,
        "by_category": snapshot["by_category"],
        "by_outcome": snapshot["by_outcome"],
        "by_vendor": snapshot["by_vendor"],
        "by_source": snapshot["by_source"],
        "invalid_by_cause": snapshot["invalid_by_cause"],
        "by": by,
        "rows": _rows(snapshot, by, top),
    }


def _csv_cell(value: Any) -> Any:
    # Spreadsheet formula injection: a feed-supplied text starting with = + - @ would run as a formula
    # when the CSV is opened. Numbers (PlanetKit's -1) stay as they are.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def _columns(by: str) -> list[str]:
    if by == "reason":
        return ["vendor", "namespace", "code", "subcode", "name", "category", "outcome", "count"]
    return [by, "count"]


def to_csv(snapshot: dict[str, Any], by: str, top: int | None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = _columns(by)
    writer.writerow(columns)
    for row in _rows(snapshot, by, top):
        if by == "reason":
            row = {**row, "name": row["name"] or row["label"]}
        writer.writerow([_csv_cell("" if row[c] is None else row[c]) for c in columns])
    return out.getvalue()


def _md(value: Any) -> str:
    return str("" if value is None else value).replace("\\", "\\\\").replace("|", "\\|")


def _share(n: int, total: int) -> str:
    return f"{100.0 * n / total:.1f}%" if total else "-"


def _totals_line(s: dict[str, Any]) -> str:
    return (f"received {s['received']:,} ({s['events']:,} events, {s['invalid']:,} invalid) from "
            f"{s['messages']:,} messages; unknown {s['unknown']:,}; no reason {s['no_reason']:,}")


def _display_rows(snapshot: dict[str, Any], by: str, top: int | None) -> tuple[list[str], list[list[str]], list[bool]]:
    """Header, cells and right-alignment flags of the --by table for the text and Markdown outputs."""
    total = snapshot["events"]
    if by == "reason":
        header = ["COUNT", "SHARE", "VENDOR", "CODE", "REASON", "CATEGORY", "OUTCOME"]
        right = [True, True, False, False, False, False, False]
        cells = []
        for r in _rows(snapshot, by, top):
            code = "-" if r["code"] is None else (r["code"] if r["subcode"] is None else f"{r['code']}/{r['subcode']}")
            cells.append([f"{r['count']:,}", _share(r["count"], total), r["vendor"], code, r["label"],
                          r["category"], r["outcome"]])
    else:
        header = ["COUNT", "SHARE", by.upper()]
        right = [True, True, False]
        cells = [[f"{r['count']:,}", _share(r["count"], total), str(r[by])] for r in _rows(snapshot, by, top)]
    return header, cells, right


def to_markdown(snapshot: dict[str, Any], source: str, by: str, top: int | None) -> str:
    header, cells, right = _display_rows(snapshot, by, top)
    lines = [f"**{_md(source)}**: {_totals_line(snapshot)}", "",
             "| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in cells]
    return "\n".join(lines) + "\n"


def _table(header: list[str], cells: list[list[str]], right: list[bool]) -> list[str]:
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(header)]

    def fmt(row: list[str]) -> str:
        parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right)]
        return "  ".join(parts).rstrip()

    return [fmt(header)] + [fmt(row) for row in cells]


def to_text(snapshot: dict[str, Any], source: str, by: str, top: int | None) -> str:
    header, cells, right = _display_rows(snapshot, by, top)
    lines = [f"{source}: {_totals_line(snapshot)}", ""]
    if cells:
        lines += _table(header, cells, right)
        shown = len(cells)
        everything = len(snapshot["reasons"]) if by == "reason" else len(snapshot[f"by_{by}"])
        if shown < everything:
            lines.append(f"... {everything - shown:,} more rows (--top {top})")
    else:
        lines.append("no events")
    if by == "reason" and snapshot["events"]:
        lines.append("")
        lines.append("by outcome:  " + "  ".join(f"{k} {v:,}" for k, v in snapshot["by_outcome"].items()))
        lines.append("by vendor:   " + "  ".join(f"{k} {v:,}" for k, v in snapshot["by_vendor"].items()))
    if snapshot["invalid"]:
        lines.append("invalid:     " + "  ".join(f"{k} {v:,}" for k, v in snapshot["invalid_by_cause"].items()))
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ run


def run(args: argparse.Namespace) -> int:
    import orjson

    from tui.commands.common import catalogs_for
    from tui.domain.pipeline import Pipeline

    prog = "callwatch summary"
    catalogs = catalogs_for(args)
    # Count only: no recent events, no rate buckets (the cheapest mode; the counts are the same).
    aggregate = Aggregate(recent_limit=0, invalid_limit=0, horizon_s=0)
    bad = BadLines(item_label(args.source))
    pipeline = Pipeline(catalogs, aggregate, keep_events=False, on_invalid=bad)
    source = display_source(args.source)
    try:
        read_source(args, pipeline.feed, lambda: aggregate.received, pipeline.count_lines)
    except SourceError as exc:
        bad.report(prog)
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    bad.report(prog)
    snapshot = aggregate.snapshot()
    if args.json:
        sys.stdout.write(orjson.dumps(to_json(snapshot, source, args.by, args.top), option=orjson.OPT_INDENT_2).decode())
        sys.stdout.write("\n")
    elif args.csv:
        sys.stdout.write(to_csv(snapshot, args.by, args.top))
    elif args.markdown:
        sys.stdout.write(to_markdown(snapshot, source, args.by, args.top))
    else:
        sys.stdout.write(to_text(snapshot, source, args.by, args.top))
    sys.stdout.flush()
    return 0
