"""Aggregate: exact counts, bounded memory, windows, spike and first-seen flags, drain semantics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tui.domain.aggregate import KNOWN, NONE, OTHER, UNKNOWN, Aggregate, reason_key
from tui.domain.model import CallEnd, Entry, InvalidMessage, Reason


def entry(vendor: str, code: str, name: str, category: str = "normal", outcome: str = "success",
          subcode: str | None = None, namespace: str = "ns") -> Entry:
    return Entry(vendor=vendor, namespace=namespace, code=code, subcode=subcode, name=name, aliases=(),
                 description="d", summary="s", advice="a", category=category, outcome=outcome)


ENTRIES = {
    ("planetkit", "1001"): entry("planetkit", "1001", "NORMAL"),
    ("planetkit", "1202"): entry("planetkit", "1202", "BUSY", "busy", "expected_error"),
    ("livekit", "14"): entry("livekit", "14", "CONNECTION_TIMEOUT", "timeout", "unexpected_server_error"),
    ("acs", "487"): entry("acs", "487", "CANCELED", "canceled", "expected_error", subcode="0"),
}


def reason(vendor: str, code: str | None, spelled: str | None = None) -> Reason | None:
    if code is None:
        return None
    e = ENTRIES.get((vendor, code))
    raw = spelled or code
    sub = e.subcode if e else None
    return Reason(vendor, raw, sub, e is not None, "exact" if e else "none", e, "ns")


def ev(vendor: str = "planetkit", code: str | None = "1001", ts: float = 1000.0, seq: int = 1,
       source: str | None = "CALLER", spelled: str | None = None) -> CallEnd:
    r = reason(vendor, code, spelled)
    return CallEnd(seq=seq, ts=ts, vendor=vendor, code=spelled or code, subcode=None, reason=r, source=source)


def bad(seq: int = 1, cause: str = "bad_json") -> InvalidMessage:
    return InvalidMessage(seq=seq, received=0.0, cause=cause, detail="x", snippet="{")


def grouping_sums(agg: Aggregate) -> None:
    u = agg.drain(max_events=0)
    n = agg.events
    assert u.totals.received == u.totals.events + u.totals.invalid
    for table in (u.reasons, u.by_category, u.by_outcome, u.by_vendor, u.by_source):
        assert sum(r.count for r in table) == n
    assert sum(r.count for r in u.invalid_by_cause) == agg.invalid


# ---------------------------------------------------------------------------------------------- counting


def test_counters_exist_at_zero():
    u = Aggregate().drain()
    t = u.totals
    assert (t.received, t.messages, t.events, t.invalid, t.unknown, t.no_reason) == (0, 0, 0, 0, 0, 0)
    assert u.reasons == () and u.new_events == () and u.new_flags == ()
    assert [w.seconds for w in u.windows] == [60, 300, 900]
    assert all(w.count == 0 and w.previous == 0 for w in u.windows)


def test_counts_by_reason_category_outcome_vendor_source():
    agg = Aggregate()
    agg.add(ev("planetkit", "1001"))
    agg.add(ev("planetkit", "1001", spelled="NORMAL"))  # another spelling of the same entry
    agg.add(ev("planetkit", "1202", source="CALLEE"))
    agg.add(ev("livekit", "99", source=None))  # unknown code
    agg.add(ev("acs", None, source=None))  # no reason delivered
    agg.add_invalid(bad())
    agg.add_messages(6)
    u = agg.drain()
    t = u.totals
    assert (t.received, t.messages, t.events, t.invalid, t.unknown, t.no_reason) == (6, 6, 5, 1, 1, 1)
    rows = {(r.vendor, r.label): r.count for r in u.reasons}
    assert rows == {("planetkit", "NORMAL"): 2, ("planetkit", "BUSY"): 1, ("livekit", "? 99"): 1,
                    ("acs", "(no reason delivered)"): 1}
    assert u.reasons[0].label == "NORMAL" and u.reasons[0].count_text == "2"
    assert {r.name: r.count for r in u.by_category} == {"normal": 2, "busy": 1, "unknown": 1, "no_reason": 1}
    assert {r.name: r.count for r in u.by_outcome} == {
        "success": 2, "expected_error": 1, "unknown": 1, "no_reason": 1}
    assert {r.name: r.count for r in u.by_vendor} == {"planetkit": 3, "livekit": 1, "acs": 1}
    assert {r.name: r.count for r in u.by_source} == {"CALLER": 2, "CALLEE": 1, "(none)": 2}
    assert {r.name: r.count for r in u.invalid_by_cause} == {"bad_json": 1}
    grouping_sums(agg)


def test_reason_keys():
    assert reason_key("acs", None) == ("acs", NONE, None, None, None)
    assert reason_key("livekit", reason("livekit", "99")) == ("livekit", UNKNOWN, "ns", "99", None)
    assert reason_key("acs", reason("acs", "487")) == ("acs", KNOWN, "ns", "487", "0")


def test_rows_sorted_count_desc_then_name():
    agg = Aggregate()
    for code, n in (("1202", 3), ("1001", 3), ("9", 5)):
        for _ in range(n):
            agg.add(ev("planetkit", code))
    labels = [r.label for r in agg.drain().reasons]
    assert labels == ["? 9", "BUSY", "NORMAL"]


def test_snapshot_shape():
    agg = Aggregate()
    agg.add(ev())
    agg.add_invalid(bad(cause="too_deep"))
    snap = agg.snapshot()
    for key in ("received", "events", "invalid", "unknown", "no_reason", "reasons", "by_category",
                "by_outcome", "by_vendor", "by_source", "invalid_by_cause", "windows", "flags"):
        assert key in snap
    assert snap["reasons"][0] == {
        "vendor": "planetkit", "namespace": "ns", "code": "1001", "subcode": None, "name": "NORMAL",
        "label": "NORMAL", "known": True, "category": "normal", "outcome": "success", "count": 1}
    assert snap["invalid_by_cause"] == {"too_deep": 1}


def test_reset_forgets_everything():
    agg = Aggregate()
    agg.add(ev())
    agg.add_invalid(bad())
    agg.reset()
    u = agg.drain()
    assert u.totals.received == 0 and u.reasons == () and u.new_events == () and u.new_invalid == ()
    assert agg.sparkline(None, 5) == (0, 0, 0, 0, 0)


def test_unknown_reasons_and_sources_are_capped_but_counted():
    agg = Aggregate(max_reasons=3, max_sources=2)
    for i in range(10):
        agg.add(ev("livekit", f"x{i}", source=f"s{i}"))
    u = agg.drain()
    assert len(u.reasons) == 4
    assert {r.label: r.count for r in u.reasons}[f"? {OTHER}"] == 7
    assert {r.name: r.count for r in u.by_source} == {"s0": 1, "s1": 1, OTHER: 8}
    assert u.totals.unknown == 10
    grouping_sums(agg)


def test_bad_timestamps_do_not_break_rates():
    agg = Aggregate()
    agg.add(ev(ts=1000.0))
    agg.add(ev(ts=float("nan")))
    agg.add(ev(ts=float("inf")))
    assert agg.events == 3
    assert agg.window_figures()[0].count == 3


# ---------------------------------------------------------------------------------------------- drain


def test_drain_hands_each_event_once_oldest_first():
    agg = Aggregate()
    events = [ev(seq=i, ts=1000 + i) for i in range(5)]
    for e in events[:3]:
        agg.add(e)
    assert agg.drain().new_events == tuple(events[:3])
    assert agg.drain().new_events == ()
    for e in events[3:]:
        agg.add(e)
    assert agg.drain().new_events == tuple(events[3:])


def test_drain_keeps_newest_and_counts_dropped():
    agg = Aggregate(recent_limit=4, invalid_limit=2)
    for i in range(10):
        agg.add(ev(seq=i))
        agg.add_invalid(bad(seq=i))
    u = agg.drain()
    assert [e.seq for e in u.new_events] == [6, 7, 8, 9]
    assert u.dropped_from_display == 6
    assert [m.seq for m in u.new_invalid] == [8, 9] and u.dropped_invalid == 8
    assert u.totals.events == 10 and u.totals.dropped_from_display == 6
    for i in range(10, 13):
        agg.add(ev(seq=i))
    u = agg.drain(max_events=2)
    assert [e.seq for e in u.new_events] == [11, 12] and u.dropped_from_display == 1
    assert agg.totals().dropped_from_display == 7


def test_tables_reused_when_nothing_changed():
    agg = Aggregate()
    agg.add(ev())
    first = agg.drain()
    assert first.tables_changed and first.changed == {reason_key("planetkit", reason("planetkit", "1001"))}
    second = agg.drain()
    assert not second.tables_changed and second.reasons is first.reasons and second.changed == frozenset()


# ---------------------------------------------------------------------------------------------- rates


def test_windows_and_change_against_previous_window():
    agg = Aggregate()
    t0 = 10_000
    for s in range(0, 120):  # 1 event/s for two minutes
        agg.add(ev(ts=t0 + s))
    for _ in range(30):  # then a burst of 30 in the last second
        agg.add(ev("planetkit", "1202", ts=t0 + 119))
    u = agg.drain()
    w1, w5, w15 = u.windows
    assert (w1.seconds, w1.count, w1.previous, w1.change) == (60, 90, 60, 30)
    assert (w5.count, w5.previous) == (150, 0)
    busy = next(r for r in u.reasons if r.label == "BUSY")
    assert busy.windows == (30, 30, 30) and busy.changes == (30, 30, 30) and busy.change_texts[0] == "+30"
    normal = next(r for r in u.reasons if r.label == "NORMAL")
    assert normal.windows[0] == 60 and normal.changes[0] == 0


def test_windows_move_with_injected_clock():
    now = [10_000.0]
    agg = Aggregate(clock=lambda: now[0])
    for s in range(10):
        agg.add(ev(ts=10_000 + s))
    assert agg.drain().windows[0].count == 10
    now[0] = 10_069.0
    u = agg.drain()
    assert (u.windows[0].count, u.windows[0].previous) == (0, 10)
    now[0] = 12_000.0
    assert all(w.count == 0 and w.previous == 0 for w in agg.drain().windows)
    assert agg.events == 10


def test_drain_now_argument_without_clock():
    agg = Aggregate()
    agg.add(ev(ts=500))
    assert agg.drain(now=500 + 61).windows[0].count == 0


def test_late_events_inside_horizon_count_in_their_window():
    agg = Aggregate()
    agg.add(ev(ts=10_000))
    agg.add(ev(ts=10_200))
    agg.add(ev(ts=10_190))  # late, inside the last minute
    agg.add(ev(ts=10_100))  # late, previous 5 minutes? no: inside the last 5 minutes
    agg.add(ev(ts=5_000))  # older than the horizon: counted, not rated
    w1, w5, _ = agg.drain().windows
    assert w1.count == 2 and w5.count == 4
    assert agg.totals().late == 1 and agg.events == 5


def test_future_timestamps_clamped_in_live_mode():
    agg = Aggregate(clock=lambda: 10_000.0)
    agg.add(ev(ts=10_000))
    agg.add(ev(ts=1e12))  # a broken or hostile timestamp must not wipe the windows
    agg.add(ev(ts=10_001))
    assert agg.clamped == 1
    assert agg.window_figures()[0].count == 3


def test_sparkline():
    agg = Aggregate()
    key = reason_key("planetkit", reason("planetkit", "1202"))
    for s, n in ((0, 1), (2, 3), (5, 2)):
        for _ in range(n):
            agg.add(ev("planetkit", "1202", ts=100 + s))
    agg.add(ev("planetkit", "1001", ts=105))
    assert agg.sparkline(key, buckets=6) == (1, 0, 3, 0, 0, 2)
    assert agg.sparkline(None, buckets=3) == (0, 0, 3)
    assert agg.sparkline(key, buckets=2, step_s=3) == (4, 2)


def test_ring_is_bounded_by_horizon():
    agg = Aggregate(horizon_s=40, windows=(10,), spike_window_s=10, spike_baseline_s=30)
    for s in range(1000):
        agg.add(ev(ts=s))
    assert len(agg._buckets) == 40
    assert agg.sparkline(None, buckets=50)[:10] == (0,) * 10
    assert agg.window_figures()[0].count == 10


def test_rates_disabled():
    agg = Aggregate(horizon_s=0)
    agg.add(ev())
    u = agg.drain()
    assert u.totals.events == 1 and u.reasons[0].windows == (0, 0, 0)
    assert agg.sparkline(None, 3) == (0, 0, 0)


def test_horizon_must_cover_windows():
    with pytest.raises(ValueError):
        Aggregate(horizon_s=100)


# ---------------------------------------------------------------------------------------------- flags


def steady(agg: Aggregate, start: int, seconds: int, code: str = "1001", every: int = 10) -> None:
    for s in range(0, seconds, every):
        agg.add(ev("planetkit", code, ts=start + s))


def timeline(agg: Aggregate, start: int, seconds: int, busy_every: int = 60, burst_at: int | None = None,
             burst: int = 20) -> None:
    """NORMAL every 10 s, BUSY every `busy_every` s, and `burst` extra BUSY (one a second) at `burst_at`."""
    for s in range(seconds):
        t = start + s
        if s % 10 == 0:
            agg.add(ev("planetkit", "1001", ts=t))
        if s % busy_every == 0:
            agg.add(ev("planetkit", "1202", ts=t))
        if burst_at is not None and burst_at <= s < burst_at + burst:
            agg.add(ev("planetkit", "1202", ts=t))


def test_spike_raised_once_with_start_and_peak_then_rearmed():
    agg = Aggregate(warmup_events=10**9, warmup_s=10**9)
    t0 = 100_000
    timeline(agg, t0, 1200)  # baseline: BUSY once a minute
    assert agg.flags == ()
    t1 = t0 + 1200
    timeline(agg, t1, 60, burst_at=1)  # 20 extra BUSY in 20 s
    u = agg.drain()
    spikes = [f for f in u.new_flags if f.kind == "spike"]
    assert len(spikes) == 1
    spike = spikes[0]
    # the window holds the regular BUSY at t1 plus the burst from t1+1: 5 events at t1+4
    assert spike.label == "BUSY" and spike.started == t1 + 4 and spike.count == 5
    assert spike.baseline == pytest.approx(1.0)
    assert u.active_flags[0].peak == 21
    # calm down over 10 quiet minutes (flag ended, re-armed), then the same burst raises a new flag
    timeline(agg, t1 + 60, 600)
    assert agg.drain().active_flags == ()
    ended = [f for f in agg.flags if f.kind == "spike"]
    assert len(ended) == 1 and ended[0].ended is not None and ended[0].peak == 21
    t2 = t1 + 660
    timeline(agg, t2, 60, burst_at=1)
    again = [f for f in agg.drain().new_flags if f.kind == "spike"]
    # the first burst is now in the baseline (35 BUSY in 15 minutes): the threshold is 7, reached at t2+6
    assert len(again) == 1 and again[0].id != spike.id
    assert again[0].baseline == pytest.approx(35 / 15) and again[0].count == 7 and again[0].started == t2 + 6


def test_no_spike_without_history_or_under_minimum():
    agg = Aggregate(warmup_events=10**9, warmup_s=10**9)
    for i in range(50):  # a burst at the very start: no baseline yet
        agg.add(ev(ts=1000 + i // 10))
    agg.add(ev(ts=1100))
    assert not [f for f in agg.flags if f.kind == "spike"]
    agg2 = Aggregate(warmup_events=10**9, warmup_s=10**9)
    steady(agg2, 0, 1200, every=30)
    for i in range(4):  # 4 < spike_min_events although far above the baseline
        agg2.add(ev("planetkit", "1202", ts=1200 + i))
    agg2.add(ev(ts=1300))
    assert not [f for f in agg2.flags if f.kind == "spike"]


def test_first_seen_after_warmup_only_and_once():
    agg = Aggregate(warmup_events=5, warmup_s=10**9)
    agg.add(ev("planetkit", "1202", ts=1))  # during warm-up: not flagged
    for i in range(5):
        agg.add(ev(ts=2 + i))
    agg.add(ev("livekit", "14", ts=10))
    agg.add(ev("livekit", "14", ts=11))
    agg.add(ev("livekit", "77", ts=12))  # an unknown code is a reason too
    u = agg.drain()
    firsts = [(f.kind, f.label, f.started) for f in u.new_flags]
    assert firsts == [("first_seen", "CONNECTION_TIMEOUT", 10.0), ("first_seen", "? 77", 12.0)]
    assert agg.drain().new_flags == ()
    assert len(agg.flags) == 2


def test_first_seen_warmup_by_time():
    agg = Aggregate(warmup_events=10**9, warmup_s=60)
    agg.add(ev(ts=1000))
    agg.add(ev("planetkit", "1202", ts=1030))
    agg.add(ev(ts=1061))
    agg.add(ev("livekit", "14", ts=1062))
    assert [f.label for f in agg.drain().new_flags] == ["CONNECTION_TIMEOUT"]


def test_flag_history_bounded():
    agg = Aggregate(warmup_events=0, flag_limit=3)
    for i in range(10):
        agg.add(ev("livekit", f"u{i}", ts=i))
    assert len(agg.flags) == 3 and [f.label for f in agg.flags] == ["? u7", "? u8", "? u9"]


# ---------------------------------------------------------------------------------------------- properties

CODES = [("planetkit", "1001"), ("planetkit", "1202"), ("livekit", "14"), ("acs", "487"), ("livekit", "99"),
         ("acs", None), ("jssip", "x")]
item = st.one_of(
    st.tuples(st.just("e"), st.sampled_from(CODES), st.integers(0, 5000), st.sampled_from(["CALLER", None])),
    st.tuples(st.just("i"), st.sampled_from(["bad_json", "too_deep", "not_utf8"])),
    st.tuples(st.just("d"), st.integers(0, 3)),
)


def apply(agg: Aggregate, items: list, check: bool = True) -> list[CallEnd]:
    drained: list[CallEnd] = []
    fed_events = fed_invalid = 0
    for i, it in enumerate(items):
        if it[0] == "e":
            (vendor, code), ts, source = it[1], it[2], it[3]
            agg.add(ev(vendor, code, ts=1_000_000 + ts, seq=i, source=source))
            fed_events += 1
        elif it[0] == "i":
            agg.add_invalid(bad(seq=i, cause=it[1]))
            fed_invalid += 1
        else:
            u = agg.drain(max_events=it[1] or None)
            drained.extend(u.new_events)
        if check:
            t = agg.totals()
            assert t.events == fed_events and t.invalid == fed_invalid
            assert t.received == t.events + t.invalid
            assert sum(agg.counts().values()) == t.events
            assert len(agg._recent) <= agg.recent_limit and len(agg._invalid_recent) <= agg.invalid_limit
    return drained


@settings(max_examples=150, deadline=None)
@given(st.lists(item, max_size=120))
def test_invariants_hold_at_every_step(items):
    agg = Aggregate(recent_limit=7, invalid_limit=3, warmup_events=3)
    drained = apply(agg, items)
    drained.extend(agg.drain().new_events)
    grouping_sums(agg)
    seqs = [e.seq for e in drained]
    assert len(seqs) == len(set(seqs)), "drain handed an event out twice"
    assert seqs == sorted(seqs)
    t = agg.totals()
    assert len(drained) + t.dropped_from_display == t.events


@settings(max_examples=60, deadline=None)
@given(st.lists(item, max_size=150))
def test_replay_twice_gives_identical_counts(items):
    a, b = Aggregate(warmup_events=5), Aggregate(warmup_events=5)
    apply(a, items, check=False)
    apply(b, items, check=False)
    sa, sb = a.snapshot(), b.snapshot()
    assert sa == sb
    a.reset()
    apply(a, items, check=False)
    assert a.snapshot() == sb


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(CODES), st.integers(0, 4000)), max_size=300))
def test_windows_match_brute_force(events):
    agg = Aggregate()
    for (vendor, code), ts in events:
        agg.add(ev(vendor, code, ts=ts))
    if not events:
        return
    head = agg.head
    secs = [ts for _, ts in events if ts > head - 3600]
    for fig in agg.window_figures():
        w = fig.seconds
        assert fig.count == sum(1 for s in secs if head - w < s <= head)
        assert fig.previous == sum(1 for s in secs if head - 2 * w < s <= head - w)
    spark = agg.sparkline(None, buckets=30)
    assert spark == tuple(sum(1 for s in secs if s == head - 29 + i) for i in range(30))


class AggregateMachine(RuleBasedStateMachine):
    """Stateful: random adds, invalid messages, drains, clock moves and resets keep the books exact."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 50_000.0
        self.agg = Aggregate(recent_limit=5, invalid_limit=2, clock=lambda: self.now, warmup_events=2)
        self.events = self.invalid = 0
        self.seen: set[int] = set()
        self.shown = 0
        self.seq = 0

    @rule(code=st.sampled_from(CODES), dt=st.integers(-100, 5))
    def add_event(self, code, dt):
        self.seq += 1
        self.agg.add(ev(code[0], code[1], ts=self.now + dt, seq=self.seq))
        self.events += 1

    @rule()
    def add_invalid(self):
        self.agg.add_invalid(bad())
        self.invalid += 1

    @rule(dt=st.integers(0, 400))
    def tick(self, dt):
        self.now += dt

    @rule(limit=st.integers(0, 6))
    def drain(self, limit):
        u = self.agg.drain(max_events=limit)
        for e in u.new_events:
            assert e.seq not in self.seen
            self.seen.add(e.seq)
        self.shown += len(u.new_events)
        assert len(u.new_events) <= limit

    @precondition(lambda self: self.events > 3)
    @rule()
    def reset(self):
        self.agg.reset()
        self.events = self.invalid = self.shown = 0

    @invariant()
    def books_balance(self):
        t = self.agg.totals()
        assert t.events == self.events and t.invalid == self.invalid
        assert t.received == t.events + t.invalid
        assert sum(self.agg.counts().values()) == t.events
        assert self.shown + t.dropped_from_display + self.agg._new_events == t.events
        assert len(self.agg._recent) <= 5 and len(self.agg._invalid_recent) <= 2
        for fig in self.agg._window_figures():
            assert 0 <= fig.count <= t.events and 0 <= fig.previous <= t.events


