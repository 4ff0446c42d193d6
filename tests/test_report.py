"""Incident reports: the numbers agree with `callwatch summary`, windows and filters, spikes, timeline,
bookmarks, masking, and Markdown/JSON output that no feed text can break.

`write_capture()` builds a 40-minute capture whose contents are known by construction (a spike of
PlanetKit SERVER_INTERNAL_ERROR from 10:25 to 10:28, ACS 500 every 97 s from 10:20, a new unknown
LiveKit code at 10:30, hostile strings, a bad line); the browser tests use it too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tui.domain.aggregate import Aggregate
from tui.domain.bookmarks import BookmarkStore, bookmarks_path
from tui.domain.catalog import load_catalogs
from tui.domain.filter import parse_filter
from tui.domain.mask import Masker
from tui.domain.pipeline import Pipeline
from tui.domain.report import (
    RelativeTime,
    ReportCollector,
    build_report,
    md,
    parse_time,
    render_json,
    render_markdown,
    rolling_window,
    timeline_buckets,
    write_report,
)
from tui.ingest.capture import iter_capture

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo.jsonl"
T0 = 1752487200  # 2025-07-14T10:00:00Z

#: Base traffic, one event every 6 s, cycling (so no reason ever reaches 5 a minute: no spike from it).
BASE = [("planetkit", "1001"), ("livekit", "CLIENT_INITIATED"), ("jssip", "Terminated"), ("acs", "0/0"),
        ("jssip", "Busy"), ("livekit", "USER_REJECTED"), ("acs", "487/10004"), ("planetkit", "1110")]
HOSTILE_CODE = "<img src=x onerror=alert(1)>|`x`"
HOSTILE_CALL = "<script>alert('pwned')</script>"


def write_capture(path: Path) -> dict:
    """Write the capture; return what is known about it by construction."""
    rows: list[tuple[float, dict]] = []
    for i, s in enumerate(range(0, 40 * 60, 6)):
        vendor, code = BASE[i % len(BASE)]
        code, _, sub = code.partition("/")
        ev = {"vendor": vendor, "code": code, "call_id": f"call-{i:05d}"}
        if sub:
            ev["subcode"] = sub
        rows.append((T0 + s, ev))
    spike = [T0 + s + 1 for s in range(25 * 60, 28 * 60, 3)]
    rows += [(t, {"vendor": "planetkit", "code": "1305", "call_id": f"spike-{n}"}) for n, t in enumerate(spike)]
    acs500 = [T0 + s + 2 for s in range(20 * 60, 40 * 60, 97)]
    rows += [(t, {"vendor": "acs", "code": 500, "subcode": 12345}) for t in acs500]
    new = [T0 + s + 3 for s in range(30 * 60, 31 * 60, 20)]
    rows += [(t, {"vendor": "livekit", "code": "SOMETHING_NEW_42"}) for t in new]
    rows.append((T0 + 35 * 60 + 4, {"vendor": "acs", "code": HOSTILE_CODE, "call_id": HOSTILE_CALL,
                                    "message": "\x1b[2J\x1b]52;c;SGk=\x07 \u202eevil"}))
    rows.append((T0 + 36 * 60 + 5, {"vendor": "livekit", "code": None, "call_id": "no-reason-1"}))
    rows.sort(key=lambda r: r[0])
    with open(path, "w", encoding="utf-8") as f:
        for t, ev in rows:
            f.write(json.dumps({"ts": t, **ev}) + "\n")
        f.write("this line is not json\n")
    server = spike + acs500
    return {
        "events": len(rows),
        "lines": len(rows) + 1,
        "spike": spike,
        "server": server,
        "new": new,
        "abnormal_per_minute": Counter(int(t // 60 * 60) for t in server),
        "unknown": len(new) + 1,
    }


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def collect(path: Path, **options) -> ReportCollector:
    """Feed a capture through the real pipeline into a collector (what `callwatch report` does)."""
    collector = ReportCollector(**options)
    pipeline = Pipeline(load_catalogs(), collector)
    for raw in iter_capture(path):
        pipeline.feed(raw)
    return collector


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("report") / "incident.jsonl"
    return path, write_capture(path)


# ------------------------------------------------------------------------------ agreement with summary

SUMMARY_KEYS = ("received", "messages", "events", "invalid", "unknown", "no_reason")


def _captures() -> list:
    out = [pytest.param("generated", id="generated")]
    out.append(pytest.param("demo", id="demo", marks=pytest.mark.skipif(
        not DEMO.exists(), reason="fixtures/demo.jsonl is not in this checkout")))
    return out


@pytest.mark.parametrize("which", _captures())
def test_report_counts_equal_summary(which, capture):
    """Both CLIs on the same capture: the same totals, the same per-reason counts, the same groups."""
    path = capture[0] if which == "generated" else DEMO
    summary = json.loads(cli("summary", str(path), "--json").stdout)
    report = json.loads(cli("report", str(path), "--json").stdout)
    assert {k: report[k] for k in SUMMARY_KEYS} == {k: summary[k] for k in SUMMARY_KEYS}
    assert report["distinct_reasons"] == summary["distinct_reasons"]
    keys = list(summary["reasons"][0])
    assert [{k: r[k] for k in keys} for r in report["reasons"]] == summary["reasons"]
    for group in ("by_outcome", "by_vendor", "by_category", "by_source", "invalid_by_cause"):
        assert report[group] == summary[group], group
    # And the Markdown says the same numbers.
    text = cli("report", str(path)).stdout
    assert f"**{summary['events']:,} call ends" in text
    top = summary["reasons"][0]
    assert re.search(rf"\| 1 \| {top['count']:,} \| .*\| {re.escape(md(top['label']))} \|", text)


def test_report_from_a_live_feed_equals_the_file(capture, tmp_path):
    """`report ws://...`: the same source served by `callwatch serve`, read until the element count."""
    path, known = capture
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "tui", "serve", str(path), "--port", "0", "--speed", "max"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        url = re.search(r"ws://\S+", server.stdout.readline()).group(0)
        summary = json.loads(cli("summary", str(path), "--json").stdout)
        live = json.loads(cli("report", url, "--count", str(summary["received"]), "--duration", "60",
                              "--json").stdout)
    finally:
        server.terminate()
        server.wait(10)
    assert {k: live[k] for k in ("events", "invalid", "unknown", "no_reason")} == \
        {k: summary[k] for k in ("events", "invalid", "unknown", "no_reason")}
    assert live["by_outcome"] == summary["by_outcome"]
    assert live["source"].startswith("ws://127.0.0.1:")


# ------------------------------------------------------------------------------ content


def test_spikes_first_seen_and_timeline(capture):
    path, known = capture
    report = build_report(collect(path), title="t", source_name=str(path))
    assert report.counts["events"] == known["events"]
    assert report.counts["abnormal"] == len(known["server"])
    assert report.counts["unknown"] == known["unknown"]
    spikes = [f for f in report.flags if f.kind == "spike"]
    assert [(f.vendor, f.label) for f in spikes] == [("planetkit", "SERVER_INTERNAL_ERROR")]
    spike = spikes[0]
    assert known["spike"][0] <= spike.started < known["spike"][0] + 60
    assert spike.peak >= 20 and spike.ended is not None and spike.ended <= known["spike"][-1] + 120
    assert spike.peak_at is not None and T0 + 25 * 60 <= spike.peak_at < T0 + 28 * 60
    first_seen = {f.label for f in report.flags if f.kind == "first_seen"}
    assert {"INFRASTRUCTURE_ERROR_500", "SERVER_INTERNAL_ERROR", "? SOMETHING_NEW_42"} <= first_seen
    # Per-minute timeline: abnormal counts exactly as constructed, every minute from 10:00 to 10:39.
    assert [p.start for p in report.timeline] == [float(T0 + 60 * m) for m in range(40)]
    assert {int(p.start): p.abnormal for p in report.timeline if p.abnormal} == dict(known["abnormal_per_minute"])
    assert sum(p.events for p in report.timeline) == known["events"]
    assert sum(p.unknown for p in report.timeline) == known["unknown"]
    assert report.start == T0 and report.end == T0 + 40 * 60 - 6
    # The top reason descriptions: the spike reason is described with advice and equivalents.
    detail = next(r for r in report.details if r.label == "SERVER_INTERNAL_ERROR")
    assert detail.count == len(known["spike"]) and detail.advice and detail.equivalents
    assert all(e.vendor != "planetkit" for e in detail.equivalents)
    assert detail.first_seen == known["spike"][0]


def test_timeline_buckets_cover_the_span(capture):
    report = build_report(collect(capture[0]))
    width, points = timeline_buckets(report, 10)
    assert width == 300 and len(points) == 8  # 40 minutes in 5-minute buckets
    assert sum(p.events for p in points) == report.counts["events"]
    fine_width, fine = timeline_buckets(report, 500, min_step_s=10)
    assert fine_width == 10 and sum(p.abnormal for p in fine) == report.counts["abnormal"]


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-07-14T10:25:00Z", T0 + 1500),
    ("2025-07-14 10:25", T0 + 1500),
    ("2025-07-14T12:25:00+02:00", T0 + 1500),
    (str(T0 + 1500), T0 + 1500),
    (str((T0 + 1500) * 1000), T0 + 1500),
    ("+25m", RelativeTime(offset=1500.0, text="+25m")),
    ("+1h30m", RelativeTime(offset=5400.0, text="+1h30m")),
    ("+90", RelativeTime(offset=90.0, text="+90")),
    ("10:25", RelativeTime(time_of_day=37500.0, text="10:25")),
    ("10:25:30", RelativeTime(time_of_day=37530.0, text="10:25:30")),
])
def test_parse_time(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "+", "+5x", "25:00", "10:61", "+-5m", "2025-13-01"])
def test_parse_time_rejects(text):
    with pytest.raises(ValueError):
        parse_time(text)


@pytest.mark.parametrize(("start", "end"), [
    (T0 + 1500, T0 + 1680),                     # absolute
    (parse_time("+25m"), parse_time("+28m")),  # after the first event
    (parse_time("10:25"), parse_time("10:28")),  # time of day, on the first event's day
])
def test_window_counts_only_events_inside(capture, start, end):
    path, known = capture
    collector = collect(path, window=(start, end))
    report = build_report(collector)
    inside = [t for t in known["spike"] + known["server"] if T0 + 1500 <= t < T0 + 1680]
    assert report.window == (T0 + 1500, T0 + 1680)
    assert report.counts["abnormal"] == len(set(inside))
    assert report.counts["events"] + report.counts["skipped"] == known["events"]
    assert all(T0 + 1500 <= p.start < T0 + 1680 for p in report.timeline)
    assert report.start is not None and report.start >= T0 + 1500
    assert any("invalid elements carry no event time" in n for n in report.notes)


def test_cli_window_and_summary_of_the_same_lines_agree(capture, tmp_path):
    """--from/--to equal a summary of a capture holding only those events."""
    path, _ = capture
    cut = tmp_path / "cut.jsonl"
    lines = [ln for ln in path.read_text().splitlines() if ln.startswith("{")]
    cut.write_text("\n".join(ln for ln in lines if T0 + 1200 <= json.loads(ln)["ts"] < T0 + 1800) + "\n")
    windowed = json.loads(cli("report", str(path), "--from", "2025-07-14T10:20:00Z", "--to", "+30m", "--json").stdout)
    summary = json.loads(cli("summary", str(cut), "--json").stdout)
    assert windowed["events"] == summary["events"]
    assert windowed["by_outcome"] == summary["by_outcome"]
    assert [(r["label"], r["count"]) for r in windowed["reasons"]] == \
        [(r["label"], r["count"]) for r in summary["reasons"]]


def test_dashboard_aggregate_without_filter_is_exact(capture):
    """The app's path: a plain Aggregate (bounded recent events) gives the same counts and flags."""
    path, known = capture
    aggregate = Aggregate(recent_limit=50)
    pipeline = Pipeline(load_catalogs(), aggregate)
    for raw in iter_capture(path):
        pipeline.feed(raw)
    from_dashboard = build_report(aggregate)
    from_collector = build_report(collect(path))
    assert from_dashboard.counts == from_collector.counts
    assert from_dashboard.reasons == from_collector.reasons
    assert [(f.kind, f.label, f.started) for f in from_dashboard.flags] == \
        [(f.kind, f.label, f.started) for f in from_collector.flags]
    # The timeline comes from the aggregate's per-second buckets (its last hour): the same minutes.
    assert [(p.start, p.events, p.abnormal) for p in from_dashboard.timeline] == \
        [(p.start, p.events, p.abnormal) for p in from_collector.timeline]
    spike = next(f for f in from_dashboard.flags if f.kind == "spike")
    assert T0 + 25 * 60 <= (spike.peak_at or 0) < T0 + 28 * 60


