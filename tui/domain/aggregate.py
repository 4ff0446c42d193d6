"""Counting call ends: totals, count tables, per-second rates, windows, spike and first-seen flags.

Pure Python (never imports textual). The ingest worker calls `add()` / `add_invalid()` for every decoded
element; a front end pulls an immutable `Update` with `drain()` at its own cadence (the UI at 10 Hz,
`summary` once at the end), so the cost of rendering grows with the frame rate, not the event rate.

Design notes (why it looks like this):

* `add()` is the hot path: a few dict increments, no sorting and no string formatting. Everything that
  can be derived from the per-reason counts (by vendor, category, outcome, the unknown and no-reason
  totals) is derived in `drain()`/`snapshot()`, which cost O(distinct reasons), not O(events).
* Rates are keyed by EVENT time, so a replay at any speed gives the same windows and flags as the live
  feed did. "Now" is the newest event second seen, moved forward by an injected clock in live mode
  (`clock=` or `drain(now=...)`): no wall-clock reads in the logic.
* Per-second buckets live in one ring of `horizon_s` slots; the 1m/5m/15m windows (and the windows
  before them, for the change figures) are rolling sums updated when the head second advances, so a
  drain never rescans the ring. Flags are evaluated when a second closes: deterministic for a replay.
* Every collection is bounded: the recent and invalid deques, the ring, the flag history, and the
  number of distinct unknown reasons and sources (beyond the cap they are counted under "(other)").
  Counts stay exact: only display rows are dropped, and the drops are counted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Any

from tui.domain.model import NO_REASON, UNKNOWN_CATEGORY, UNKNOWN_OUTCOME, CallEnd, InvalidMessage, Reason

#: Status part of a reason key.
KNOWN = "known"
UNKNOWN = "unknown"
NONE = "none"

#: A reason key: (vendor, status, namespace, code, subcode).
#: known: the matched catalog entry's (namespace, code, subcode), so every spelling of a code counts once;
#: unknown: the raw (code, subcode) as delivered and the namespace searched; none: no reason delivered.
ReasonKey = tuple[str, str, "str | None", "str | None", "str | None"]

#: Name used for the rows that collect values beyond the caps (hostile or broken feeds).
OTHER = "(other)"
#: Display name of the no-reason rows and source of events without one.
NO_REASON_NAME = "(no reason delivered)"
NO_SOURCE = "(none)"

_OVERFLOW_UNKNOWN: ReasonKey = (OTHER, UNKNOWN, None, OTHER, None)
_OVERFLOW_NONE: ReasonKey = (OTHER, NONE, None, None, None)


def reason_key(vendor: str, reason: Reason | None) -> ReasonKey:
    """The key an event with this vendor and lookup result is counted under."""
    if reason is None:
        return (vendor, NONE, None, None, None)
    entry = reason.entry
    if entry is None:
        return (vendor, UNKNOWN, reason.namespace, reason.code, reason.subcode)
    return (vendor, KNOWN, entry.namespace, entry.code, entry.subcode)


def _code_text(code: str | None, subcode: str | None) -> str:
    if code is None:
        return "-"
    return code if subcode is None else f"{code}/{subcode}"


def _change_text(change: int) -> str:
    return f"+{change:,}" if change > 0 else (f"{change:,}" if change < 0 else "0")


class _KeyInfo:
    """What a reason key stands for; built once, the first time the key is seen."""

    __slots__ = ("key", "vendor", "status", "namespace", "code", "subcode", "name", "label", "category",
                 "outcome", "code_text", "first_seen", "sort_key")

    def __init__(self, key: ReasonKey, reason: Reason | None, first_seen: float | None) -> None:
        vendor, status, namespace, code, subcode = key
        self.key = key
        self.vendor = vendor
        self.status = status
        self.namespace = namespace
        self.code = code
        self.subcode = subcode
        self.first_seen = first_seen
        entry = reason.entry if (reason is not None and status == KNOWN) else None
        if entry is not None:
            self.name: str | None = entry.name
            self.label = entry.name
            self.category = entry.category
            self.outcome = entry.outcome
        elif status == NONE:
            self.name = None
            self.label = NO_REASON_NAME
            self.category = NO_REASON
            self.outcome = NO_REASON
        else:
            self.name = None
            self.label = "? " + _code_text(code or "", subcode)
            self.category = UNKNOWN_CATEGORY
            self.outcome = UNKNOWN_OUTCOME
        self.code_text = _code_text(code, subcode)
        self.sort_key = (self.label, vendor, namespace or "", code or "", subcode or "")


@dataclass(frozen=True, slots=True)
class Totals:
    """The counters. `received == events + invalid` always holds."""

    received: int
    """Every element a message yielded: events plus invalid ones."""
    messages: int
    """Lines or frames fed (one message may hold several events)."""
    events: int
    invalid: int
    unknown: int
    """Events whose reason is not in any catalog (includes unknown vendors)."""
    no_reason: int
    """Events that delivered no reason at all."""
    late: int = 0
    """Events older than the rate horizon: counted everywhere except in the rate buckets."""
    dropped_from_display: int = 0
    """Events counted but never handed to a display by `drain()` (more arrived than fit)."""


@dataclass(frozen=True, slots=True)
class WindowFigure:
    """Events in the last `seconds` and in the `seconds` before that (event time)."""

    seconds: int
    count: int
    previous: int

    @property
    def change(self) -> int:
        return self.count - self.previous


@dataclass(frozen=True, slots=True)
class ReasonRow:
    """One row of the reason table, pre-formatted for display."""

    key: ReasonKey
    vendor: str
    name: str | None
    """The catalog name (None when unknown or no reason)."""
    label: str
    """What a table shows: the name, `? <code>` or `(no reason delivered)`."""
    namespace: str | None
    code: str | None
    subcode: str | None
    code_text: str
    category: str
    outcome: str
    known: bool
    count: int
    count_text: str
    windows: tuple[int, ...]
    """Counts in the aggregate's `windows` (seconds), in the same order."""
    changes: tuple[int, ...]
    """Each window's count minus the window of the same length before it."""
    change_texts: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "namespace": self.namespace,
            "code": self.code,
            "subcode": self.subcode,
            "name": self.name,
            "label": self.label,
            "known": self.known,
            "category": self.category,
            "outcome": self.outcome,
            "count": self.count,
        }