TestAggregateMachine = AggregateMachine.TestCase
TestAggregateMachine.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)


def test_live_mode_rates_by_arrival_not_by_the_events_own_time():
    # A capture from two days ago served as a live feed (the demo): its events arrive now.
    now = [2_000_000.0]
    agg = Aggregate(clock=lambda: now[0], rate_by_arrival=True)
    old = 2_000_000.0 - 2 * 86_400
    for i in range(30):
        agg.add(ev(code=str(1001 + i % 3), ts=old + i, seq=i + 1))
        now[0] += 1
    update = agg.drain()
    assert update.totals.events == 30
    assert agg.window_figures()[0].count == 30  # all within the last minute of arrivals
    # Warm-up follows arrival time too: 30 s into the session nothing is "first seen".
    assert [f for f in agg.flags if f.kind == "first_seen"] == []
    assert agg.recent[-1].ts == old + 29  # the event keeps its own time for display


def test_event_time_mode_is_the_default():
    agg = Aggregate(clock=lambda: 2_000_000.0)
    agg.add(ev(ts=2_000_000.0 - 2 * 86_400))
    agg.drain()
    assert agg.window_figures()[0].count == 0


def test_rate_by_arrival_needs_a_clock():
    with pytest.raises(ValueError):
        Aggregate(rate_by_arrival=True)
