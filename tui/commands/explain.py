"""`callwatch explain SOURCE`: every message of a capture (or a live feed) in order, with its lookup.

For each event: the vendor, the code as delivered, what the catalogs say it means (name, category,
outcome, description, advice) and who ended the call; for each invalid message: why it was rejected.
It goes through the same decode -> lookup pipeline as the dashboard and `summary`, so what it prints
is exactly how those count. With --json: one JSON object per line (an array message yields one
object per element; within one message its events come first, then its invalid elements). Exit status: 0 when the source was read (invalid lines included), 2 when it
could not be.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from typing import Any

from tui.commands.summary import BadLines, SourceError, add_source_arguments, display_source, item_label
from tui.domain.model import CallEnd, InvalidMessage

NO_REASON_TEXT = "The payload delivered no reason at all (distinct from an unknown code)."


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "explain",
        parents=[common],
        help="show every message of a capture or feed with its lookup",
        description="Print every message in order with what its reason code means. Invalid messages are "
        "shown with their cause. Exit status 0 unless the source cannot be read (2).",
        epilog="examples: callwatch explain fixtures/envelope/stream.jsonl | callwatch explain calls.json "
        "--json | jq 'select(.known == false)'",
    )
    add_source_arguments(p)
    p.add_argument("--json", action="store_true", help="one JSON object per event or invalid message")
    p.set_defaults(run=run)


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    try:
        return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


def payload_time(event: CallEnd, raw: Any) -> float | None:
    """The event's time when the payload carried one; None when the pipeline fell back to the
    receive (or recorded) time, which explain must not present as the event's time."""
    if event.ts == getattr(raw, "received", None) or event.ts == getattr(raw, "recorded_at", None):
        return None
    return event.ts


def event_record(event: CallEnd, ts: float | None) -> dict[str, Any]:
    """The --json object for one event (`ts`: its payload time, or None)."""
    reason = event.reason
    if reason is None:
        description, advice = NO_REASON_TEXT, None
    else:
        description, advice = reason.description, reason.advice
    entry = reason.entry if reason is not None else None
    return {
        "line": event.seq,
        "vendor": event.vendor,
        "code": event.code,
        "subcode": event.subcode,
        "known": event.known,
        "name": entry.name if entry is not None else None,
        "namespace": entry.namespace if entry is not None else None,
        "matched": reason.matched if reason is not None else None,
        "category": event.category,
        "outcome": event.outcome,
        "source": event.source,
        "source_name": event.source_name,
        "call_id": event.call_id,
        "ts": _iso(ts),
        "format": event.format,
        "user_code": event.user_code,
        "message": event.message,
        "description": description,
        "advice": advice,
    }


def invalid_record(bad: InvalidMessage) -> dict[str, Any]:
    """The --json object for one invalid message."""
    return {"line": bad.seq, "error": f"{bad.cause}: {bad.detail}", "cause": bad.cause, "snippet": bad.snippet}


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def event_text(event: CallEnd, label: str, ts: float | None) -> str:
    """The human-readable block for one event."""
    raw = "-" if event.code is None else (event.code if event.subcode is None else f"{event.code}/{event.subcode}")
    reason = event.reason
    if reason is None:
        meaning = "no reason delivered"
    elif reason.entry is None:
        meaning = "unknown code"
    else:
        e = reason.entry
        meaning = f"{e.name}  [{e.category}, {e.outcome}]"
        if reason.matched not in ("exact", "code"):
            meaning += f"  (matched by {reason.matched})"
    head = f"{label} {event.seq}  {event.vendor} {raw} -> {meaning}"
    facts = []
    if event.source is not None:
        name = event.source_name
        facts.append(f"ended by {name} ({event.source})" if name and name != event.source else
                     f"ended by {event.source}")
    if event.call_id:
        facts.append(f"call {event.call_id}")
    when = _iso(ts)
    if when:
        facts.append(f"at {when}")
    if event.format != "envelope":
        facts.append(f"format {event.format}")
    if event.user_code:
        facts.append(f"user code {event.user_code}")
    lines = [head]
    if facts:
        lines.append("    " + "   ".join(facts))
    if event.message:
        lines.append(f"    message: {event.message}")
    if reason is None:
        lines.append(_indent(NO_REASON_TEXT))
    else:
        lines.append(_indent(reason.description))
        lines.append(_indent("advice: " + reason.advice))
    return "\n".join(lines)


def invalid_text(bad: InvalidMessage, label: str) -> str:
    return f"{label} {bad.seq}  invalid: {bad.cause}: {bad.detail}\n    {bad.snippet}"


def run(args: argparse.Namespace) -> int:
    import orjson

    from tui.commands.summary import read_source
    from tui.domain.aggregate import Aggregate
    from tui.commands.common import catalogs_for
    from tui.domain.pipeline import Pipeline

    prog = "callwatch explain"
    catalogs = catalogs_for(args)
    aggregate = Aggregate(recent_limit=0, invalid_limit=0, horizon_s=0)
    pipeline = Pipeline(catalogs, aggregate)
    label = item_label(args.source)
    bad = BadLines(label, shown=0)
    out = sys.stdout
    dumps = orjson.dumps

    def handle(raw: Any) -> None:
        items = pipeline.process(raw)
        if args.json:
            for item in items:
                if isinstance(item, CallEnd):
                    record = event_record(item, payload_time(item, raw))
                else:
                    record = invalid_record(item)
                out.write(dumps(record).decode())
                out.write("\n")
        else:
            for item in items:
                if isinstance(item, CallEnd):
                    out.write(event_text(item, label, payload_time(item, raw)) + "\n\n")
                else:
                    bad(item)
                    out.write(invalid_text(item, label) + "\n\n")

    try:
        read_source(args, handle, lambda: aggregate.received)
    except SourceError as exc:
        out.flush()
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    if not args.json:
        t = aggregate.totals()
        out.write(f"{display_source(args.source)}: {t.received:,} received ({t.events:,} events, "
                  f"{t.invalid:,} invalid; {t.unknown:,} unknown, {t.no_reason:,} without a reason) "
                  f"from {t.messages:,} messages\n")
    out.flush()
    return 0