@dataclass(frozen=True, slots=True)
class GroupRow:
    """One row of a grouped count table (by category, outcome, vendor, source, invalid cause)."""

    name: str
    count: int
    count_text: str


@dataclass(frozen=True, slots=True)
class Flag:
    """Something an operator should look at: a reason spiking, or a reason seen for the first time."""

    kind: str
    """"spike" or "first_seen"."""
    key: ReasonKey
    vendor: str
    label: str
    started: float
    """Event time (Unix seconds) at which the flag was raised."""
    count: int
    """Events of the reason in the spike window when raised (1 for first_seen)."""
    baseline: float
    """The reason's mean count per spike window over the baseline period when raised (0 for first_seen)."""
    peak: int
    """Largest spike-window count while the flag was active."""
    ended: float | None = None
    """When the spike calmed down (and the flag was re-armed); None while active, and for first_seen."""
    id: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "vendor": self.vendor,
            "reason": self.label,
            "code": self.key[3],
            "subcode": self.key[4],
            "started": self.started,
            "count": self.count,
            "baseline": round(self.baseline, 3),
            "peak": self.peak,
            "ended": self.ended,
        }


@dataclass(frozen=True, slots=True)
class Update:
    """What changed since the previous `drain()`: immutable, safe to hand to another task or thread."""

    new_events: tuple[CallEnd, ...]
    """The newest events since the previous drain (at most the drain limit), oldest first."""
    dropped_from_display: int
    """Events since the previous drain that did not fit in `new_events` (counted, not shown)."""
    new_invalid: tuple[InvalidMessage, ...]
    dropped_invalid: int
    totals: Totals
    reasons: tuple[ReasonRow, ...]
    """Sorted by count (descending), then label, vendor, code."""
    by_category: tuple[GroupRow, ...]
    by_outcome: tuple[GroupRow, ...]
    by_vendor: tuple[GroupRow, ...]
    by_source: tuple[GroupRow, ...]
    invalid_by_cause: tuple[GroupRow, ...]
    windows: tuple[WindowFigure, ...]
    """All events per window, same order as `Aggregate.windows`."""
    changed: frozenset[ReasonKey]
    """Reason keys whose session count changed since the previous drain."""
    tables_changed: bool
    """False when every table is the very same object as in the previous Update."""
    new_flags: tuple[Flag, ...]
    active_flags: tuple[Flag, ...]
    """Spikes still active (their peak updated)."""
    now: int | None
    """The head second (event time) the windows are measured at; None before the first event."""


