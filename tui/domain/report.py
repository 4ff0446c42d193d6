"""Incident reports: a post-mortem of a capture or a dashboard session as Markdown, HTML or JSON.

Pure Python (never imports textual). The numbers come from the same `Aggregate` the dashboard and
`callwatch summary` count with, so a report always agrees with them:

* `ReportCollector` is an `Aggregate` that also keeps what a report needs beyond the counts (the
  event-time span, a per-minute timeline by outcome, per-reason per-minute counts for peak times, a
  few sample events per reason, bookmarked events). Feed it through `Pipeline` like any aggregate.
  An optional time window and filter decide which events it counts at all, so every figure of a
  windowed report covers the same events.
* `build_report(source, bookmarks, ...)` turns a collector, a plain dashboard `Aggregate` or an
  iterable of `CallEnd` into an immutable `Report`; `render_markdown`, `render_html` and
  `render_json` turn that into text.

Every string that came from a feed was sanitized at ingestion (control characters made visible) and
is escaped again for the output format here: HTML-escaped in the HTML report (which also carries a
Content-Security-Policy allowing no script and no network fetch), Markdown-escaped in Markdown.
"""

from __future__ import annotations

import html
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from tui.domain.aggregate import NONE, OTHER, UNKNOWN, Aggregate, Flag, ReasonKey, reason_key
from tui.domain.bookmarks import Bookmark
from tui.domain.catalog import Catalogs
from tui.domain.export import markdown_cell, safe_json_dumps
from tui.domain.model import NO_REASON, UNKNOWN_OUTCOME, CallEnd, Entry
from tui.domain.sanitize import clean

__all__ = [
    "ABNORMAL_OUTCOMES",
    "Report",
    "ReportCollector",
    "ReasonSummary",
    "FlagSummary",
    "TimelinePoint",
    "Sample",
    "Equivalent",
    "RelativeTime",
    "build_report",
    "render_markdown",
    "render_html",
    "render_json",
    "parse_time",
    "rolling_window",
    "timeline_buckets",
    "write_report",
]

#: Outcomes that count as abnormal disconnects (the ones worth waking someone for).
ABNORMAL_OUTCOMES: tuple[str, ...] = ("unexpected_server_error", "unexpected_client_error")
#: Columns of a timeline minute: all events, server errors, client errors, unknown codes.
_EVENTS, _SERVER, _CLIENT, _UNKNOWN = range(4)
_OUTCOME_COLUMN = {"unexpected_server_error": _SERVER, "unexpected_client_error": _CLIENT,
                   UNKNOWN_OUTCOME: _UNKNOWN}


class EventFilter(Protocol):
    """What a report accepts as a filter: `tui.domain.filter.Filter` fits (a plain callable does too)."""

    def matches(self, event: CallEnd) -> bool: ...


# ---------------------------------------------------------------------------------------- time bounds


@dataclass(frozen=True, slots=True)
class RelativeTime:
    """A time given relative to the first event of the source: `+15m`, or a time of day `10:40`."""

    offset: float | None = None
    """Seconds after the first event (`+15m`)."""
    time_of_day: float | None = None
    """Seconds after midnight UTC of the first event's day (`10:40`)."""
    text: str = ""

    def resolve(self, anchor: float) -> float:
        if self.offset is not None:
            return anchor + self.offset
        midnight = math.floor(anchor / 86400) * 86400
        return midnight + (self.time_of_day or 0.0)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _parse_duration(text: str) -> float | None:
    """`90`, `90s`, `15m`, `1h30m`, `2d` -> seconds; None when it is not one."""
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhd])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNITS[u] for n, u in parts)


def parse_time(text: str) -> float | RelativeTime:
    """Parse `--from`/`--to`: RFC 3339 / ISO 8601 (no zone = UTC), Unix seconds (or ms...), `+DURATION`
    after the first event (`+15m`, `+1h30m`), or a time of day `HH:MM[:SS]` (UTC, on the first event's
    day). Raises ValueError with a message for the user."""
    from tui.domain.adapters import parse_ts

    t = text.strip()
    if t.startswith("+"):
        seconds = _parse_duration(t[1:])
        if seconds is None:
            raise ValueError(f"not a duration: {text!r} (e.g. +90s, +15m, +1h30m)")
        return RelativeTime(offset=seconds, text=t)
    parts = t.split(":")
    if 2 <= len(parts) <= 3 and all(p.isdigit() and len(p) <= 2 for p in parts[:2]):
        try:
            h, m = int(parts[0]), int(parts[1])
            s = float(parts[2]) if len(parts) == 3 else 0.0
        except ValueError:
            raise ValueError(f"not a time of day: {text!r}") from None
        if h > 23 or m > 59 or not 0 <= s < 60:
            raise ValueError(f"not a time of day: {text!r}")
        return RelativeTime(time_of_day=h * 3600 + m * 60 + s, text=t)
    ts = parse_ts(t.replace(" ", "T", 1) if len(t) > 10 and t[10:11] == " " else t)
    if ts is None:
        raise ValueError(f"not a time: {text!r} (use 2025-07-14T10:40:00Z, Unix seconds, 10:40 or +15m)")
    return ts


def rolling_window(seconds: int | None, head: int | None) -> tuple[float, None] | None:
    """The report window matching the dashboard's rolling window of `seconds` (1m = 60...) at the
    aggregate's head second: the same seconds its window counts cover. None (the whole session) for
    `seconds` None or before the first event."""
    if not seconds or head is None:
        return None
    return (float(head - seconds + 1), None)


def _resolve(bound: float | RelativeTime | None, anchor: float | None) -> float | None:
    if bound is None or isinstance(bound, (int, float)):
        return bound
    if anchor is None:
        return None
    return bound.resolve(anchor)


# ---------------------------------------------------------------------------------------- collecting


def _overflow_key(key: ReasonKey) -> ReasonKey:
    # The aggregate counts unknown reasons beyond its cap under these keys (see Aggregate._new_key).
    return (OTHER, NONE, None, None, None) if key[1] == NONE else (OTHER, UNKNOWN, None, OTHER, None)


#: Resolution of the stored timeline, in seconds (tables show minutes; the chart of a short capture
#: needs finer bars than six per-minute ones).
SLOT_S = 10


