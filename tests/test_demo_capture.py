"""The bundled demo captures tell the story benchmarks/make_demo.py says they tell.

Every line of fixtures/demo.jsonl and fixtures/demo-small.jsonl goes through the real path (the capture
reader, then `Pipeline(load_catalogs(), Aggregate())`), and the results are checked against what the
generator planted (its `build()` counts) and against the story: four vendors, a 6-minute span, an ACS
410/3101 spike from minute 3 with 410/301005 seen for the first time during it, unknown codes, events
without a reason, and exactly the malformed lines that were planted. The generator must also be
deterministic: a fresh run reproduces the committed files byte for byte.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tui.domain.aggregate import Aggregate
from tui.domain.catalog import load_catalogs
from tui.domain.decode import event_time
from tui.domain.model import CallEnd, InvalidMessage
from tui.domain.pipeline import Pipeline
from tui.ingest.capture import iter_capture

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "benchmarks" / "make_demo.py"
FIXTURES = ROOT / "fixtures"

#: The malformed kinds the generator plants, and the cause the decoder must give each.
CAUSES = {
    "validation_handshake": "not_call_end",
    "livekit_participant_joined": "not_call_end",
    "truncated_json": "bad_json",
    "non_object": "not_an_object",
    "unknown_shape": "unknown_format",
    "code_is_object": "bad_field",
}

# Characters that must never reach the screen raw: C0/C1 controls, bidi overrides/isolates, zero-width.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_demo", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_demo"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


@dataclass
class Decoded:
    scenario: Any
    stats: dict[str, Any]
    aggregate: Aggregate
    events: list[CallEnd]
    invalid: list[InvalidMessage]
    line_times: list[float | None]

    @property
    def snapshot(self) -> dict[str, Any]:
        return self.aggregate.snapshot()


def _aggregate_for(scenario: Any) -> Aggregate:
    if scenario is gen.DEMO:
        return Aggregate()  # the defaults the dashboard uses
    # 60 s of history is too short for the default detectors (spikes need two 60 s windows of history,
    # first-seen needs 1000 events or 300 s): scale them down with the capture.
    return Aggregate(spike_window_s=10, spike_baseline_s=20, warmup_s=22)


def _decode(scenario: Any) -> Decoded:
    _lines, stats = gen.build(scenario)
    aggregate = _aggregate_for(scenario)
    pipeline = Pipeline(load_catalogs(), aggregate)
    events: list[CallEnd] = []
    invalid: list[InvalidMessage] = []
    times: list[float | None] = []
    for raw in iter_capture(FIXTURES / scenario.filename):
        times.append(event_time(raw))
        for item in pipeline.process(raw):
            (invalid if isinstance(item, InvalidMessage) else events).append(item)
    return Decoded(scenario, stats, aggregate, events, invalid, times)


@pytest.fixture(scope="module", params=["demo", "demo-small"])
def decoded(request: pytest.FixtureRequest) -> Decoded:
    scenario = gen.DEMO if request.param == "demo" else gen.SMALL
    return _decode(scenario)


@pytest.fixture(scope="module")
def demo() -> Decoded:
    return _decode(gen.DEMO)


# --------------------------------------------------------------------------- the generator


def test_generator_is_deterministic(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(GENERATOR), "--out-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for scenario in gen.SCENARIOS:
        fresh = (tmp_path / scenario.filename).read_bytes()
        committed = (FIXTURES / scenario.filename).read_bytes()
        assert fresh == committed, f"{scenario.filename} differs from a fresh `python benchmarks/make_demo.py`"
    check = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True,
                           timeout=120)
    assert check.returncode == 0, check.stderr


def test_build_is_repeatable_in_process() -> None:
    assert gen.build(gen.SMALL) == gen.build(gen.SMALL)


def test_file_sizes() -> None:
    assert (FIXTURES / gen.DEMO.filename).stat().st_size < 2 * 1024 * 1024
    assert (FIXTURES / gen.SMALL.filename).stat().st_size < 200 * 1024
    for scenario in gen.SCENARIOS:
        (FIXTURES / scenario.filename).read_bytes().decode("ascii")  # ASCII: escapes stay visible in the file


# --------------------------------------------------------------------------- the ingredients


def test_every_event_decodes_and_nothing_is_lost(decoded: Decoded) -> None:
    st = decoded.stats
    snap = decoded.snapshot
    assert snap["messages"] == st["lines"]
    assert snap["events"] == st["events"] == len(decoded.events)
    assert snap["received"] == st["events"] + st["invalid_elements"]


def test_all_four_vendors_present(decoded: Decoded) -> None:
    by_vendor = decoded.snapshot["by_vendor"]
    for vendor in ("acs", "livekit", "planetkit", "jssip"):
        assert by_vendor.get(vendor, 0) >= 10, by_vendor
    assert by_vendor == decoded.stats["by_vendor"]  # the unknown vendor (twilio) included


def test_envelope_and_native_formats_mixed(decoded: Decoded) -> None:
    formats = Counter(e.format for e in decoded.events)
    assert formats == Counter(decoded.stats["by_format"])
    share = formats["envelope"] / len(decoded.events)
    assert 0.35 <= share <= 0.65, formats
    natives = {f.split(".")[0] for f in formats if f != "envelope"}
    assert natives == {"acs", "livekit", "planetkit", "jssip"}


def test_every_event_carries_its_own_time(decoded: Decoded) -> None:
    start = gen.T0
    end = gen.T0 + decoded.scenario.span_s
    outside = [e for e in decoded.events if not start <= e.ts <= end]  # a receive-time fallback is "now"
    assert not outside, outside[:3]


def test_span_and_rate() -> None:
    for scenario, lo, hi in ((gen.DEMO, 5 * 60, 7 * 60), (gen.SMALL, 50, 70)):
        d = _decode(scenario)
        times = [e.ts for e in d.events]
        span = max(times) - min(times)
        assert lo <= span <= hi, span
        if scenario is gen.DEMO:
            assert 3.0 <= len(times) / span <= 6.0
        else:
            assert 150 <= len(times) <= 250


def test_lines_are_in_event_time_order(decoded: Decoded) -> None:
    # Replay paces by each line's event time: it must not go backwards (Event Grid's 7-digit times can
    # sit a fraction of a millisecond after the next line's).
    times = [t for t in decoded.line_times if t is not None]
    assert len(times) == decoded.stats["lines"] - decoded.stats["invalid_lines"]
    backwards = [(a, b) for a, b in zip(times, times[1:]) if b < a - 0.001]
    assert not backwards, backwards[:3]


def test_mostly_normal_ends_and_expected_errors_outside_the_incident(decoded: Decoded) -> None:
    s = decoded.scenario
    outside = [e for e in decoded.events
               if not gen.T0 + s.incident_start <= e.ts < gen.T0 + s.incident_end]
    outcomes = Counter(e.outcome for e in outside)
    ok = outcomes["success"] + outcomes["expected_error"]
    assert ok / len(outside) >= 0.8, outcomes
    assert outcomes["success"] > outcomes["expected_error"] > 0


def test_invalid_lines_are_exactly_the_planted_ones(decoded: Decoded) -> None:
    st = decoded.stats
    assert decoded.snapshot["invalid"] == st["invalid_elements"] == len(decoded.invalid)
    assert len({bad.seq for bad in decoded.invalid}) == st["invalid_lines"]
    want: Counter[str] = Counter()
    for kind, n in st["invalid_kinds"].items():
        want[CAUSES[kind]] += n
    assert Counter(bad.cause for bad in decoded.invalid) == want
    assert decoded.snapshot["invalid_by_cause"] == dict(want)


def test_no_reason_events(decoded: Decoded) -> None:
    st = decoded.stats
    assert st["no_reason"] > 0
    assert decoded.snapshot["no_reason"] == st["no_reason"]
    by_vendor = Counter(e.vendor for e in decoded.events if e.reason is None)
    assert by_vendor == Counter(st["no_reason_by_vendor"])
    removed = [e for e in decoded.events
               if e.reason is None and (e.extra or {}).get("event_type") == "CallParticipantRemoved"]
    if decoded.scenario is gen.DEMO:
        assert removed, "ACS CallParticipantRemoved (no reason) is part of the demo"


def _unknown_by_vendor(decoded: Decoded) -> Counter[str]:
    return Counter(e.vendor for e in decoded.events if e.reason is not None and not e.reason.known)


def test_unknown_codes(decoded: Decoded) -> None:
    st = decoded.stats
    got = _unknown_by_vendor(decoded)
    assert sum(got.values()) > 0
    # LiveKit's new value 17 is checked on its own below.
    for vendor in ("acs", "planetkit", "jssip", "twilio"):
        assert got[vendor] == st["unknown_by_vendor"].get(vendor, 0) > 0, (vendor, got)
    unknown = {(e.vendor, e.code, e.subcode) for e in decoded.events if e.reason is not None and not e.reason.known}
    assert {("acs", "0", "5318"), ("planetkit", "1513", None), ("jssip", "Agent Transfer", None),
            ("twilio", "completed", None)} <= unknown


def test_livekit_new_value_17_is_unknown(demo: Decoded) -> None:
    seventeen = [e for e in demo.events if e.vendor == "livekit" and e.code == "17"]
    assert len(seventeen) == demo.stats["unknown_by_vendor"]["livekit"]
    assert all(e.reason is not None and not e.reason.known for e in seventeen), \
        [(e.reason.namespace, e.reason.name) for e in seventeen if e.reason is not None]


def test_injection_attempts_arrive_as_inert_text(decoded: Decoded) -> None:
    markers = ("[bold]", "[@click", "[link=", "[red on white", "31mRED", "evil.example", "exe.3pm", "width")
    carriers = [e for e in decoded.events
                if any(m in (e.call_id or "") + (e.user_code or "") + str(e.extra or "") for m in markers)]
    assert len(carriers) >= decoded.stats["injection"] > 0
    assert all(e.known for e in carriers)
    for e in decoded.events:
        fields = [e.call_id, e.user_code, e.message, e.source, e.code, e.subcode, e.raw]
        fields += [v for v in (e.extra or {}).values() if isinstance(v, str)]
        for value in fields:
            assert value is None or not _UNSAFE.search(value), (e.seq, value)


# --------------------------------------------------------------------------- the story


def _reason_key(vendor: str, code: str, subcode: str | None) -> tuple[Any, ...]:
    entry = load_catalogs().lookup(vendor, code, subcode).entry
    assert entry is not None
    return (vendor, "known", entry.namespace, entry.code, entry.subcode)


def test_incident_spike_and_first_seen_flags(decoded: Decoded) -> None:
    s = decoded.scenario
    flags = decoded.aggregate.flags
    incident = _reason_key(*gen.INCIDENT_REASON)
    first_seen = _reason_key(*gen.FIRST_SEEN_REASON)
    start = gen.T0 + s.incident_start

    spikes = [f for f in flags if f.kind == "spike"]
    assert [f.key for f in spikes] == [incident], [(f.label, f.started - gen.T0) for f in spikes]
    spike = spikes[0]
    assert start <= spike.started <= start + s.ramp_s + 10
    assert spike.ended is not None and spike.ended >= gen.T0 + s.incident_end

    new = [f for f in flags if f.kind == "first_seen"]
    assert [f.key for f in new] == [first_seen], [(f.label, f.started - gen.T0) for f in new]
    assert start <= new[0].started <= gen.T0 + s.incident_end


def test_incident_numbers(demo: Decoded) -> None:
    s = gen.DEMO
    incident = [e for e in demo.events if (e.vendor, e.code, e.subcode) == gen.INCIDENT_REASON]
    during = [e for e in incident if gen.T0 + s.incident_start <= e.ts < gen.T0 + s.incident_end]
    assert len(during) >= demo.stats["incident"]["events"]
    assert len(incident) - len(during) <= 10  # a rare reason before and after
    per_second = Counter(int(e.ts) for e in during)
    assert 8 <= max(per_second.values()) <= 20  # "about 10/s" at the plateau
    # Dropped by the service, mostly in one region.
    assert Counter(e.source_name for e in during).most_common(1)[0][0] == "MICROSOFT_INTERNAL"
    regions = Counter((e.extra or {}).get("region") for e in during if e.format == "envelope")
    assert regions.most_common(1)[0][0] == "westeurope"