class _Window:
    """A rolling per-key sum over the closed seconds (head - a, head - b]."""

    __slots__ = ("a", "b", "counts", "total")

    def __init__(self, a: int, b: int) -> None:
        self.a = a
        self.b = b
        self.counts: dict[ReasonKey, int] = {}
        self.total = 0

    def add(self, bucket: dict[ReasonKey, int], total: int) -> None:
        counts = self.counts
        for key, n in bucket.items():
            counts[key] = counts.get(key, 0) + n
        self.total += total

    def sub(self, bucket: dict[ReasonKey, int], total: int) -> None:
        counts = self.counts
        for key, n in bucket.items():
            left = counts[key] - n
            if left:
                counts[key] = left
            else:
                del counts[key]
        self.total -= total


def _group_rows(counts: Iterable[tuple[str, int]]) -> tuple[GroupRow, ...]:
    items = sorted(((name, n) for name, n in counts if n), key=lambda item: (-item[1], item[0]))
    return tuple(GroupRow(name, n, f"{n:,}") for name, n in items)


class Aggregate:
    """Counts, rates, windows and flags over a stream of `CallEnd` and `InvalidMessage`.

    Args:
        recent_limit: how many recent events are kept (and the most `drain()` hands out at once).
        invalid_limit: how many recent invalid messages are kept.
        horizon_s: seconds of per-second rate buckets kept (0 disables rates, windows and spikes:
            the cheapest mode, used by `summary`).
        windows: window lengths in seconds for the window counts and change figures.
        clock: live mode: returns "now" (Unix seconds); `drain()` moves the windows forward with it,
            and event times more than `future_tolerance_s` ahead of it are rated at the clock's second.
        spike_window_s, spike_baseline_s, spike_factor, spike_min_events: a reason spikes when its
            count in the last `spike_window_s` is >= `spike_min_events` and >= `spike_factor` times its
            mean per window over the `spike_baseline_s` before it. It is re-armed when the count falls
            under `calm_ratio` times that threshold.
        warmup_events, warmup_s: a reason seen for the first time after this many events, or this many
            seconds of event time, is flagged "first_seen".
        max_reasons, max_sources: caps on distinct unknown reason keys and sources; beyond them events
            are counted under "(other)" (catalogued reasons are never capped: the catalogs bound them).
        rate_by_arrival: live mode: rate each event at the clock's time when it is added, not at the time
            it carries. On a live feed "the last minute" means the last minute of arrivals, whatever the
            senders' clocks say, however late delivery was, and when a capture is served as a live feed
            (the demo) with timestamps from another day. Needs `clock`.
    """

    def __init__(
        self,
        recent_limit: int = 10_000,
        invalid_limit: int = 1_000,
        horizon_s: int = 3600,
        *,
        windows: tuple[int, ...] = (60, 300, 900),
        clock: Callable[[], float] | None = None,
        spike_window_s: int = 60,
        spike_baseline_s: int = 900,
        spike_factor: float = 3.0,
        spike_min_events: int = 5,
        calm_ratio: float = 0.5,
        warmup_events: int = 1000,
        warmup_s: float = 300.0,
        flag_limit: int = 1000,
        max_reasons: int = 10_000,
        max_sources: int = 1_000,
        max_causes: int = 100,
        future_tolerance_s: int = 30,
        rate_by_arrival: bool = False,
    ) -> None:
        if recent_limit < 0 or invalid_limit < 0 or horizon_s < 0:
            raise ValueError("limits must be >= 0")
        self.recent_limit = recent_limit
        self.invalid_limit = invalid_limit
        self.horizon_s = int(horizon_s)
        self.windows = tuple(int(w) for w in windows)
        self.spike_window_s = int(spike_window_s)
        self.spike_baseline_s = int(spike_baseline_s)
        if self.horizon_s:
            need = max([2 * w for w in self.windows] + [self.spike_window_s + self.spike_baseline_s])
            if self.horizon_s < need:
                raise ValueError(f"horizon_s must be 0 or >= {need} for these windows")
            if min(self.windows + (self.spike_window_s,)) < 1:
                raise ValueError("windows must be >= 1 s")
        self.spike_factor = spike_factor
        self.spike_min_events = spike_min_events
        self.calm_ratio = calm_ratio
        self.warmup_events = warmup_events
        self.warmup_s = warmup_s
        self.flag_limit = flag_limit
        self.max_reasons = max_reasons
        self.max_sources = max_sources
        self.max_causes = max_causes
        self.future_tolerance_s = future_tolerance_s
        self._clock = clock
        if rate_by_arrival and clock is None:
            raise ValueError("rate_by_arrival needs a clock")
        self._arrival_clock = clock if rate_by_arrival else None
        self.reset()

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Forget everything (configuration stays)."""
        self._counts: dict[ReasonKey, int] = {}
        self._info: dict[ReasonKey, _KeyInfo] = {}
        self._unknown_keys = 0
        self._by_source: dict[str | None, int] = {}
        self._by_cause: dict[str, int] = {}
        self._events = 0
        self._invalid = 0
        self._messages = 0
        self._late = 0
        self._clamped = 0
        self._recent: deque[CallEnd] = deque(maxlen=self.recent_limit)
        self._invalid_recent: deque[InvalidMessage] = deque(maxlen=self.invalid_limit)
        self._new_events = 0
        self._new_invalid = 0
        self._dropped_display = 0
        self._dropped_invalid = 0
        # rates
        self._rates = self.horizon_s > 0
        h = self.horizon_s
        self._stamps: list[int | None] = [None] * h
        self._buckets: list[dict[ReasonKey, int]] = [{} for _ in range(h)] if h else []
        self._btotals: list[int] = [0] * h
        self._head: int | None = None
        self._first_sec: int | None = None
        self._limit = float("inf")
        if self._clock is not None:
            self._limit = int(self._clock()) + self.future_tolerance_s
        specs: dict[tuple[int, int], _Window] = {}
        for w in self.windows:
            specs.setdefault((w, 0), _Window(w, 1))
            specs.setdefault((2 * w, w), _Window(2 * w, w))
        sw = self.spike_window_s
        specs.setdefault((sw, 0), _Window(sw, 1))
        specs.setdefault((sw + self.spike_baseline_s, sw), _Window(sw + self.spike_baseline_s, sw))
        self._specs = specs
        self._rolling = list(specs.values())
        #: (a, b) pairs whose interval includes the open head second; their value adds the open bucket.
        self._spike_cur = specs[(sw, 0)]
        self._spike_base = specs[(sw + self.spike_baseline_s, sw)]
        # flags
        self._flags: dict[int, Flag] = {}
        self._flag_seq = 0
        self._active: dict[ReasonKey, int] = {}
        self._new_flag_ids: list[int] = []
        # drain bookkeeping
        self._last_counts: dict[ReasonKey, int] = {}
        self._table_state: tuple[int, int, int | None, int] | None = None
        self._tables: tuple[Any, ...] | None = None

    # ------------------------------------------------------------------ hot path

    def add(self, event: CallEnd) -> None:
        """Count one event and keep it in the recent deque."""
        reason = event.reason
        vendor = event.vendor
        if reason is None:
            key: ReasonKey = (vendor, NONE, None, None, None)
        else:
            entry = reason.entry
            if entry is None:
                key = (vendor, UNKNOWN, reason.namespace, reason.code, reason.subcode)
            else:
                key = (vendor, KNOWN, entry.namespace, entry.code, entry.subcode)
        clock = self._arrival_clock
        self.count(key, reason, event.source_name or event.source, event.ts if clock is None else clock())
        self._recent.append(event)
        self._new_events += 1

    def count(self, key: ReasonKey, reason: Reason | None, source: str | None, ts: float) -> None:
        """Count one event given its precomputed `reason_key()`: the path that builds no `CallEnd`
        (used by `summary`). `add()` is this plus keeping the event for display."""
        counts = self._counts
        c = counts.get(key)
        if c is None:
            key = self._new_key(key, reason, ts)
            c = counts.get(key, 0)
        counts[key] = c + 1
        sources = self._by_source
        s = sources.get(source)
        if s is None:
            if len(sources) >= self.max_sources:
                source = OTHER
                s = sources.get(OTHER, 0)
            else:
                s = 0
        sources[source] = s + 1
        self._events += 1
        if self._rates:
            # The common case inline: an event in the open (head) second whose bucket exists.
            try:
                sec = int(ts)
            except (TypeError, ValueError, OverflowError):
                sec = None
            if sec is not None and sec == self._head:
                i = sec % self.horizon_s
                if self._stamps[i] == sec:
                    bucket = self._buckets[i]
                    bucket[key] = bucket.get(key, 0) + 1
                    self._btotals[i] += 1
                    return
            self._rate(key, sec)

    def add_counts(self, key: ReasonKey, reason: Reason | None, source: str | None, n: int) -> None:
        """Count `n` events of one reason and source at once (no event times: rates must be off).

        The bulk path of `Pipeline.count_lines`; equivalent to `n` calls of `count()`.
        """
        if n <= 0:
            return
        if self._rates:
            raise ValueError("add_counts needs an aggregate without rates (horizon_s=0)")
        counts = self._counts
        c = counts.get(key)
        if c is None:
            # No event order or times here, so no first-seen flag: it could not say when.
            key = self._new_key(key, reason, float("nan"), flag=False)
            c = counts.get(key, 0)
        counts[key] = c + n
        sources = self._by_source
        s = sources.get(source)
        if s is None:
            if len(sources) >= self.max_sources:
                source = OTHER
                s = sources.get(OTHER, 0)
            else:
                s = 0
        sources[source] = s + n
        self._events += n

    def add_invalid(self, invalid: InvalidMessage) -> None:
        """Count one message (or element) that could not be decoded into an event."""
        self._invalid += 1
        causes = self._by_cause
        cause = invalid.cause
        c = causes.get(cause)
        if c is None:
            if len(causes) >= self.max_causes:
                cause = OTHER
            c = causes.get(cause, 0)
        causes[cause] = c + 1
        self._invalid_recent.append(invalid)
        self._new_invalid += 1

    def add_messages(self, n: int = 1) -> None:
        """Count lines or frames fed (the pipeline calls this once per raw message)."""
        self._messages += n

    # ------------------------------------------------------------------ rare paths

    def _new_key(self, key: ReasonKey, reason: Reason | None, ts: float, flag: bool = True) -> ReasonKey:
        status = key[1]
        if status != KNOWN:
            if self._unknown_keys >= self.max_reasons:
                key = _OVERFLOW_NONE if status == NONE else _OVERFLOW_UNKNOWN
                if key in self._info:
                    return key
            self._unknown_keys += 1
        first = ts if isinstance(ts, (int, float)) and ts == ts else None
        info = _KeyInfo(key, reason, first)
        self._info[key] = info
        if flag and self._warmed_up():
            self._raise_flag("first_seen", info, self._flag_time(ts), 1, 0.0)
        return key

    def _warmed_up(self) -> bool:
        if self._events >= self.warmup_events:
            return True
        if self._head is not None and self._first_sec is not None:
            return self._head - self._first_sec >= self.warmup_s
        return False

    def _flag_time(self, ts: float) -> float:
        try:
            t = float(ts)
        except (TypeError, ValueError):
            t = float("nan")
        if t != t or t in (float("inf"), float("-inf")):
            return float(self._head or 0)
        return t

    def _raise_flag(self, kind: str, info: _KeyInfo, started: float, count: int, baseline: float) -> Flag:
        self._flag_seq += 1
        flag = Flag(kind, info.key, info.vendor, info.label, started, count, baseline, count, None, self._flag_seq)
        self._flags[flag.id] = flag
        self._new_flag_ids.append(flag.id)
        while len(self._flags) > self.flag_limit:
            oldest = next(iter(self._flags))
            self._flags.pop(oldest)
        return flag

    def _rate(self, key: ReasonKey, sec: int | None) -> None:
        if sec is None:  # no usable time (NaN, infinite): rate it at the head second
            sec = self._head if self._head is not None else 0
        if sec > self._limit:
            # Live mode: a timestamp far ahead of the clock is a skewed or broken sender; rate it at the
            # clock's second so that one bad event cannot shift (or wipe) every window.
            sec = int(self._limit) - self.future_tolerance_s
            self._clamped += 1
        head = self._head
        if head is None:
            self._head = self._first_sec = head = sec
        elif sec > head:
            self._advance(sec)
            head = sec
        elif sec < head:
            if sec <= head - self.horizon_s:
                self._late += 1
                return
            self._late_add(key, sec, head)
            return
        h = self.horizon_s
        i = sec % h
        if self._stamps[i] != sec:
            self._stamps[i] = sec
            bucket: dict[ReasonKey, int] = {}
            self._buckets[i] = bucket
            self._btotals[i] = 0
        else:
            bucket = self._buckets[i]
        bucket[key] = bucket.get(key, 0) + 1
        self._btotals[i] += 1

    def _late_add(self, key: ReasonKey, sec: int, head: int) -> None:
        """An event for an earlier second still inside the horizon: its bucket and every window holding it."""
        i = sec % self.horizon_s
        if self._stamps[i] != sec:
            self._stamps[i] = sec
            self._buckets[i] = {}
            self._btotals[i] = 0
        bucket = self._buckets[i]
        bucket[key] = bucket.get(key, 0) + 1
        self._btotals[i] += 1
        for w in self._rolling:
            if head - w.a < sec <= head - w.b:
                w.counts[key] = w.counts.get(key, 0) + 1
                w.total += 1

    def _bucket(self, sec: int) -> tuple[dict[ReasonKey, int], int] | None:
        i = sec % self.horizon_s
        if self._stamps[i] != sec:
            return None
        return self._buckets[i], self._btotals[i]

    def _advance(self, new: int) -> None:
        """Move the head second forward: close the open second, evaluate spikes, roll the windows."""
        old = self._head
        assert old is not None and new > old
        self._evaluate_spikes(old)
        stamps, buckets, btotals, h = self._stamps, self._buckets, self._btotals, self.horizon_s
        for w in self._rolling:
            a, b = w.a, w.b
            # Seconds leaving: those in (old-a, old-b] that are <= new-a. When that is all of them,
            # empty the window instead of walking its seconds (a long gap in the events).
            if new - a >= old - b:
                if w.total or w.counts:
                    w.counts = {}
                    w.total = 0
            else:
                for sec in range(old - a + 1, new - a + 1):
                    i = sec % h
                    if stamps[i] == sec:
                        w.sub(buckets[i], btotals[i])
            # Seconds entering: (new-a, new-b] minus (old-a, old-b]; none after `old` holds events yet.
            for sec in range(max(old - b, new - a) + 1, min(new - b, old) + 1):
                i = sec % h
                if stamps[i] == sec:
                    w.add(buckets[i], btotals[i])
        self._head = new
        if new - old > 1 and self._active:
            self._calm_check(new)

    def _current(self, key: ReasonKey, head: int, cur: _Window) -> int:
        """A key's count in a window ending at the head, open second included."""
        got = self._bucket(head)
        return cur.counts.get(key, 0) + (got[0].get(key, 0) if got else 0)

    def _threshold(self, key: ReasonKey, head: int) -> tuple[float, float, bool]:
        """(threshold, baseline mean per window, enough history)."""
        sw = self.spike_window_s
        history = head - (self._first_sec if self._first_sec is not None else head) + 1
        avail = min(self.spike_baseline_s, history - sw)
        if avail < sw:
            return float("inf"), 0.0, False
        mean = self._spike_base.counts.get(key, 0) * sw / avail
        return max(float(self.spike_min_events), self.spike_factor * mean), mean, True

    def _evaluate_spikes(self, closing: int) -> None:
        """The second `closing` is complete: raise spikes for reasons it carried, calm active ones."""
        got = self._bucket(closing)
        active = self._active
        sw = self.spike_window_s
        history = closing - (self._first_sec if self._first_sec is not None else closing) + 1
        avail = min(self.spike_baseline_s, history - sw)
        if got is not None and avail >= sw:  # no spikes before one baseline window of history
            cur = self._spike_cur.counts
            base = self._spike_base.counts
            minimum = self.spike_min_events
            per_window = sw / avail
            factor = self.spike_factor
            for key, n in got[0].items():
                count = cur.get(key, 0) + n
                if count < minimum or key in active:
                    continue
                mean = base.get(key, 0) * per_window
                if count >= factor * mean:
                    flag = self._raise_flag("spike", self._info[key], float(closing), count, mean)
                    active[key] = flag.id
        if self._active:
            self._calm_check(closing, include_open=True)

    def _calm_check(self, head: int, include_open: bool = False) -> None:
        cur = self._spike_cur
        for key, fid in list(self._active.items()):
            count = self._current(key, head, cur) if include_open else cur.counts.get(key, 0)
            flag = self._flags.get(fid)
            threshold, _mean, ok = self._threshold(key, head)
            if not ok:
                threshold = float(self.spike_min_events)
            if count < self.calm_ratio * threshold or flag is None:
                del self._active[key]
                if flag is not None:
                    self._flags[fid] = _replace_flag(flag, ended=float(head))
            elif flag is not None and count > flag.peak:
                self._flags[fid] = _replace_flag(flag, peak=count)

    def _move_to(self, now: float | None) -> None:
        if now is None:
            if self._clock is None:
                return
            now = self._clock()
        try:
            sec = int(now)
        except (TypeError, ValueError, OverflowError):
            return
        self._limit = sec + self.future_tolerance_s
        if not self._rates:
            return
        if self._head is None:
            return  # windows start with the first event
        if sec > self._head:
            self._advance(sec)

    # ------------------------------------------------------------------ reading

    @property
    def events(self) -> int:
        return self._events

    @property
    def invalid(self) -> int:
        return self._invalid

    @property
    def received(self) -> int:
        return self._events + self._invalid

    @property
    def messages(self) -> int:
        return self._messages

    @property
    def clamped(self) -> int:
        """Events whose time was more than `future_tolerance_s` ahead of the clock (rated at that limit)."""
        return self._clamped

    @property
    def head(self) -> int | None:
        """The newest event second (or clock second) the windows are measured at."""
        return self._head

    @property
    def recent(self) -> tuple[CallEnd, ...]:
        """The kept recent events, oldest first."""
        return tuple(self._recent)

    @property
    def recent_invalid(self) -> tuple[InvalidMessage, ...]:
        return tuple(self._invalid_recent)

    @property
    def flags(self) -> tuple[Flag, ...]:
        """Every flag raised (the newest `flag_limit`), oldest first, in their latest state."""
        return tuple(self._flags.values())

    @property
    def active_flags(self) -> tuple[Flag, ...]:
        return tuple(self._flags[fid] for fid in self._active.values() if fid in self._flags)

    def counts(self) -> dict[ReasonKey, int]:
        """A copy of the session count per reason key."""
        return dict(self._counts)

    def info(self, key: ReasonKey) -> dict[str, Any]:
        """What a key stands for (label, category, outcome...)."""
        i = self._info[key]
        return {"vendor": i.vendor, "status": i.status, "namespace": i.namespace, "code": i.code,
                "subcode": i.subcode, "name": i.name, "label": i.label, "category": i.category,
                "outcome": i.outcome, "first_seen": i.first_seen}

    def totals(self) -> Totals:
        unknown = no_reason = 0
        info = self._info
        for key, n in self._counts.items():
            status = info[key].status
            if status == UNKNOWN:
                unknown += n
            elif status == NONE:
                no_reason += n
        return Totals(
            received=self._events + self._invalid,
            messages=self._messages,
            events=self._events,
            invalid=self._invalid,
            unknown=unknown,
            no_reason=no_reason,
            late=self._late,
            dropped_from_display=self._dropped_display,
        )

    def window_figures(self, now: float | None = None) -> tuple[WindowFigure, ...]:
        """All events in each window and the window before it."""
        self._move_to(now)
        return self._window_figures()

    def _window_figures(self) -> tuple[WindowFigure, ...]:
        out = []
        open_total = self._open_total()
        for w in self.windows:
            cur = self._specs[(w, 0)]
            prev = self._specs[(2 * w, w)]
            out.append(WindowFigure(w, cur.total + open_total, prev.total))
        return tuple(out)

    def _open_total(self) -> int:
        if not self._rates or self._head is None:
            return 0
        got = self._bucket(self._head)
        return got[1] if got else 0

    def _open_bucket(self) -> dict[ReasonKey, int]:
        if not self._rates or self._head is None:
            return {}
        got = self._bucket(self._head)
        return got[0] if got else {}

    def sparkline(
        self, key: ReasonKey | None = None, buckets: int = 60, step_s: int = 1, now: float | None = None
    ) -> tuple[int, ...]:
        """Counts of one reason (or all events with key None) in the last `buckets` periods of `step_s`
        seconds, oldest first, ending with the head second. Zeros beyond the horizon."""
        self._move_to(now)
        if not self._rates or self._head is None or buckets <= 0 or step_s <= 0:
            return (0,) * max(buckets, 0)
        head = self._head
        start = head - buckets * step_s + 1
        out = []
        for b in range(buckets):
            total = 0
            lo = start + b * step_s
            for s in range(max(lo, head - self.horizon_s + 1), lo + step_s):
                got = self._bucket(s)
                if got is not None:
                    total += got[1] if key is None else got[0].get(key, 0)
            out.append(total)
        return tuple(out)

    def _build_tables(self) -> tuple[Any, ...]:
        counts = self._counts
        info = self._info
        open_bucket = self._open_bucket()
        cur = [self._specs[(w, 0)].counts for w in self.windows] if self._rates else []
        prev = [self._specs[(2 * w, w)].counts for w in self.windows] if self._rates else []
        nwin = len(self.windows)
        zeros = (0,) * nwin
        ztexts = ("0",) * nwin
        rows = []
        by_category: dict[str, int] = {}
        by_outcome: dict[str, int] = {}
        by_vendor: dict[str, int] = {}
        for key, n in counts.items():
            i = info[key]
            by_category[i.category] = by_category.get(i.category, 0) + n
            by_outcome[i.outcome] = by_outcome.get(i.outcome, 0) + n
            by_vendor[i.vendor] = by_vendor.get(i.vendor, 0) + n
            if cur:
                ob = open_bucket.get(key, 0)
                wins = tuple(c.get(key, 0) + ob for c in cur)
                changes = tuple(wv - p.get(key, 0) for wv, p in zip(wins, prev))
                texts = tuple(_change_text(c) for c in changes)
            else:
                wins, changes, texts = zeros, zeros, ztexts
            rows.append(ReasonRow(key, i.vendor, i.name, i.label, i.namespace, i.code, i.subcode, i.code_text,
                                  i.category, i.outcome, i.status == KNOWN, n, f"{n:,}", wins, changes, texts))
        rows.sort(key=lambda r: (-r.count, info[r.key].sort_key))
        sources = ((NO_SOURCE if s is None else s, n) for s, n in self._by_source.items())
        merged: dict[str, int] = {}
        for name, n in sources:
            merged[name] = merged.get(name, 0) + n
        return (
            tuple(rows),
            _group_rows(by_category.items()),
            _group_rows(by_outcome.items()),
            _group_rows(by_vendor.items()),
            _group_rows(merged.items()),
            _group_rows(self._by_cause.items()),
        )

    def drain(self, now: float | None = None, max_events: int | None = None) -> Update:
        """Everything new since the previous drain, as one immutable `Update`.

        `now` (or the injected clock) moves the windows forward when no event does (live mode). At most
        `max_events` (default: `recent_limit`) of the newest events are handed out; the rest are counted
        in `dropped_from_display`. Each event is handed out at most once.
        """
        self._move_to(now)
        limit = self.recent_limit if max_events is None else max(0, max_events)
        n = self._new_events
        k = min(n, len(self._recent), limit)
        new_events = tuple(islice(reversed(self._recent), k))[::-1] if k else ()
        dropped = n - k
        self._dropped_display += dropped
        self._new_events = 0
        ni = self._new_invalid
        ki = min(ni, len(self._invalid_recent))
        new_invalid = tuple(islice(reversed(self._invalid_recent), ki))[::-1] if ki else ()
        dropped_invalid = ni - ki
        self._dropped_invalid += dropped_invalid
        self._new_invalid = 0

        state = (self._events, self._invalid, self._head, self._open_total())
        tables_changed = state != self._table_state or self._tables is None
        if tables_changed:
            self._tables = self._build_tables()
            self._table_state = state
            last = self._last_counts
            changed = frozenset(k2 for k2, v in self._counts.items() if last.get(k2) != v)
            self._last_counts = dict(self._counts)
        else:
            changed = frozenset()
        assert self._tables is not None
        reasons, by_category, by_outcome, by_vendor, by_source, by_cause = self._tables
        new_flags = tuple(self._flags[f] for f in self._new_flag_ids if f in self._flags)
        self._new_flag_ids = []
        return Update(
            new_events=new_events,
            dropped_from_display=dropped,
            new_invalid=new_invalid,
            dropped_invalid=dropped_invalid,
            totals=self.totals(),
            reasons=reasons,
            by_category=by_category,
            by_outcome=by_outcome,
            by_vendor=by_vendor,
            by_source=by_source,
            invalid_by_cause=by_cause,
            windows=self._window_figures(),
            changed=changed,
            tables_changed=tables_changed,
            new_flags=new_flags,
            active_flags=self.active_flags,
            now=self._head,
        )

    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        """Plain data for reports and `summary --json` (does not consume what `drain()` hands out)."""
        self._move_to(now)
        reasons, by_category, by_outcome, by_vendor, by_source, by_cause = self._build_tables()
        t = self.totals()
        return {
            "received": t.received,
            "messages": t.messages,
            "events": t.events,
            "invalid": t.invalid,
            "unknown": t.unknown,
            "no_reason": t.no_reason,
            "late": t.late,
            "dropped_from_display": t.dropped_from_display,
            "reasons": [r.to_dict() for r in reasons],
            "by_category": {r.name: r.count for r in by_category},
            "by_outcome": {r.name: r.count for r in by_outcome},
            "by_vendor": {r.name: r.count for r in by_vendor},
            "by_source": {r.name: r.count for r in by_source},
            "invalid_by_cause": {r.name: r.count for r in by_cause},
            "windows": {
                str(f.seconds): {"count": f.count, "previous": f.previous, "change": f.change}
                for f in self._window_figures()
            } if self._rates else {},
            "now": self._head,
            "flags": [f.to_dict() for f in self._flags.values()],
        }


def _replace_flag(flag: Flag, **changes: Any) -> Flag:
    fields = {name: getattr(flag, name) for name in Flag.__dataclass_fields__}
    fields.update(changes)
    return Flag(**fields)