def _slot(ts: float, width: int) -> int | None:
    try:
        return int(ts // width) * width if math.isfinite(ts) else None
    except (TypeError, ValueError, OverflowError):
        return None


class ReportCollector(Aggregate):
    """An `Aggregate` that also keeps what an incident report needs. Counts are the aggregate's own.

    Args:
        window: (start, end) event-time bounds, start inclusive, end exclusive; either may be None,
            Unix seconds or a `RelativeTime` (resolved against the first event fed).
        event_filter: only events it `matches` (or, for a plain callable, returns true for) are counted.
        keep_seqs: line/frame numbers whose events are kept whole (bookmarked events).
        samples_per_reason: the first N events of each reason are kept as samples.
        sample_reasons: at most this many distinct reasons keep samples (bounded memory).
        max_slots: at most this many distinct 10-second slots in the timeline (hostile timestamps).
        max_cells: at most this many (reason, minute) counts kept for peak times.
        **options: passed to `Aggregate` (recent_limit defaults to 0: the report keeps its own samples).
    """

    def __init__(
        self,
        *,
        window: tuple[float | RelativeTime | None, float | RelativeTime | None] | None = None,
        event_filter: EventFilter | Callable[[CallEnd], bool] | None = None,
        keep_seqs: Iterable[int] = (),
        samples_per_reason: int = 3,
        sample_reasons: int = 500,
        max_slots: int = 200_000,
        max_cells: int = 500_000,
        **options: Any,
    ) -> None:
        self.window_spec = window or (None, None)
        self.event_filter = event_filter
        self._match = _matcher(event_filter)
        self.keep_seqs = frozenset(keep_seqs)
        self.samples_per_reason = samples_per_reason
        self.sample_reasons = sample_reasons
        self.max_slots = max_slots
        self.max_cells = max_cells
        options.setdefault("recent_limit", 0)
        options.setdefault("invalid_limit", 0)
        super().__init__(**options)

    def reset(self) -> None:
        super().reset()
        #: Events seen but not counted (outside the window or not matching the filter).
        self.skipped = 0
        #: Events counted but left out of the timeline (too many distinct slots).
        self.untimed = 0
        self.anchor: float | None = None
        self.window: tuple[float | None, float | None] = (None, None)
        self.first: float | None = None
        self.last: float | None = None
        #: Per `SLOT_S` seconds: [events, server errors, client errors, unknown codes].
        self.slots: dict[int, list[int]] = {}
        self.key_minutes: dict[ReasonKey, dict[int, int]] = {}
        self._cells = 0
        self.samples: dict[ReasonKey, list[CallEnd]] = {}
        self.kept: dict[int, list[CallEnd]] = {}

    @property
    def seen(self) -> int:
        """Every element fed: counted events, skipped events and invalid elements."""
        return self.received + self.skipped

    def add(self, event: CallEnd) -> None:
        ts = event.ts
        if self.anchor is None:
            self.anchor = ts
            start, end = self.window_spec
            self.window = (_resolve(start, ts), _resolve(end, ts))
        start, end = self.window
        if (start is not None and not ts >= start) or (end is not None and not ts < end):
            self.skipped += 1
            return
        if self._match is not None and not self._match(event):
            self.skipped += 1
            return
        super().add(event)
        key = reason_key(event.vendor, event.reason)
        if key not in self._info:
            key = _overflow_key(key)
        if self.first is None or ts < self.first:
            self.first = ts
        if self.last is None or ts > self.last:
            self.last = ts
        slot = _slot(ts, SLOT_S)
        row = self.slots.get(slot) if slot is not None else None
        if row is None and slot is not None and len(self.slots) < self.max_slots:
            row = self.slots[slot] = [0, 0, 0, 0]
        if row is None:
            self.untimed += 1
        else:
            row[_EVENTS] += 1
            column = _OUTCOME_COLUMN.get(event.outcome)
            if column is not None:
                row[column] += 1
            cells = self.key_minutes.get(key)
            if cells is None and self._cells < self.max_cells:
                cells = self.key_minutes[key] = {}
            minute = slot - slot % 60  # type: ignore[operator]
            if cells is not None:
                n = cells.get(minute)
                if n is not None:
                    cells[minute] = n + 1
                elif self._cells < self.max_cells:
                    cells[minute] = 1
                    self._cells += 1
        kept = self.samples.get(key)
        if kept is None:
            if len(self.samples) < self.sample_reasons and self.samples_per_reason > 0:
                self.samples[key] = [event]
        elif len(kept) < self.samples_per_reason:
            kept.append(event)
        if event.seq in self.keep_seqs:
            at_seq = self.kept.setdefault(event.seq, [])
            if len(at_seq) < 20:
                at_seq.append(event)


def _matcher(event_filter: Any) -> Callable[[CallEnd], bool] | None:
    if event_filter is None:
        return None
    if getattr(event_filter, "active", True) is False:
        return None  # an empty (or invalid, which matches everything) dashboard filter
    matches = getattr(event_filter, "matches", None)
    if callable(matches):
        return matches  # type: ignore[no-any-return]
    if callable(event_filter):
        return event_filter  # type: ignore[no-any-return]
    raise TypeError("event_filter must have matches(event) or be callable")


def _filter_text(event_filter: Any, text: str | None) -> str | None:
    if text is not None:
        return clean(text, 300)
    if _matcher(event_filter) is None:
        return None
    describe = getattr(event_filter, "describe", None)
    if callable(describe):
        try:
            return clean(describe(), 300)
        except Exception:
            pass
    return "custom filter"


# ---------------------------------------------------------------------------------------- the report


@dataclass(frozen=True, slots=True)
class Equivalent:
    """Another vendor's entry in the same category (a cross-vendor equivalent)."""

    vendor: str
    code: str
    name: str
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "code": self.code, "name": self.name, "summary": self.summary}