def test_dashboard_aggregate_with_filter_and_window(capture):
    path, known = capture
    aggregate = Aggregate()
    pipeline = Pipeline(load_catalogs(), aggregate)
    for raw in iter_capture(path):
        pipeline.feed(raw)
    flt = parse_filter("vendor:planetkit outcome:unexpected_server_error")
    report = build_report(aggregate, filter=flt)
    assert report.counts["events"] == len(known["spike"]) and report.counts["abnormal"] == len(known["spike"])
    assert report.filter_text == flt.describe()
    assert report.notes == ()  # the aggregate still holds every event: nothing left out
    windowed = build_report(aggregate, window=(T0 + 1200, T0 + 1500))
    assert windowed.counts["events"] == sum(1 for t in range(0, 2400, 6) if 1200 <= t < 1500) + \
        sum(1 for t in known["server"] if T0 + 1200 <= t < T0 + 1500)
    # When the dashboard kept fewer events than it counted, the report says so.
    small = Aggregate(recent_limit=100)
    pipeline = Pipeline(load_catalogs(), small)
    for raw in iter_capture(path):
        pipeline.feed(raw)
    partial = build_report(small, filter=flt)
    assert any("100 most recent events" in n for n in partial.notes)


@pytest.mark.parametrize("seconds", [60, 300, 900])
def test_rolling_window_equals_the_dashboards_window_count(capture, seconds):
    """Exporting "the current window" from the dashboard counts what its window column shows."""
    path, _ = capture
    aggregate = Aggregate()
    pipeline = Pipeline(load_catalogs(), aggregate)
    for raw in iter_capture(path):
        pipeline.feed(raw)
    figure = next(f for f in aggregate.window_figures() if f.seconds == seconds)
    report = build_report(aggregate, window=rolling_window(seconds, aggregate.head))
    assert report.counts["events"] == figure.count
    assert report.notes == ()
    per_reason = {(r.vendor, r.label): r.windows[aggregate.windows.index(seconds)]
                  for r in aggregate.drain().reasons}
    assert {(r["vendor"], r["label"]): r["count"] for r in report.reasons} == \
        {k: v for k, v in per_reason.items() if v}
    assert rolling_window(None, aggregate.head) is None and rolling_window(60, None) is None