@dataclass(frozen=True, slots=True)
class ReasonSummary:
    """One of the top reasons: its count and share, what it means, when it was seen."""

    rank: int
    vendor: str
    label: str
    code_text: str
    namespace: str | None
    category: str
    outcome: str
    known: bool
    count: int
    share: float
    """count / events (0..1)."""
    description: str
    advice: str
    equivalents: tuple[Equivalent, ...]
    first_seen: float | None
    peak_at: float | None
    """Start of the minute with the most events of this reason."""
    peak_count: int
    """Events of this reason in that minute."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank, "vendor": self.vendor, "reason": self.label, "code": self.code_text,
            "namespace": self.namespace, "category": self.category, "outcome": self.outcome,
            "known": self.known, "count": self.count, "share": round(self.share, 6),
            "description": self.description, "advice": self.advice,
            "equivalents": [e.to_dict() for e in self.equivalents],
            "first_seen": self.first_seen, "peak_at": self.peak_at, "peak_per_minute": self.peak_count,
        }


@dataclass(frozen=True, slots=True)
class FlagSummary:
    """A spike or a first-seen reason: when it started, peaked and ended."""

    kind: str
    vendor: str
    label: str
    code_text: str
    outcome: str
    started: float
    ended: float | None
    count: int
    """Events in the spike window when raised (1 for first_seen)."""
    peak: int
    """Largest spike-window count while active."""
    peak_at: float | None
    """Start of the busiest minute of the reason while the flag was active."""
    baseline: float

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "vendor": self.vendor, "reason": self.label, "code": self.code_text,
                "outcome": self.outcome, "started": self.started, "peak_at": self.peak_at,
                "ended": self.ended, "count": self.count, "peak": self.peak,
                "baseline": round(self.baseline, 3)}


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    """One minute (or one bucket of several) of the timeline."""

    start: float
    events: int
    server_errors: int
    client_errors: int
    unknown: int

    @property
    def abnormal(self) -> int:
        """Unexpected server and client errors (abnormal disconnects)."""
        return self.server_errors + self.client_errors

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "events": self.events, "abnormal": self.abnormal,
                "unexpected_server_error": self.server_errors,
                "unexpected_client_error": self.client_errors, "unknown": self.unknown}


@dataclass(frozen=True, slots=True)
class Sample:
    """One event shown in full (masked when the report was built with a mask)."""

    seq: int
    ts: float
    vendor: str
    code_text: str
    reason: str
    outcome: str
    source: str | None
    call_id: str | None
    message: str | None
    format: str
    raw: str
    bookmarked: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "vendor": self.vendor, "code": self.code_text,
                "reason": self.reason, "outcome": self.outcome, "source": self.source,
                "call_id": self.call_id, "message": self.message, "format": self.format,
                "raw": self.raw, "bookmarked": self.bookmarked}


@dataclass(frozen=True, slots=True)
class Report:
    """An incident report: plain data, ready for any renderer."""

    title: str
    source: str
    generated: float | None
    """When the report was made (Unix seconds; None in deterministic tests)."""
    start: float | None
    """First event time counted."""
    end: float | None
    """Last event time counted."""
    window: tuple[float | None, float | None]
    """The requested window (resolved), or (None, None)."""
    filter_text: str | None
    counts: dict[str, int]
    """received, messages, events, invalid, unknown, no_reason, abnormal, skipped."""
    by_outcome: tuple[tuple[str, int], ...]
    by_vendor: tuple[tuple[str, int], ...]
    by_category: tuple[tuple[str, int], ...]
    by_source: tuple[tuple[str, int], ...]
    invalid_by_cause: tuple[tuple[str, int], ...]
    reasons: tuple[dict[str, Any], ...]
    """Every reason row, as `summary --json` prints them (count desc, then name)."""
    top: tuple[ReasonSummary, ...]
    """The largest reasons (the top table), whatever their outcome."""
    details: tuple[ReasonSummary, ...]
    """The reasons described in full: the top ones that are not successes, then flagged ones."""
    flags: tuple[FlagSummary, ...]
    timeline: tuple[TimelinePoint, ...]
    """Per-minute points with events, oldest first (minutes without events are left out)."""
    bookmarks: tuple[Bookmark, ...]
    samples: tuple[Sample, ...]
    fine: tuple[TimelinePoint, ...] = ()
    """The timeline per `SLOT_S` seconds (for charts of short sources)."""
    notes: tuple[str, ...] = ()
    masked: bool = False

    @property
    def events(self) -> int:
        return self.counts["events"]


# ---------------------------------------------------------------------------------------- building


@dataclass
class _Stats:
    snapshot: dict[str, Any]
    flags: Sequence[Flag]
    slots: dict[int, list[int]]
    """Per `slot_s` seconds: [events, server errors, client errors, unknown]."""
    key_minutes: Callable[[ReasonKey], dict[int, int]]
    samples: dict[ReasonKey, list[CallEnd]]
    kept: dict[int, list[CallEnd]]
    first: float | None
    last: float | None
    skipped: int = 0
    window: tuple[float | None, float | None] = (None, None)
    notes: list[str] = field(default_factory=list)
    first_seen: Callable[[ReasonKey], float | None] = lambda key: None


def _collector_stats(c: ReportCollector) -> _Stats:
    notes = []
    if c.untimed:
        notes.append(f"{c.untimed:,} events are left out of the timeline (more than {c.max_slots:,} "
                     f"distinct {SLOT_S}-second slots).")
    return _Stats(c.snapshot(), c.flags, c.slots, lambda key: c.key_minutes.get(key, {}), c.samples,
                  c.kept, c.first, c.last, c.skipped, c.window, notes, _first_seen(c))


def _aggregate_stats(agg: Aggregate, samples_per_reason: int) -> _Stats:
    """What a plain dashboard aggregate can tell: exact counts and flags; a timeline over its rate
    horizon (per-second buckets summed by minute); samples from the recent events it keeps."""
    snapshot = agg.snapshot()
    slots: dict[int, list[int]] = {}
    head = agg.head
    horizon = agg.horizon_s
    notes: list[str] = []

    # Only the seconds since the first event matter (a short replay need not scan a whole hour).
    oldest = min((t for t in map(_first_seen(agg), agg.counts()) if t is not None), default=None)
    span = horizon if head is None or oldest is None else max(1, min(horizon, head - int(oldest) + 1))

    def seconds(key: ReasonKey | None) -> dict[int, int]:
        """Events per second (event time) over the rate horizon, from the aggregate's own buckets."""
        if head is None or horizon <= 0:
            return {}
        first = head - span + 1
        return {first + i: v for i, v in enumerate(agg.sparkline(key, buckets=span, step_s=1)) if v}

    def series(key: ReasonKey) -> dict[int, int]:
        """Per-minute counts of one reason (minute starts aligned to the clock)."""
        out: dict[int, int] = {}
        for sec, v in seconds(key).items():
            out[sec - sec % 60] = out.get(sec - sec % 60, 0) + v
        return out

    for sec, v in seconds(None).items():
        slot = sec - sec % SLOT_S
        slots.setdefault(slot, [0, 0, 0, 0])[_EVENTS] += v
    # Abnormal and unknown series, one per such reason (the largest ones when there are many).
    interesting = [k for k in _keys(agg) if agg.info(k)["outcome"] in _OUTCOME_COLUMN]
    if len(interesting) > 200:
        notes.append(f"the timeline shows the 200 largest of {len(interesting):,} abnormal or unknown reasons.")
        interesting = interesting[:200]
    for key in interesting:
        column = _OUTCOME_COLUMN[agg.info(key)["outcome"]]
        for sec, v in seconds(key).items():
            slots.setdefault(sec - sec % SLOT_S, [0, 0, 0, 0])[column] += v
    if head is not None and agg.horizon_s:
        notes.append(f"the timeline and spike peaks cover the dashboard's last {agg.horizon_s // 60} minutes.")
    samples: dict[ReasonKey, list[CallEnd]] = {}
    kept: dict[int, list[CallEnd]] = {}
    first = last = None
    for event in agg.recent:
        key = reason_key(event.vendor, event.reason)
        got = samples.setdefault(key, [])
        got.append(event)
        if len(got) > samples_per_reason:
            del got[0]  # the most recent ones
        kept.setdefault(event.seq, []).append(event)
        last = event.ts if last is None or event.ts > last else last
    for key in _keys(agg):
        seen = agg.info(key)["first_seen"]
        if seen is not None and (first is None or seen < first):
            first = seen
    if head is not None and (last is None or head > last):
        last = float(head)
    return _Stats(snapshot, agg.flags, slots, series, samples, kept, first, last, 0, (None, None), notes,
                  _first_seen(agg))


def _first_seen(agg: Aggregate) -> Callable[[ReasonKey], float | None]:
    def first_seen(key: ReasonKey) -> float | None:
        try:
            value = agg.info(key)["first_seen"]
        except KeyError:
            return None
        return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None

    return first_seen


def _keys(agg: Aggregate) -> list[ReasonKey]:
    """Reason keys in the snapshot's row order (count desc, then name)."""
    counts = agg.counts()
    return sorted(counts, key=lambda k: (-counts[k], agg.info(k)["label"], k[0], k[2] or "", k[3] or "",
                                         k[4] or ""))


def build_report(
    source: Aggregate | Iterable[CallEnd],
    bookmarks: Iterable[Bookmark] = (),
    *,
    catalogs: Catalogs | None = None,
    filter: EventFilter | Callable[[CallEnd], bool] | None = None,  # noqa: A002 - the documented name
    window: tuple[float | RelativeTime | None, float | RelativeTime | None] | None = None,
    filter_text: str | None = None,
    title: str = "Incident report",
    source_name: str = "",
    generated: float | None = None,
    mask: Callable[[CallEnd], CallEnd] | None = None,
    top: int = 10,
    samples: int = 5,
) -> Report:
    """Build a `Report`.

    `source` is one of:

    * a `ReportCollector` the source was fed into (the `report` command): everything is exact, and
      `filter`/`window` must be given to the collector instead (they are ignored here);
    * a plain `Aggregate` (the dashboard's): without `filter` and `window` the counts and flags are
      the aggregate's own, exactly what the dashboard shows; with either, the report is built from the
      recent events the aggregate keeps (a note says so when it counted more than it keeps);
    * an iterable of `CallEnd`: fed into a fresh collector with `filter` and `window`.

    `bookmarks` inside the report's window are listed; their events are shown when still known.
    `mask` (e.g. from `tui.domain.mask`) is applied to every sample event before it is shown.
    """
    if catalogs is None:
        from tui.domain.catalog import load_catalogs

        catalogs = load_catalogs()
    marks = tuple(bookmarks)
    extra_notes: list[str] = []
    if isinstance(source, ReportCollector):
        stats = _collector_stats(source)
        active_filter = source.event_filter
    elif isinstance(source, Aggregate) and _matcher(filter) is None and window is None:
        stats = _aggregate_stats(source, 3)
        active_filter = None
    else:
        events: Iterable[CallEnd]
        if isinstance(source, Aggregate):
            events = source.recent
            start = _resolve(window[0], None) if window else None
            covered = start is not None and bool(events) and events[0].ts <= start
            if source.events > len(source.recent) and not covered:
                extra_notes.append(
                    f"filtered from the {len(source.recent):,} most recent events the dashboard keeps "
                    f"(of {source.events:,} counted).")
        else:
            events = source
        collector = ReportCollector(window=window, event_filter=filter, keep_seqs={b.seq for b in marks})
        for event in events:
            collector.add(event)
        stats = _collector_stats(collector)
        active_filter = filter
    stats.notes.extend(extra_notes)
    return _assemble(stats, marks, catalogs, active_filter, filter_text, title, source_name, generated,
                     mask, top, samples)


def _assemble(stats: _Stats, marks: tuple[Bookmark, ...], catalogs: Catalogs, active_filter: Any,
              filter_text: str | None, title: str, source_name: str, generated: float | None,
              mask: Callable[[CallEnd], CallEnd] | None, top: int, samples: int) -> Report:
    snap = stats.snapshot
    events = snap["events"]
    by_outcome = snap["by_outcome"]
    abnormal = sum(by_outcome.get(o, 0) for o in ABNORMAL_OUTCOMES)
    counts = {k: snap[k] for k in ("received", "messages", "events", "invalid", "unknown", "no_reason")}
    counts["abnormal"] = abnormal
    counts["skipped"] = stats.skipped
    reasons = tuple(snap["reasons"])
    keys = [_row_key(r) for r in reasons]
    top_rows = [_reason_summary(rank, row, key, events, catalogs, stats)
                for rank, (row, key) in enumerate(zip(reasons[:top], keys[:top]), 1)]
    details = [r for r in top_rows if r.outcome != "success"]
    described = {(r.vendor, r.code_text, r.label) for r in details}
    rank_of = {key: i for i, key in enumerate(keys, 1)}
    for flag in stats.flags:
        rank = rank_of.get(flag.key)
        if rank is None or rank <= top:
            continue
        summary = _reason_summary(rank, reasons[rank - 1], flag.key, events, catalogs, stats)
        if (summary.vendor, summary.code_text, summary.label) not in described:
            described.add((summary.vendor, summary.code_text, summary.label))
            details.append(summary)
    flags = tuple(_flag_summary(f, stats) for f in stats.flags)
    fine = tuple(TimelinePoint(float(m), *v) for m, v in sorted(stats.slots.items()))
    per_minute: dict[int, list[int]] = {}
    for start, v in stats.slots.items():
        row = per_minute.setdefault(start - start % 60, [0, 0, 0, 0])
        for i in range(4):
            row[i] += v[i]
    timeline = tuple(TimelinePoint(float(m), *v) for m, v in sorted(per_minute.items()))
    start, end = stats.window
    in_window = tuple(sorted(
        (b for b in marks if (start is None or b.ts >= start) and (end is None or b.ts < end)),
        key=lambda b: (b.ts, b.seq)))
    chosen = _choose_samples(stats, reasons, keys, in_window, samples, mask)
    notes = list(stats.notes)
    if stats.window != (None, None) and counts["invalid"]:
        notes.append("invalid elements carry no event time: they are counted over the whole source.")
    return Report(
        title=clean(title, 200),
        source=clean(source_name, 500),
        generated=generated,
        start=stats.first,
        end=stats.last,
        window=stats.window,
        filter_text=_filter_text(active_filter, filter_text),
        counts=counts,
        by_outcome=tuple(by_outcome.items()),
        by_vendor=tuple(snap["by_vendor"].items()),
        by_category=tuple(snap["by_category"].items()),
        by_source=tuple(snap["by_source"].items()),
        invalid_by_cause=tuple(snap["invalid_by_cause"].items()),
        reasons=reasons,
        top=tuple(top_rows),
        details=tuple(details),
        flags=flags,
        timeline=timeline,
        fine=fine,
        bookmarks=in_window,
        samples=chosen,
        notes=tuple(notes),
        masked=mask is not None,
    )


def _row_key(row: dict[str, Any]) -> ReasonKey:
    status = "known" if row["known"] else (NONE if row["outcome"] == NO_REASON else UNKNOWN)
    return (row["vendor"], status, row["namespace"], row["code"], row["subcode"])


def _code_text(code: str | None, subcode: str | None) -> str:
    if code is None:
        return "-"
    return code if subcode is None else f"{code}/{subcode}"


def _peak(cells: dict[int, int], lo: float | None = None, hi: float | None = None) -> tuple[float | None, int]:
    best: tuple[float | None, int] = (None, 0)
    for minute, n in cells.items():
        if lo is not None and minute + 60 <= lo:
            continue
        if hi is not None and minute > hi:
            continue
        if n > best[1] or (n == best[1] and best[0] is not None and minute < best[0]):
            best = (float(minute), n)
    return best


def _equivalents(catalogs: Catalogs, entry: Entry, per_vendor: int = 2, limit: int = 6) -> tuple[Equivalent, ...]:
    out: list[Equivalent] = []
    seen: dict[str, int] = {}
    for e in catalogs.equivalents(entry):
        if seen.get(e.vendor, 0) >= per_vendor:
            continue
        seen[e.vendor] = seen.get(e.vendor, 0) + 1
        out.append(Equivalent(e.vendor, _code_text(e.code, e.subcode), e.name, e.summary))
        if len(out) >= limit:
            break
    return tuple(out)


def _reason_summary(rank: int, row: dict[str, Any], key: ReasonKey, events: int, catalogs: Catalogs,
                    stats: _Stats) -> ReasonSummary:
    if row["code"] is None:
        description = "The payload carried no reason at all (e.g. ACS CallParticipantRemoved, a LiveKit room_finished)."
        advice = ("Nothing to look up: check the event type the sender forwards; a call end should carry its "
                  "vendor's reason field.")
        equivalents: tuple[Equivalent, ...] = ()
    elif row["vendor"] == OTHER:
        description = "Reasons beyond the distinct-reason cap, counted together (a broken or hostile feed)."
        advice = "Look at the raw feed: thousands of distinct unknown codes usually mean the wrong field is read."
        equivalents = ()
    else:
        reason = catalogs.lookup(row["vendor"], row["code"], row["subcode"], row["namespace"])
        description, advice = reason.description, reason.advice
        equivalents = _equivalents(catalogs, reason.entry) if reason.entry is not None else ()
    cells = stats.key_minutes(key)
    peak_at, peak_count = _peak(cells)
    first_seen = stats.first_seen(key)
    return ReasonSummary(
        rank=rank, vendor=row["vendor"], label=row["label"], code_text=_code_text(row["code"], row["subcode"]),
        namespace=row["namespace"], category=row["category"], outcome=row["outcome"], known=row["known"],
        count=row["count"], share=row["count"] / events if events else 0.0, description=description,
        advice=advice, equivalents=equivalents, first_seen=first_seen,
        peak_at=peak_at, peak_count=peak_count)


def _flag_summary(flag: Flag, stats: _Stats) -> FlagSummary:
    cells = stats.key_minutes(flag.key)
    if flag.kind == "spike":
        peak_at, _n = _peak(cells, flag.started - 60, flag.ended)
    else:
        peak_at, _n = _peak(cells, flag.started)
    outcome = "unknown"
    if flag.key[1] == NONE:
        outcome = NO_REASON
    elif flag.key[1] == "known":
        for row in stats.snapshot["reasons"]:
            if _row_key(row) == flag.key:
                outcome = row["outcome"]
                break
    return FlagSummary(flag.kind, flag.vendor, flag.label, _code_text(flag.key[3], flag.key[4]), outcome,
                       flag.started, flag.ended, flag.count, flag.peak, peak_at, flag.baseline)