def test_write_report_never_overwrites(capture, tmp_path):
    report = build_report(collect(capture[0]), generated=1_800_000_000.0)
    first = write_report(report, tmp_path / "out", "html")
    second = write_report(report, tmp_path / "out", "html")
    md_path = write_report(report, tmp_path / "out", "markdown", stem="../../etc/passwd")
    assert first.name == "callwatch-report-20270115-080000.html"
    assert second.name == "callwatch-report-20270115-080000-2.html"
    assert md_path.parent == tmp_path / "out" and md_path.suffix == ".md"
    assert first.read_text().startswith("<!DOCTYPE html>") and md_path.read_text().startswith("# Incident")
    with pytest.raises(ValueError):
        write_report(report, tmp_path, "pdf")


def test_an_empty_or_broken_filter_is_no_filter(capture):
    path, _ = capture
    aggregate = Aggregate()
    pipeline = Pipeline(load_catalogs(), aggregate)
    for raw in iter_capture(path):
        pipeline.feed(raw)
    full = build_report(aggregate)
    assert build_report(aggregate, filter=parse_filter("")).counts == full.counts
    broken = parse_filter("nosuchfield:x")
    assert broken.error and build_report(aggregate, filter=broken).counts == full.counts


def test_events_iterable_source(capture):
    path, known = capture
    aggregate = Aggregate()
    pipeline = Pipeline(load_catalogs(), aggregate)
    for raw in iter_capture(path):
        pipeline.feed(raw)
    report = build_report(list(aggregate.recent), filter=lambda e: e.vendor == "acs")
    assert report.counts["events"] == sum(1 for e in aggregate.recent if e.vendor == "acs")
    assert dict(report.by_vendor) == {"acs": report.counts["events"]}


# ------------------------------------------------------------------------------ bookmarks and samples


def test_bookmarks_appear_with_their_events(capture, tmp_path):
    path, known = capture
    aggregate = Aggregate()
    pipeline = Pipeline(load_catalogs(), aggregate)
    for raw in iter_capture(path):
        pipeline.feed(raw)
    target = next(e for e in aggregate.recent if e.call_id == "spike-7")
    copy = tmp_path / "incident.jsonl"
    copy.write_bytes(path.read_bytes())
    store = BookmarkStore(bookmarks_path(copy))
    store.add(target, "pager went off | <b>here</b>")
    store.save()
    out = cli("report", str(copy)).stdout
    section = out.split("## Bookmarks", 1)[1].split("## Sample events", 1)[0]
    assert "pager went off \\| \\<b\\>here\\</b\\>" in section
    assert f"| {target.seq} |" in section
    samples = out.split("## Sample events", 1)[1]
    assert f"**line {target.seq}**" in samples and "bookmarked" in samples
    as_json = json.loads(cli("report", str(copy), "--json").stdout)
    assert [b["note"] for b in as_json["bookmarks"]] == ["pager went off | <b>here</b>"]
    assert as_json["samples"][0]["seq"] == target.seq and as_json["samples"][0]["bookmarked"]
    assert not json.loads(cli("report", str(copy), "--json", "--no-bookmarks").stdout)["bookmarks"]
    # A bookmark outside the window is left out.
    windowed = json.loads(cli("report", str(copy), "--json", "--to", "10:20").stdout)
    assert windowed["bookmarks"] == []