def _choose_samples(stats: _Stats, reasons: tuple[dict[str, Any], ...], keys: list[ReasonKey],
                    marks: tuple[Bookmark, ...], limit: int, mask: Callable[[CallEnd], CallEnd] | None
                    ) -> tuple[Sample, ...]:
    """Bookmarked events first, then one event of each top reason, abnormal and unknown ones first."""
    chosen: list[CallEnd] = []
    seen: set[tuple[int, float, str, str | None]] = set()
    bookmarked: set[int] = {b.seq for b in marks}

    def take(event: CallEnd) -> None:
        ident = (event.seq, event.ts, event.vendor, event.code)
        if ident not in seen:
            seen.add(ident)
            chosen.append(event)

    for b in marks:
        for event in stats.kept.get(b.seq, ()):
            if event.vendor == b.vendor and (b.code is None or event.code == b.code):
                take(event)
                break
    order = sorted(range(len(reasons)), key=lambda i: (reasons[i]["outcome"] not in (*ABNORMAL_OUTCOMES, UNKNOWN_OUTCOME), i))
    for i in order:
        if len(chosen) >= limit + len(marks):
            break
        got = stats.samples.get(keys[i])
        if got:
            take(got[0])
    out = []
    for event in chosen:
        if mask is not None:
            event = mask(event)
        out.append(Sample(
            seq=event.seq, ts=event.ts, vendor=event.vendor, code_text=_code_text(event.code, event.subcode),
            reason=event.reason_name, outcome=event.outcome, source=event.source_name or event.source,
            call_id=event.call_id, message=event.message, format=event.format, raw=event.raw,
            bookmarked=event.seq in bookmarked))
    return tuple(out)


# ---------------------------------------------------------------------------------------- shared text