def test_corrupt_bookmark_file_is_reported_not_fatal(capture, tmp_path):
    path, _ = capture
    copy = tmp_path / "c.jsonl"
    copy.write_bytes(path.read_bytes())
    (tmp_path / "c.jsonl.bookmarks.json").write_text("{broken")
    result = cli("report", str(copy))
    assert "corrupt bookmark file" in result.stderr and "## Bookmarks\n\nNone." in result.stdout


def test_mask_hides_identifiers_in_samples(capture):
    path, _ = capture
    collector = collect(path)
    masker = Masker(b"fixed-key")
    report = build_report(collector, mask=masker.mask_event, samples=50)
    assert report.masked
    rendered = render_markdown(report) + render_json(report)
    assert "call-00000" not in rendered and "spike-0" not in rendered and HOSTILE_CALL not in rendered
    assert masker.call_id("spike-0") in rendered
    # The CLI flag does the same with a random per-report key.
    out = cli("report", str(path), "--mask", "--samples", "50").stdout
    assert "spike-0" not in out and "call-00000" not in out


# ------------------------------------------------------------------------------ hostile text


def _table_rows(text: str, header: str) -> list[list[str]]:
    """The cells of the Markdown table under `header`, split on unescaped pipes."""
    block = text.split(header, 1)[1].split("\n\n", 2)[1]
    rows = []
    for line in block.splitlines():
        cells = re.split(r"(?<!\\)\|", line)[1:-1]
        rows.append(cells)
    return rows


def test_markdown_is_inert_and_tables_stay_intact(capture):
    path, _ = capture
    report = build_report(collect(path), top=30, samples=50, source_name="x|<y>")
    text = render_markdown(report)
    # No raw HTML or link syntax from the feed reaches the Markdown outside code blocks.
    prose = re.sub(r"(?ms)^(`{3,})[^\n]*\n.*?^\1$", "", text)
    assert not re.search(r"(?<!\\)<(img|script)", prose), "unescaped HTML from the feed"
    assert not re.search(r"(?<!\\)\]\(", prose), "link syntax from the feed"
    assert "\x1b" not in text and "\u202e" not in text
    for header in ("## Top reasons", "### By outcome", "## Spikes and first-seen reasons"):
        rows = _table_rows(text, header)
        assert len({len(r) for r in rows}) == 1, (header, rows)
    # The hostile code is still there, readable, escaped.
    assert md("? " + HOSTILE_CODE) in text


def test_json_output_is_complete(capture):
    path, known = capture
    doc = json.loads(render_json(build_report(collect(path), title="T")))
    assert doc["callwatch_report"] == 1 and doc["title"] == "T"
    assert doc["events"] == known["events"] and doc["abnormal"] == len(known["server"])
    assert sum(p["abnormal"] for p in doc["timeline"]) == len(known["server"])
    assert {f["kind"] for f in doc["flags"]} == {"spike", "first_seen"}
    assert doc["top"][0]["rank"] == 1 and doc["top"][0]["description"]


# ------------------------------------------------------------------------------ command line


def test_cli_output_file_and_format_inference(capture, tmp_path):
    path, _ = capture
    for name, marker in (("r.html", "<!DOCTYPE html>"), ("r.json", '"callwatch_report": 1'), ("r.md", "# Incident")):
        result = cli("report", str(path), "-o", str(tmp_path / name))
        assert result.stdout == "" and "wrote" in result.stderr
        assert marker in (tmp_path / name).read_text()
    cli("report", str(path), "--markdown", "-o", str(tmp_path / "forced.html"))
    assert (tmp_path / "forced.html").read_text().startswith("# Incident report")


@pytest.mark.parametrize(("args", "message"), [
    (["nope.jsonl"], "no such file"),
    (["{capture}", "--from", "soon"], "not a time"),
    (["{capture}", "--bookmarks", "missing.json"], "no such file"),
    (["{capture}", "-o", "/no/such/dir/r.md"], "cannot write"),
])
def test_cli_errors_exit_2(capture, args, message):
    args = [a.replace("{capture}", str(capture[0])) for a in args]
    result = cli("report", *args, check=False)
    assert result.returncode == 2 and message in result.stderr


def test_empty_capture(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    out = cli("report", str(empty)).stdout
    assert "No call ends in this window." in out and "No events." in out
    assert json.loads(cli("report", str(empty), "--json").stdout)["events"] == 0