def fmt_time(ts: float | None, *, date: bool = True) -> str:
    """`2025-07-14 10:41:02Z` (UTC), or `10:41:02` without the date; `-` for None."""
    if ts is None:
        return "-"
    try:
        dt = datetime.fromtimestamp(ts, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return clean(ts, 40)
    text = dt.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S")
    return text + "Z" if date else text


def fmt_duration(seconds: float) -> str:
    """`45m 12s`, `2h 05m`, `3d 4h`."""
    s = int(round(max(seconds, 0)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def _share(n: int, total: int) -> str:
    return f"{100.0 * n / total:.1f}%" if total else "-"


def _same_day(report: Report) -> bool:
    if report.start is None or report.end is None:
        return True
    return fmt_time(report.start)[:10] == fmt_time(report.end)[:10]


#: Bucket lengths a chart or table may use, in seconds.
_STEPS_S = (10, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 604800)


def timeline_buckets(report: Report, max_buckets: int, min_step_s: int = 60) -> tuple[int, list[TimelinePoint]]:
    """The timeline regrouped into at most `max_buckets` equal buckets of at least `min_step_s` seconds
    (10 s at the finest), covering the first to the last event with zeros included:
    (bucket length in seconds, points)."""
    source = report.fine if min_step_s < 60 and report.fine else report.timeline
    if not source:
        return max(min_step_s, SLOT_S), []
    lo = int(source[0].start)
    hi = int(source[-1].start)
    base = SLOT_S if source is report.fine else 60
    span = hi - lo + base
    width = next((w for w in _STEPS_S if w >= max(min_step_s, base) and math.ceil(span / w) <= max_buckets), None)
    if width is None:
        width = math.ceil(span / max_buckets / 86400) * 86400
    origin = lo - lo % width
    count = (hi - origin) // width + 1
    rows = [[0, 0, 0, 0] for _ in range(count)]
    for p in source:
        row = rows[(int(p.start) - origin) // width]
        row[0] += p.events
        row[1] += p.server_errors
        row[2] += p.client_errors
        row[3] += p.unknown
    return width, [TimelinePoint(float(origin + i * width), *r) for i, r in enumerate(rows)]


def _step_text(width: int) -> str:
    if width < 60:
        return f"{width} s"
    if width < 3600:
        return f"{width // 60} min"
    if width < 86400:
        return f"{width // 3600} h"
    return f"{width // 86400} d"


def _span_text(report: Report) -> str:
    if report.start is None:
        return "no events"
    span = (report.end or report.start) - report.start
    return f"{fmt_time(report.start)} to {fmt_time(report.end)} ({fmt_duration(span)})"


def _window_text(report: Report) -> str | None:
    lo, hi = report.window
    if lo is None and hi is None:
        return None
    return f"{fmt_time(lo) if lo is not None else 'start'} to {fmt_time(hi) if hi is not None else 'end'}"


def _what(esc: Callable[[object], str], vendor: str, code_text: str, label: str, code_mark: str = "") -> str:
    """`acs 410/3101 CALL_DROPPED_NETWORK_FAILURE`, without repeating a code that is its own name
    (`livekit JOIN_FAILURE`, `livekit ? SOMETHING_NEW`); `code_mark` wraps the code ("`" or "<code>")."""
    if label in (code_text, f"? {code_text}") or code_text == "-":
        return f"{esc(vendor)} {esc(label)}"
    if code_mark == "`" and "`" not in code_text:
        code = f"`{code_text}`"  # literal inside a code span: nothing to escape
    elif code_mark == "<code>":
        code = f"<code>{esc(code_text)}</code>"
    else:
        code = esc(code_text)
    return f"{esc(vendor)} {code} {esc(label)}"


def _pretty(raw: str) -> str:
    """A sample's raw payload indented when it is one complete JSON document; else as it is."""
    import json

    text = raw.strip()
    if not text.startswith(("{", "[")) or len(text) > 20_000:
        return raw
    try:
        value = json.loads(text)
    except ValueError:
        return raw  # cut with a marker, or not JSON
    return safe_json_dumps(value, indent=2)


def _headline(report: Report) -> str:
    c = report.counts
    events = c["events"]
    if not events:
        return "No call ends in this window."
    parts = [f"{events:,} call ends", f"{c['abnormal']:,} abnormal ({_share(c['abnormal'], events)})"]
    if c["unknown"]:
        parts.append(f"{c['unknown']:,} with unknown codes")
    if report.top:
        worst = next((t for t in report.top if t.outcome in ABNORMAL_OUTCOMES), None)
        if worst is not None:
            parts.append(f"top abnormal reason {worst.vendor} {worst.label} ({worst.count:,})")
    spikes = [f for f in report.flags if f.kind == "spike"]
    if spikes:
        parts.append(f"{len(spikes)} spike{'s' if len(spikes) != 1 else ''}")
    return "; ".join(parts) + "."


# ---------------------------------------------------------------------------------------- Markdown

def md(value: object) -> str:
    """Markdown-escape one line of text (`export.markdown_cell`: no link, HTML, code span, emphasis or
    table break can come out of feed text), and a leading `#`, `-`, `+`, `=` or `>` cannot start a
    heading or a list when the text begins a line."""
    text = markdown_cell(value if isinstance(value, str) else clean(value, None))
    return "\\" + text if text[:1] in ("#", "-", "+", "=", ">") else text


def _md_table(header: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:  # type: ignore[assignment]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _fence(text: str) -> str:
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


_BLOCKS = "·▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[int]) -> str:
    """A one-line chart of `values` with block characters."""
    top = max(values, default=0)
    if top <= 0:
        return "▁" * len(values)
    return "".join(_BLOCKS[0 if v <= 0 else max(1, round(v / top * 8))] for v in values)


def render_markdown(report: Report) -> str:
    """The report as Markdown (GitHub-flavoured tables), readable as plain text too."""
    c = report.counts
    events = c["events"]
    day = _same_day(report)
    t = lambda ts: fmt_time(ts, date=not day)  # noqa: E731
    out = [f"# {md(report.title)}", ""]
    meta = [f"- **Source:** {md(report.source) or '-'}", f"- **Events from:** {_span_text(report)} (times in UTC)"]
    if (w := _window_text(report)) is not None:
        meta.append(f"- **Window:** {w}")
    if report.filter_text:
        meta.append(f"- **Filter:** {md(report.filter_text)}")
    if report.generated is not None:
        meta.append(f"- **Generated:** {fmt_time(report.generated)}")
    if report.masked:
        meta.append("- **Masked:** identifiers in sample events are masked")
    out += meta + ["", f"**{md(_headline(report))}**", ""]
    for note in report.notes:
        out.append(f"> Note: {md(note)}")
    if report.notes:
        out.append("")

    out += ["## Totals", ""]
    rows = [[k, f"{v:,}", _share(v, events) if k not in ("received", "messages", "invalid", "skipped") else ""]
            for k, v in (("events", events), ("abnormal", c["abnormal"]), ("unknown code", c["unknown"]),
                         ("no reason", c["no_reason"]), ("invalid", c["invalid"]), ("messages", c["messages"]))]
    if c["skipped"]:
        rows.append(["outside window/filter", f"{c['skipped']:,}", ""])
    out += _md_table(["", "COUNT", "SHARE"], rows, {1, 2}) + [""]
    for title, pairs in (("By outcome", report.by_outcome), ("By vendor", report.by_vendor)):
        if pairs:
            out += [f"### {title}", ""]
            out += _md_table([title.split()[1].upper(), "COUNT", "SHARE"],
                             [[md(k), f"{v:,}", _share(v, events)] for k, v in pairs], {1, 2}) + [""]
    if report.invalid_by_cause:
        out += ["### Invalid messages by cause", ""]
        out += _md_table(["CAUSE", "COUNT"], [[md(k), f"{v:,}"] for k, v in report.invalid_by_cause], {1}) + [""]

    out += ["## Top reasons", ""]
    if report.top:
        out += _md_table(["#", "COUNT", "SHARE", "VENDOR", "CODE", "REASON", "CATEGORY", "OUTCOME"],
                         [[str(r.rank), f"{r.count:,}", _share(r.count, events), md(r.vendor), md(r.code_text),
                           md(r.label), md(r.category), md(r.outcome)] for r in report.top], {0, 1, 2})
        more = len(report.reasons) - len(report.top)
        if more > 0:
            out += ["", f"… and {more:,} more reasons ({sum(r['count'] for r in report.reasons[len(report.top):]):,} events)."]
    else:
        out.append("No events.")
    out.append("")

    out += ["## Spikes and first-seen reasons", ""]
    if report.flags:
        out += _md_table(["KIND", "VENDOR", "REASON", "CODE", "STARTED", "PEAK (60 s)", "BUSIEST MINUTE", "ENDED", "BASELINE"],
                         [[f.kind.replace("_", "-"), md(f.vendor), md(f.label), md(f.code_text), t(f.started),
                           f"{f.peak:,}", t(f.peak_at), t(f.ended) if f.ended is not None else ("active" if f.kind == "spike" else "-"),
                           f"{f.baseline:.1f}/min" if f.kind == "spike" else "-"] for f in report.flags], {5})
    else:
        out.append("None raised (a spike needs 5+ events of a reason in 60 s and 3x its baseline; "
                   "first-seen needs a warmed-up session).")
    out.append("")

    out += ["## Abnormal disconnects over time", ""]
    width, points = timeline_buckets(report, 60)
    if points:
        label = _step_text(width)
        out += [f"Per {label} (abnormal = unexpected server + client errors; times UTC):", "",
                "```", sparkline([p.abnormal for p in points]), "```", ""]
        top_abn = max((p.abnormal for p in points), default=0)
        rows = []
        for p in points:
            bar = "█" * (0 if not top_abn else round(p.abnormal / top_abn * 24))
            rows.append([t(p.start), f"{p.events:,}", f"{p.abnormal:,}", f"{p.server_errors:,}", f"{p.client_errors:,}",
                         f"{p.unknown:,}", bar])
        out += _md_table(["FROM", "EVENTS", "ABNORMAL", "SERVER", "CLIENT", "UNKNOWN", ""], rows, {1, 2, 3, 4, 5})
    else:
        out.append("No timed events.")
    out.append("")

    if report.details:
        out += ["## What the top reasons mean", "",
                "The largest reasons that are not normal ends, and every reason flagged above.", ""]
        for r in report.details:
            out.append(f"### {r.rank}. " + _what(md, r.vendor, r.code_text, r.label, "`"))
            out.append("")
            seen = (f"first seen {t(r.first_seen)}, busiest minute {t(r.peak_at)} ({r.peak_count:,} events)"
                    if r.peak_at is not None else "")
            out.append(f"{r.count:,} events ({_share(r.count, events)}), {md(r.category)} / {md(r.outcome)}"
                       + (f"; {seen}" if seen else "") + ".")
            out += ["", md(r.description), "", f"**Advice:** {md(r.advice)}"]
            if r.equivalents:
                eq = "; ".join(f"{md(e.vendor)} {md(e.code)} {md(e.name)}" for e in r.equivalents)
                out += ["", f"**Equivalents:** {eq}"]
            out.append("")

    out += ["## Bookmarks", ""]
    if report.bookmarks:
        out += _md_table(["TIME", "LINE", "VENDOR", "CODE", "REASON", "NOTE"],
                         [[t(b.ts), str(b.seq), md(b.vendor), md(b.code or "-"), md(b.name), md(b.note)]
                          for b in report.bookmarks], {1})
    else:
        out.append("None.")
    out.append("")

    out += ["## Sample events", ""]
    if not report.samples:
        out += ["None.", ""]
    for s in report.samples:
        head = (f"**line {s.seq}** · {t(s.ts)} · {_what(md, s.vendor, s.code_text, s.reason)} · {md(s.outcome)}"
                + (" · bookmarked" if s.bookmarked else ""))
        out += [head, ""]
        details = [("source", s.source), ("call id", s.call_id), ("message", s.message), ("format", s.format)]
        out += [f"- {k}: {md(v)}" for k, v in details if v] + [""]
        if s.raw:
            raw = _pretty(s.raw)
            fence = _fence(raw)
            out += [fence + ("json" if raw is not s.raw else ""), raw, fence, ""]
    out.append(f"_Counts agree with `callwatch summary` on the same input._")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------- JSON


def report_dict(report: Report) -> dict[str, Any]:
    """The report as plain data (what `render_json` prints)."""
    return {
        "callwatch_report": 1,
        "title": report.title,
        "source": report.source,
        "generated": report.generated,
        "start": report.start,
        "end": report.end,
        "window": {"from": report.window[0], "to": report.window[1]},
        "filter": report.filter_text,
        "masked": report.masked,
        **report.counts,
        "distinct_reasons": len(report.reasons),
        "reasons": list(report.reasons),
        "by_outcome": dict(report.by_outcome),
        "by_vendor": dict(report.by_vendor),
        "by_category": dict(report.by_category),
        "by_source": dict(report.by_source),
        "invalid_by_cause": dict(report.invalid_by_cause),
        "top": [r.to_dict() for r in report.top],
        "details": [r.to_dict() for r in report.details],
        "flags": [f.to_dict() for f in report.flags],
        "timeline": [p.to_dict() for p in report.timeline],
        "bookmarks": [b.to_dict() for b in report.bookmarks],
        "samples": [s.to_dict() for s in report.samples],
        "notes": list(report.notes),
    }


def render_json(report: Report) -> str:
    """The report as indented JSON (UTF-8 text, keys in a stable order)."""
    import orjson

    return orjson.dumps(report_dict(report), option=orjson.OPT_INDENT_2).decode() + "\n"


# ---------------------------------------------------------------------------------------- HTML


def h(value: object) -> str:
    """HTML-escape any value (quotes included: safe in text and in attribute values)."""
    return html.escape(value if isinstance(value, str) else clean(value, None), quote=True)


_CSS = """
:root{--fg:#1d232a;--muted:#5b6570;--line:#d8dee4;--bg:#fff;--panel:#f6f8fa;--srv:#c62828;--cli:#ef6c00;
--unk:#7b8794;--ok:#2e7d32;--all:#d7dee8}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1100px;margin:0 auto;padding:28px 24px 60px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:34px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:16px;margin:22px 0 6px}
.meta{color:var(--muted);margin:0 0 14px}.meta b{color:var(--fg);font-weight:600}
.headline{font-size:17px;font-weight:600;margin:12px 0}
.note{background:#fff8e1;border-left:4px solid #f9a825;padding:6px 10px;margin:6px 0}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:140px}
.card .n{font-size:24px;font-weight:700}.card .l{color:var(--muted);font-size:13px}
.card.bad .n{color:var(--srv)}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:0 32px}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--panel);font-size:13px;color:var(--muted);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:13px}
pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:10px;overflow:auto;white-space:pre-wrap;word-break:break-all}
.bar{display:inline-block;height:10px;background:#4a6fa5;border-radius:2px;vertical-align:middle}
.o-success{color:var(--ok)}.o-unexpected_server_error{color:var(--srv)}.o-unexpected_client_error{color:var(--cli)}
.o-unknown{color:var(--unk)}
.legend span{display:inline-block;margin-right:14px;font-size:13px;color:var(--muted)}
.legend i{display:inline-block;width:11px;height:11px;margin-right:5px;vertical-align:-1px;border-radius:2px}
.reason{border:1px solid var(--line);border-radius:8px;padding:4px 16px 10px;margin:12px 0}
.muted{color:var(--muted);overflow-wrap:anywhere}
svg text{font:11px system-ui,sans-serif;fill:#5b6570}
footer{margin-top:40px;color:var(--muted);font-size:13px}
@media print{main{max-width:none}.reason,pre{break-inside:avoid}}
"""

#: Nothing may load or run: no script, no fetch, no external style or font; only inline CSS and SVG.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def _svg_chart(report: Report, width: int = 1040, height: int = 240) -> str:
    step, points = timeline_buckets(report, 120, min_step_s=SLOT_S)
    if not points:
        return '<p class="muted">No timed events.</p>'
    left, right, top, bottom = 48, 10, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(p.events for p in points) or 1
    bw = plot_w / len(points)
    gap = 1 if bw > 4 else 0
    day = _same_day(report)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
             f'role="img" aria-label="Events and abnormal disconnects over time">']
    for frac in (0, 0.5, 1):
        y = top + plot_h - frac * plot_h
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e8ee"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{round(frac * peak):,}</text>')
    for i, p in enumerate(points):
        x = left + i * bw
        w = max(bw - gap, 0.5)
        label = (f"{fmt_time(p.start, date=not day)}: {p.events:,} events, {p.server_errors:,} server errors, "
                 f"{p.client_errors:,} client errors, {p.unknown:,} unknown")
        parts.append(f'<g><title>{h(label)}</title>')
        hy = p.events / peak * plot_h
        parts.append(f'<rect x="{x:.2f}" y="{top + plot_h - hy:.2f}" width="{w:.2f}" height="{hy:.2f}" fill="#d7dee8"/>')
        y0 = top + plot_h
        for n, colour in ((p.server_errors, "#c62828"), (p.client_errors, "#ef6c00"), (p.unknown, "#7b8794")):
            if n:
                hh = n / peak * plot_h
                y0 -= hh
                parts.append(f'<rect x="{x:.2f}" y="{y0:.2f}" width="{w:.2f}" height="{hh:.2f}" fill="{colour}"/>')
        parts.append("</g>")
    ticks = min(6, len(points))
    for k in range(ticks):
        i = round(k * (len(points) - 1) / max(ticks - 1, 1))
        x = left + i * bw + bw / 2
        anchor = "start" if k == 0 else ("end" if k == ticks - 1 and ticks > 1 else "middle")
        x = left if anchor == "start" else (width - right if anchor == "end" else x)
        parts.append(f'<text x="{x:.1f}" y="{height - 14}" text-anchor="{anchor}">'
                     f'{h(_tick(points[i].start, step, day))}</text>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#9aa5b1"/>')
    # Where each spike started (the first few: more would hide the bars).
    origin, end = points[0].start, points[-1].start + step
    for n, flag in enumerate([f for f in report.flags if f.kind == "spike"][:5]):
        if not origin <= flag.started < end:
            continue
        x = left + (flag.started - origin) / (end - origin) * plot_w
        label = f"spike: {flag.vendor} {flag.label}"
        anchor = "end" if x > left + plot_w * 0.6 else "start"
        tx = x - 4 if anchor == "end" else x + 4
        parts.append(f'<g><title>{h(label + " from " + fmt_time(flag.started))}</title>'
                     f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#8e24aa" '
                     f'stroke-dasharray="4 3"/><text x="{tx:.1f}" y="{top + 10 + 13 * n}" text-anchor="{anchor}" '
                     f'style="fill:#8e24aa">{h(label[:60])}</text></g>')
    parts.append("</svg>")
    label = _step_text(step)
    legend = ('<p class="legend"><span><i style="background:#d7dee8"></i>all call ends</span>'
              '<span><i style="background:#c62828"></i>unexpected server error</span>'
              '<span><i style="background:#ef6c00"></i>unexpected client error</span>'
              f'<span><i style="background:#7b8794"></i>unknown code</span><span>per {label}, UTC</span></p>')
    return "".join(parts) + legend


def _tick(ts: float, step: int, day: bool) -> str:
    """An axis label: `14:03:20`, `14:03` or `07-14 14:00`."""
    text = fmt_time(ts, date=not day)
    if not day:
        return text[5:16]
    return text if step < 60 else text[:-3]


def _html_table(header: list[tuple[str, bool]], rows: list[list[str]]) -> str:
    """`rows` cells are already HTML; header is (text, numeric)."""
    head = "".join(f'<th class="num">{h(t)}</th>' if num else f"<th>{h(t)}</th>" for t, num in header)
    body = []
    for row in rows:
        body.append("<tr>" + "".join(f'<td class="num">{c}</td>' if header[i][1] else f"<td>{c}</td>"
                                      for i, c in enumerate(row)) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _outcome(o: str) -> str:
    cls = o if o.replace("_", "").isalnum() else "x"
    return f'<span class="o-{h(cls)}">{h(o)}</span>'


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page: inline CSS and SVG, no script, no external fetch."""
    c = report.counts
    events = c["events"]
    day = _same_day(report)
    t = lambda ts: h(fmt_time(ts, date=not day))  # noqa: E731
    o: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{h(report.title)}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        f"<h1>{h(report.title)}</h1>",
    ]
    meta = [f"<b>Source</b> {h(report.source or '-')}", f"<b>Events</b> {h(_span_text(report))} (UTC)"]
    if (w := _window_text(report)) is not None:
        meta.append(f"<b>Window</b> {h(w)}")
    if report.filter_text:
        meta.append(f"<b>Filter</b> {h(report.filter_text)}")
    if report.generated is not None:
        meta.append(f"<b>Generated</b> {h(fmt_time(report.generated))}")
    if report.masked:
        meta.append("<b>Masked</b> identifiers in samples")
    o.append('<p class="meta">' + " · ".join(meta) + "</p>")
    o.append(f'<p class="headline">{h(_headline(report))}</p>')
    o += [f'<p class="note">{h(n)}</p>' for n in report.notes]
    cards = [("call ends", events, False), ("abnormal", c["abnormal"], True), ("unknown code", c["unknown"], False),
             ("no reason", c["no_reason"], False), ("invalid", c["invalid"], False)]
    o.append('<div class="cards">' + "".join(
        f'<div class="card{" bad" if bad and n else ""}"><div class="n">{n:,}</div><div class="l">{h(label)}'
        f'{" · " + h(_share(n, events)) if label not in ("call ends", "invalid") else ""}</div></div>'
        for label, n, bad in cards) + "</div>")

    o.append("<h2>Abnormal disconnects over time</h2>")
    o.append(_svg_chart(report))

    o.append("<h2>Top reasons</h2>")
    if report.top:
        rows = []
        for r in report.top:
            bar = f'<span class="bar" style="width:{max(1, round(r.share * 120))}px"></span>'
            rows.append([str(r.rank), f"{r.count:,}", f"{h(_share(r.count, events))} {bar}", h(r.vendor),
                         f"<code>{h(r.code_text)}</code>", h(r.label), h(r.category), _outcome(r.outcome)])
        o.append(_html_table([("#", True), ("count", True), ("share", True), ("vendor", False), ("code", False),
                              ("reason", False), ("category", False), ("outcome", False)], rows))
        more = len(report.reasons) - len(report.top)
        if more > 0:
            o.append(f'<p class="muted">… and {more:,} more reasons.</p>')
    else:
        o.append('<p class="muted">No events.</p>')

    o.append("<h2>Spikes and first-seen reasons</h2>")
    if report.flags:
        o.append(_html_table(
            [("kind", False), ("vendor", False), ("reason", False), ("code", False), ("started", False),
             ("peak (60 s)", True), ("busiest minute", False), ("ended", False), ("baseline", True)],
            [[h(f.kind.replace("_", "-")), h(f.vendor), h(f.label), f"<code>{h(f.code_text)}</code>", t(f.started),
              f"{f.peak:,}", t(f.peak_at), t(f.ended) if f.ended is not None else ("active" if f.kind == "spike" else "-"),
              f"{f.baseline:.1f}/min" if f.kind == "spike" else "-"] for f in report.flags]))
    else:
        o.append('<p class="muted">None raised.</p>')

    o.append("<h2>Totals</h2>")
    o.append('<div class="pair">')
    for title, pairs in (("By outcome", report.by_outcome), ("By vendor", report.by_vendor)):
        o.append(f"<div><h3>{h(title)}</h3>")
        o.append(_html_table([(title.split()[-1], False), ("count", True), ("share", True)],
                             [[_outcome(k) if title == "By outcome" else h(k), f"{v:,}", h(_share(v, events))]
                              for k, v in pairs]))
        o.append("</div>")
    o.append("</div>")
    if report.invalid_by_cause:
        o.append(f"<h3>Invalid messages by cause ({c['invalid']:,} of {c['received']:,} received)</h3>")
        o.append('<div class="pair"><div>' + _html_table([("cause", False), ("count", True)],
                 [[h(k), f"{v:,}"] for k, v in report.invalid_by_cause]) + "</div></div>")

    if report.details:
        o.append("<h2>What the top reasons mean</h2>")
        o.append('<p class="muted">The largest reasons that are not normal ends, and every reason flagged above.</p>')
        for r in report.details:
            o.append('<div class="reason">')
            o.append(f"<h3>{r.rank}. {_what(h, r.vendor, r.code_text, r.label, '<code>')}</h3>")
            seen = (f"; first seen {t(r.first_seen)}, busiest minute {t(r.peak_at)} ({r.peak_count:,})"
                    if r.peak_at is not None else "")
            o.append(f'<p class="muted">{r.count:,} events ({h(_share(r.count, events))}) · {h(r.category)} · '
                     f"{_outcome(r.outcome)}{seen}</p>")
            o.append(f"<p>{h(r.description)}</p>")
            o.append(f"<p><b>Advice:</b> {h(r.advice)}</p>")
            if r.equivalents:
                o.append("<p><b>Equivalents:</b> " + "; ".join(
                    f'{h(e.vendor)} <code>{h(e.code)}</code> {h(e.name)}' for e in r.equivalents) + "</p>")
            o.append("</div>")

    o.append("<h2>Bookmarks</h2>")
    if report.bookmarks:
        o.append(_html_table(
            [("time", False), ("line", True), ("vendor", False), ("code", False), ("reason", False), ("note", False)],
            [[t(b.ts), str(b.seq), h(b.vendor), f"<code>{h(b.code or '-')}</code>", h(b.name), h(b.note)]
             for b in report.bookmarks]))
    else:
        o.append('<p class="muted">None.</p>')

    o.append("<h2>Sample events</h2>")
    if not report.samples:
        o.append('<p class="muted">None.</p>')
    for s in report.samples:
        o.append(f"<h3>line {s.seq} · {t(s.ts)} · {_what(h, s.vendor, s.code_text, s.reason, '<code>')} · "
                 f"{_outcome(s.outcome)}{' · bookmarked' if s.bookmarked else ''}</h3>")
        details = [("source", s.source), ("call id", s.call_id), ("message", s.message), ("format", s.format)]
        o.append('<p class="muted">' + " · ".join(f"{h(k)}: {h(v)}" for k, v in details if v) + "</p>")
        if s.raw:
            o.append(f"<pre>{h(_pretty(s.raw))}</pre>")
    o.append(f"<footer>callwatch incident report · counts agree with <code>callwatch summary</code> on the same "
             f"input · {len(report.reasons):,} distinct reasons</footer>")
    o.append("</main></body></html>")
    return "\n".join(o) + "\n"


# ---------------------------------------------------------------------------------------- files

#: Report formats and their file extensions.
REPORT_FORMATS: dict[str, str] = {"markdown": "md", "html": "html", "json": "json"}
_RENDERERS: dict[str, Callable[[Report], str]] = {"markdown": render_markdown, "html": render_html, "json": render_json}
_STEM_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def render(report: Report, fmt: str) -> str:
    """The report in `fmt` (markdown, html or json)."""
    try:
        return _RENDERERS[fmt](report)
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r} (use {', '.join(REPORT_FORMATS)})") from None


def write_report(report: Report, directory: str | os.PathLike[str], fmt: str = "html", *,
                 stem: str = "callwatch-report", now: float | None = None) -> Path:
    """Write `report` to `<directory>/<stem>-<YYYYmmdd-HHMMSS>.<ext>` (UTC; `now` defaults to
    `report.generated`, else the current time) and return the path. Never overwrites: a clash adds
    ``-2``, ``-3``... (O_EXCL). The directory is created if needed. Raises OSError."""
    import time

    text = render(report, fmt)
    folder = Path(directory).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    safe = _STEM_UNSAFE.sub("_", stem).strip("._") or "callwatch-report"
    when = now if now is not None else (report.generated if report.generated is not None else time.time())
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(when))
    data = text.encode("utf-8", errors="backslashreplace")
    for n in range(1, 10_000):
        path = folder / f"{safe}-{stamp}{'' if n == 1 else f'-{n}'}.{REPORT_FORMATS[fmt]}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return path
    raise FileExistsError(f"no free file name for {safe}-{stamp} in {folder}")
