#!/usr/bin/env python3
"""The fault suite: proves, end to end and repeatably, that callwatch keeps working and loses nothing
while its feed misbehaves. Loopback only; every case is bounded in count and time.

    python benchmarks/soak.py                    # every case, soak for 10 minutes
    python benchmarks/soak.py --minutes 0.5      # the CI form (30-second soak)
    python benchmarks/soak.py --cases kill,flood --kill-every 5 --kills 4
    python benchmarks/soak.py --markdown out.md  # the table as Markdown too

Cases (the real dashboard, built by `create_app`, runs headless in `App.run_test`; the feeds are real
`callwatch serve` subprocesses unless said otherwise):

- soak:     a generated capture served at 5,000 events/s for --minutes; counts = sent (and the ids
            received form one run 1..N), RSS growth from the first minute (or third, if shorter) to
            the end, frames per second, the longest event-loop stall, key latency.
- kill:     the server SIGKILLed every --kill-every seconds and restarted on the same port, resuming
            at the first id the client has not received; the status shows every outage; the final
            count equals the sum of what the servers delivered (one run of ids 1..N).
- freeze:   the server SIGSTOPped: stale within the configured bound, dead peer detected by keepalive,
            live again after SIGCONT; the counts equal the frames of both connections.
- flood:    100,000 events in one second (1,000 frames of 100), then quiet: exact counts, key presses
            handled during the burst (latency reported), the recent table trimmed with the drop shown.
- poison:   oversized frames, non-UTF-8 and binary frames, 100,000-deep nesting, 5,000-digit numbers,
            markup/ANSI/OSC in every field, NaN, BOM, empty frames...: nothing crashes, each message is
            counted under its cause, nothing is rendered as markup or reaches the terminal as an escape
            sequence; then the real app under a pty (`python -m tui replay poison.jsonl`) and its byte
            stream searched for the injected sequences (plus a negative control that must find them).
- catalogs: a user catalog directory holding every YAML trap: each file refused with file and line,
            the bundled catalogs and a good user file keep working, the dashboard counts as before.

The table has one row per check: case, what was checked, the figure, and pass / FAIL / info (speed
figures are reported against a target, not asserted). Exit status 1 if any check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import signal
import sys
import tempfile
import time
import xml.dom.minidom
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.faults import captures as cap  # noqa: E402
from benchmarks.faults import harness  # noqa: E402
from benchmarks.faults.harness import (  # noqa: E402
    KeyProbe,
    RecordingSource,
    ServeProcess,
    build_app,
    rss_bytes,
    running,
    screen_text,
    shoot,
    unsafe_segments,
    wait_until,
    websocket_source,
)

MB = 1024 * 1024


# ------------------------------------------------------------------------------------------- the table


@dataclass
class Row:
    case: str
    check: str
    figure: str
    status: str
    """"pass", "FAIL" or "info" (a figure reported, not asserted)."""


class Recorder:
    """Collects the rows of one case."""

    def __init__(self, case: str) -> None:
        self.case = case
        self.rows: list[Row] = []

    def check(self, what: str, ok: bool, figure: object = "") -> bool:
        self.rows.append(Row(self.case, what, str(figure), "pass" if ok else "FAIL"))
        return ok

    def info(self, what: str, figure: object, target: str = "", met: bool | None = None) -> None:
        text = str(figure)
        if target:
            text += f" (target {target}: {'met' if met else 'missed'})"
        self.rows.append(Row(self.case, what, text, "info"))


def render_table(rows: list[Row], markdown: bool = False) -> str:
    head = ("case", "what was checked", "figure", "result")
    cells = [head] + [(r.case, r.check, r.figure, r.status) for r in rows]
    if markdown:
        def esc(s: str) -> str:
            return s.replace("|", "\\|")
        lines = ["| " + " | ".join(head) + " |", "|---|---|---|---|"]
        lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in cells[1:]]
        return "\n".join(lines)
    widths = [min(max(len(c[i]) for c in cells), limit) for i, limit in enumerate((9, 70, 60, 6))]
    def fmt(row: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) if len(c) <= w else c for c, w in zip(row, widths))
    return "\n".join([fmt(head), "  ".join("-" * w for w in widths)] + [fmt(c) for c in cells[1:]])


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.0f} ms"


def secs(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f} s"


def counts_of(app) -> dict[str, int]:  # noqa: ANN001
    t = app.aggregate.totals()
    return {"messages": t.messages, "events": t.events, "invalid": t.invalid, "unknown": t.unknown,
            "no_reason": t.no_reason}


def check_counts(rec: Recorder, app, exp: cap.Expected, sent_label: str) -> None:  # noqa: ANN001
    """Every counter the status bar shows equals what was written, and the status bar shows it."""
    got = counts_of(app)
    want = {"messages": exp.messages, "events": exp.events, "invalid": sum(exp.invalid.values()),
            "unknown": exp.unknown, "no_reason": exp.no_reason}
    rec.check(f"messages counted = {sent_label}", got["messages"] == want["messages"],
              f"{got['messages']:,} of {want['messages']:,}")
    rec.check("events / invalid / unknown / no-reason counts exact",
              all(got[k] == want[k] for k in ("events", "invalid", "unknown", "no_reason")),
              " ".join(f"{k}={got[k]:,}" + ("" if got[k] == want[k] else f"(want {want[k]:,})")
                       for k in ("events", "invalid", "unknown", "no_reason")))
    by_cause = {r.name: r.count for r in app.aggregate.drain().invalid_by_cause} if want["invalid"] else {}
    if want["invalid"]:
        rec.check("invalid counted under their cause", by_cause == dict(exp.invalid), by_cause)
    app.refresh_view()
    view = app.status_bar.view
    shown = view.totals if view is not None else None
    rec.check("status bar shows the same totals",
              shown is not None and shown.events == want["events"] and shown.invalid == want["invalid"],
              f"events {shown.events:,}, invalid {shown.invalid:,}" if shown else "no status")


def check_runs(rec: Recorder, source: RecordingSource, want: list[tuple[int, int]], what: str) -> None:
    runs = source.seen.as_tuples()
    shown = ", ".join(f"{a:,}..{b:,}" for a, b in runs[:6]) + (" ..." if len(runs) > 6 else "")
    rec.check(what, runs == want and not source.seen.overflow, f"ids {shown or 'none'}")


# ------------------------------------------------------------------------------------------------ soak


async def case_soak(work: Path, seconds: float = 600.0, rate: int = 5000,
                    progress: Callable[[str], None] | None = None) -> list[Row]:
    """`callwatch serve` at `rate` events/s for `seconds`, the dashboard connected headless."""
    rec = Recorder("soak")
    n = int(seconds * rate)
    invalid_every = 1000
    capture = work / "soak.jsonl.gz"
    t = time.perf_counter()
    cap.write_lines(capture, cap.stream_lines(1, n, rate, time.time() + 2.0, invalid_every))
    exp = cap.expected_for(1, n, invalid_every)
    if progress:
        progress(f"soak: {n:,} lines written in {time.perf_counter() - t:.1f} s; serving at {rate:,}/s "
                 f"for {seconds:g} s")
    server = ServeProcess(capture, log=work / "serve-soak.log")
    port = await server.start()
    source = RecordingSource(websocket_source(f"ws://127.0.0.1:{port}", stale_after=5.0))
    app = build_app(source)
    baseline_after = min(60.0, seconds / 3)
    try:
        async with running(app) as (pilot, monitor, frames, status):
            probe = KeyProbe(app, "w", "cycle_window")
            await wait_until(lambda: source.first_frame is not None, 20)
            start = time.monotonic()
            monitor.reset()
            frames0, ticks0 = frames.frames, app.ticks
            rss_base: int | None = None
            rss_peak = 0
            next_key = start + 5.0
            next_note = start + 60.0
            deadline = start + seconds * 1.5 + 30
            while source.seen.total < n and time.monotonic() < deadline:
                await asyncio.sleep(0.25)
                now = time.monotonic()
                rss_peak = max(rss_peak, rss_bytes())
                if rss_base is None and now - start >= baseline_after:
                    rss_base = rss_bytes()
                if now >= next_key:
                    probe.press()
                    next_key = now + 5.0
                if progress and now >= next_note:
                    next_note = now + 60.0
                    progress(f"soak: {now - start:.0f} s, {source.seen.total:,}/{n:,} received, "
                             f"rss {rss_bytes() / MB:.1f} MB, max stall {ms(monitor.max_lag)}")
            elapsed = (source.last_frame or time.monotonic()) - start
            stall_max, stall_p99 = monitor.max_lag, monitor.percentile(0.99)
            monitor.mark()
            await wait_until(lambda: app.aggregate.messages >= n, 10)
            await asyncio.sleep(1.0)  # quiet: the panes held back during the stream catch up
            catch_up = monitor.window_max
            rss_end = rss_bytes()
            frames_n, ticks_n = frames.frames - frames0, app.ticks - ticks0
            wall = time.monotonic() - start
            await wait_until(lambda: probe.unanswered == 0, 5)
            check_counts(rec, app, exp, "lines the server sent")
            check_runs(rec, source, [(1, n)], "ids received: one run 1..N (nothing lost, repeated, reordered)")
            why = sorted({d for _, st, d in source.states if st == "reconnecting"})
            rec.check("connection stayed up (no outage)", source.status.outages == 0,
                      f"{source.status.outages} outages" + (f": {'; '.join(why)[:90]}" if why else ""))
            growth = (rss_end - rss_base) / MB if rss_base is not None else math.nan
            rec.check(f"RSS growth from {baseline_after:g} s to the end < 10 MB", growth < 10,
                      f"{growth:+.1f} MB ({rss_base / MB if rss_base else 0:.1f} -> {rss_end / MB:.1f} MB, "
                      f"peak {rss_peak / MB:.1f})")
            rec.info("events per second delivered", f"{n / elapsed:,.0f} over {elapsed:.0f} s",
                     f">= {rate * 0.95:,.0f}", n / elapsed >= rate * 0.95)
            rec.info("frames rendered per second (refresh ticks/s)",
                     f"{frames_n / wall:.1f} ({ticks_n / wall:.1f})", ">= 8", frames_n / wall >= 8)
            rec.info("longest event-loop stall while streaming (p99)", f"{ms(stall_max)} ({ms(stall_p99)})",
                     "< 250 ms", stall_max < 0.25)
            rec.info("longest stall in the quiet second after (panes catch up)", ms(catch_up), "< 250 ms",
                     catch_up < 0.25)
            lat = max(probe.latencies) if probe.latencies else None
            rec.check("key presses handled (w every 5 s)", probe.unanswered == 0 and bool(probe.latencies),
                      f"{len(probe.latencies)} of {len(probe.latencies) + probe.unanswered}")
            rec.info("slowest key press", ms(lat), "< 200 ms", lat is not None and lat < 0.2)
    finally:
        await server.stop()
    return rec.rows


# ------------------------------------------------------------------------------------------------ kill


async def case_kill(work: Path, kills: int = 3, every: float = 2.0, rate: int = 5000) -> list[Row]:
    """SIGKILL the server every `every` seconds, restart it on the same port resuming the timeline."""
    rec = Recorder("kill")
    n = int(rate * every * (kills + 1))
    lines = list(cap.stream_lines(1, n, rate, time.time() + 1.0))
    exp = cap.expected_for(1, n)
    first = work / "kill-0.jsonl"
    cap.write_lines(first, lines)
    server = ServeProcess(first, log=work / "serve-kill.log")
    port = await server.start()
    source = RecordingSource(websocket_source(f"ws://127.0.0.1:{port}", stale_after=30.0))
    app = build_app(source)
    resumed: list[int] = [1]
    detect: list[float | None] = []
    back: list[float | None] = []
    details: list[str] = []
    try:
        async with running(app) as (pilot, monitor, frames, status):
            await wait_until(lambda: source.first_frame is not None, 20)
            for k in range(kills):
                got = source.seen.total
                await asyncio.sleep(every)
                if source.seen.total <= got:
                    rec.check(f"kill {k + 1}: frames arriving before the kill", False, source.seen.total)
                t_kill = time.monotonic()
                await server.kill()
                await wait_until(lambda: status.first("reconnecting", t_kill) is not None, 10)
                shown = status.first("reconnecting", t_kill)
                detect.append(None if shown is None else shown - t_kill)
                details.append(next((d for t, s, d in source.states if t >= t_kill and s == "reconnecting"), ""))
                # The source reports "reconnecting" only after its connection's last frame was handed
                # to the app: every id it will ever receive from this server is in `seen` now.
                start_id = source.seen.last + 1
                resumed.append(start_id)
                tail = work / f"kill-{k + 1}.jsonl"
                cap.write_lines(tail, lines[start_id - 1:])
                server = ServeProcess(tail, port=port, log=work / "serve-kill.log")
                await server.start()
                t_up = time.monotonic()
                await wait_until(lambda: status.first("live", t_up) is not None, 15)
                live = status.first("live", t_up)
                back.append(None if live is None else live - t_up)
            await wait_until(lambda: source.seen.total >= n, every * 2 + 20)
            await wait_until(lambda: app.aggregate.messages >= n, 5)
            await asyncio.sleep(0.3)
            check_counts(rec, app, exp, "sum sent by the servers")
            check_runs(rec, source, [(1, n)], "ids: one run 1..N across all servers (no gap, no repeat)")
            rec.check("every outage shown (status 'reconnecting' after each kill)",
                      len(detect) == kills and all(d is not None for d in detect),
                      f"{sum(d is not None for d in detect)} of {kills}; shown after "
                      + ", ".join(ms(d) for d in detect))
            rec.check("the source reported why: connection lost without a close frame (1006)",
                      all("1006" in d or "connection lost" in d for d in details), details[0][:60] if details else "")
            rec.check("reconnected after every restart", len(back) == kills and all(b is not None for b in back),
                      "live again after " + ", ".join(secs(b) for b in back))
            on_screen = f"outages {kills}" in screen_text(app)
            rec.check("outages counted = kills, and the count stays on screen",
                      source.status.outages == kills and on_screen,
                      f"{source.status.outages} of {kills}, on screen: {on_screen}")
            rec.info("servers resumed at ids", ", ".join(f"{r:,}" for r in resumed))
            rec.info("longest event-loop stall", ms(monitor.max_lag), "< 250 ms", monitor.max_lag < 0.25)
    finally:
        await server.stop()
    return rec.rows


# ---------------------------------------------------------------------------------------------- freeze


async def case_freeze(work: Path, rate: int = 1000, seconds: float = 3.0, frozen: float = 3.0,
                      stale_after: float = 0.5, ping: float = 1.0) -> list[Row]:
    """SIGSTOP the server: stale within the bound, dead peer noticed, live again after SIGCONT."""
    rec = Recorder("freeze")
    n = int(rate * seconds)
    capture = cap.write_lines(work / "freeze.jsonl", cap.stream_lines(1, n, rate, time.time() + 1.0))
    server = ServeProcess(capture, log=work / "serve-freeze.log")
    port = await server.start()
    source = RecordingSource(websocket_source(
        f"ws://127.0.0.1:{port}", stale_after=stale_after, ping_interval=ping, ping_timeout=ping,
        close_timeout=0.5, open_timeout=1.0, backoff_initial=0.1, backoff_max=0.5))
    app = build_app(source)
    refresh = 1 / app.settings.refresh_hz
    bound = stale_after + min(1.0, stale_after / 4) + refresh
    try:
        async with running(app) as (pilot, monitor, frames, status):
            await wait_until(lambda: source.seen.total >= rate // 2, 20)
            t_stop = time.monotonic()
            server.signal(signal.SIGSTOP)
            await wait_until(lambda: status.first("stale", t_stop) is not None, bound + 5)
            t_stale = status.first("stale", t_stop)
            await wait_until(lambda: status.first("reconnecting", t_stop) is not None, 2 * ping + 5)
            t_dead = status.first("reconnecting", t_stop)
            dead_detail = next((d for t, s, d in status.changes if t == t_dead), "")
            k = source.seen.total
            await asyncio.sleep(max(0.0, t_stop + frozen - time.monotonic()))
            t_cont = time.monotonic()
            server.signal(signal.SIGCONT)
            await wait_until(lambda: status.first("live", t_cont) is not None, 10)
            t_live = status.first("live", t_cont)
            await wait_until(lambda: source.seen.last == n and len(source.seen.runs) >= 2, seconds * 2 + 10)
            await wait_until(lambda: app.aggregate.messages >= k + n, 5)
            await asyncio.sleep(0.3)
            stale_in = None if t_stale is None else t_stale - t_stop
            rec.check(f"'stale' shown within the bound ({bound:.2f} s + 1 s scheduling slack)",
                      stale_in is not None and stale_in <= bound + 1.0,
                      f"after {secs(stale_in)} (stale_after {stale_after:g} s)")
            dead_in = None if t_dead is None else t_dead - t_stop
            rec.check("dead peer detected by keepalive ('reconnecting')",
                      dead_in is not None and "keepalive" in dead_detail,
                      f"after {secs(dead_in)} (ping {ping:g}+{ping:g} s)")
            rec.check("live again after SIGCONT", t_live is not None,
                      f"after {secs(None if t_live is None else t_live - t_cont)}")
            check_runs(rec, source, [(1, k), (1, n)],
                       "ids: 1..k before the freeze, then the new connection's 1..N")
            exp = cap.expected_for(1, k)
            second = cap.expected_for(1, n)
            exp.messages += second.messages
            exp.events += second.events
            exp.unknown += second.unknown
            exp.no_reason += second.no_reason
            check_counts(rec, app, exp, "frames of both connections")
            rec.info("states shown", " > ".join(status.states()))
    finally:
        await server.stop()
    return rec.rows


# ----------------------------------------------------------------------------------------------- flood


async def case_flood(work: Path, n: int = 100_000, per_frame: int = 100, seconds: float = 1.0) -> list[Row]:
    """100,000 events in one second, then quiet."""
    rec = Recorder("flood")
    lines = cap.flood_lines(n, per_frame, seconds, time.time() + 1.0)
    capture = cap.write_lines(work / "flood.jsonl", lines)
    exp = cap.expected_for(1, n)
    exp.messages = len(lines)
    server = ServeProcess(capture, log=work / "serve-flood.log")
    port = await server.start()
    source = RecordingSource(websocket_source(f"ws://127.0.0.1:{port}", stale_after=30.0))
    app = build_app(source)
    ticks: list[float] = []
    try:
        async with running(app) as (pilot, monitor, frames, status):
            original_apply = app._apply

            def timed_apply(update):  # noqa: ANN001, ANN202
                t0 = time.perf_counter()
                original_apply(update)
                ticks.append(time.perf_counter() - t0)

            app._apply = timed_apply
            probe = KeyProbe(app, "w", "cycle_window")
            await wait_until(lambda: status.state == "live", 20)
            monitor.mark()
            t0 = time.monotonic()
            while source.seen.total < n and time.monotonic() - t0 < 60:
                probe.press()
                await asyncio.sleep(0.1)
            burst_wall = (source.last_frame or t0) - (source.first_frame or t0)
            presses_in_burst = len(probe.latencies) + probe.unanswered
            await wait_until(lambda: app.aggregate.messages >= len(lines), 10)
            burst_stall = monitor.window_max
            await wait_until(lambda: probe.unanswered == 0, 5)
            burst_lat = list(probe.latencies)
            monitor.mark()
            await asyncio.sleep(1.0)  # quiet: the backlog drains and the screen settles
            quiet_stall = monitor.window_max
            check_counts(rec, app, exp, "frames sent")
            check_runs(rec, source, [(1, n)], "ids: one run 1..100,000")
            rec.check("every key press during the burst handled; app alive",
                      probe.unanswered == 0 and app.is_running and presses_in_burst > 0,
                      f"{len(burst_lat)} of {presses_in_burst} presses")
            worst = max(burst_lat) if burst_lat else None
            rec.info("slowest key press during the burst", ms(worst), "< 200 ms", worst is not None and worst < 0.2)
            rec.info("burst delivered in", f"{burst_wall:.2f} s ({n / max(burst_wall, 1e-9):,.0f} events/s)")
            recent = app.recent
            totals = app.aggregate.totals()
            rec.check("recent table trimmed to its limit", recent.row_count == recent.limit,
                      f"{recent.row_count} rows (limit {recent.limit})")
            shown = screen_text(app)
            dropped = totals.dropped_from_display
            rec.check("display drops counted (counts unaffected)",
                      dropped > 0 and totals.events == n, f"{dropped:,} events not shown as rows")
            said = f"{dropped:,} not listed" in shown
            rec.check("the screen says how many rows were not listed", said,
                      f"'{dropped:,} not listed' in the table title" if said else "no mention on screen")
            rec.info("longest event-loop stall during the burst", ms(burst_stall), "< 200 ms", burst_stall < 0.2)
            rec.info("longest refresh tick (trim + redraw)", ms(max(ticks) if ticks else None), "< 100 ms",
                     bool(ticks) and max(ticks) < 0.1)
            rec.info("longest stall in the quiet second after", ms(quiet_stall), "< 100 ms", quiet_stall < 0.1)
    finally:
        await server.stop()
    return rec.rows


# ---------------------------------------------------------------------------------------------- poison


async def _poison_server(frames: list[str | bytes]) -> tuple[object, int]:
    """A websocket server (in process, loopback) sending `frames` to its first client, nothing to later
    ones: a feed that is itself broken (callwatch serve would re-send the capture on every reconnect)."""
    from websockets.asyncio.server import serve

    served = []

    async def handler(ws):  # noqa: ANN001, ANN202
        if not served:
            served.append(ws)
            for frame in frames:
                await ws.send(frame)
        await ws.wait_closed()

    server = await serve(handler, "127.0.0.1", 0, compression=None, max_size=None)
    return server, server.sockets[0].getsockname()[1]


async def case_poison(work: Path, pty: bool = True) -> list[Row]:
    """The poison mix over a websocket into the headless app; then the real app under a pty."""
    rec = Recorder("poison")
    items = cap.poison_corpus(time.time())
    want = cap.expected_poison(items)
    server, port = await _poison_server([item.frame for item in items])
    source = RecordingSource(websocket_source(f"ws://127.0.0.1:{port}", stale_after=30.0, backoff_initial=0.2))
    app = build_app(source)
    frames_delivered = len(items) - want["oversize"]
    try:
        async with running(app) as (pilot, monitor, frames, status):
            await wait_until(lambda: source.status.oversize >= want["oversize"]
                             and app.aggregate.messages >= frames_delivered, 30)
            await asyncio.sleep(0.5)
            app.refresh_view()
            await pilot.pause()
            totals = app.aggregate.totals()
            by_cause = Counter({r.name: r.count for r in app.aggregate.drain().invalid_by_cause})
            want_causes = Counter({k: v for k, v in want.items() if k not in ("events", "oversize")})
            rec.check("nothing crashed: app running, ingest worker alive",
                      app.is_running and app.ingest_error is None and app.return_code is None,
                      app.ingest_error or "running")
            rec.check("every frame received was counted once", totals.messages == frames_delivered,
                      f"{totals.messages} of {frames_delivered} frames")
            rec.check("events accepted (hostile text in every field, BOM, binary, 1 MB field)",
                      totals.events == want["events"], f"{totals.events} of {want['events']}")
            rec.check("each rejection counted under its cause", by_cause == want_causes,
                      ", ".join(f"{k} {v:,}" for k, v in sorted(by_cause.items())))
            reported = any("larger than max_size" in d for _, _, d in source.states)
            shown = f"too large {want['oversize']}" in screen_text(app)
            rec.check("oversized frame refused (1009), counted, and the count stays on screen",
                      source.status.oversize == want["oversize"] and reported and shown,
                      f"refused {source.status.oversize}, reason reported: {reported}, on screen: {shown}")
            problems: list[str] = []
            leaks: list[bytes] = []

            texts: list[str] = []

            def inspect(where: str) -> None:
                shot = shoot(app)
                problems.extend(f"{where}: {p}" for p in unsafe_segments(shot.strips))
                leaks.extend(s for s in cap.INJECTED if s in shot.terminal)
                texts.append(shot.text)

            inspect("dashboard")
            # Every event through the detail pane, the way an operator gets there: the cursor on its row.
            recent = app.recent
            rows = recent.row_count
            for index in range(rows):
                recent.move_cursor(row=index)
                await pilot.pause()
                inspect(f"detail of row {index}")
            recent.move_cursor(row=0)
            seen = "\n".join(texts)
            literals = [h for h in ("[bold red]SPOOF[/]", "[@click=app.quit]ACK[/]", "[ERROR] code=[42]",
                                    "[link=https://evil.example]LNK[/link]", "[$error]X") if h in seen]
            literal = len(literals) == 5
            await pilot.press("i")
            await pilot.pause()
            inspect("invalid messages")
            await pilot.press("ctrl+end")  # the newest: the hostile ones came last
            await pilot.pause()
            inspect("invalid messages, newest")
            invalid_text = texts[-1]
            older = "older not shown" in invalid_text
            await pilot.press("escape")
            await pilot.pause()
            rec.check("no click action, link or control character rendered from data",
                      not problems, problems[0][:80] if problems else f"{rows + 2} views scanned")
            rec.check("no injected escape sequence in the terminal output", not leaks,
                      repr(leaks[:2]) if leaks else f"{len(cap.INJECTED)} sequences searched")
            rec.check("markup shown literally (brackets and all)", literal, f"{len(literals)} of 5 payloads visible as typed")
            rec.check("invalid messages listed, escapes visible as text", "pwned" in invalid_text,
                      "'\\x1b]0;...pwned' shown escaped" if "pwned" in invalid_text else "not found")
            rec.check("the invalid list says how many older messages it no longer has", older,
                      "'older not shown' in its title" if older else "no mention")
            svg = app.export_screenshot()
            try:
                xml.dom.minidom.parseString(svg)
                svg_ok = True
            except Exception:  # noqa: BLE001
                svg_ok = False
            rec.check("screenshot SVG is well-formed XML (no raw control characters)", svg_ok, f"{len(svg):,} chars")
            rec.check("injected [@click=app.quit] did not quit the app", app.is_running and app.return_code is None,
                      "running")
            rec.info("longest event-loop stall", ms(monitor.max_lag), "< 250 ms", monitor.max_lag < 0.25)
    finally:
        server.close()  # type: ignore[attr-defined]
    if pty:
        rec.rows += pty_poison(work, items)
    return rec.rows


def pty_poison(work: Path, items: list[cap.Poison] | None = None, control: bool = True) -> list[Row]:
    """The real app (`python -m tui replay poison.jsonl`) under a pty: no injected sequence in its output."""
    from benchmarks.faults.pty_run import control_app_output, run_replay_under_pty

    rec = Recorder("poison")
    items = items if items is not None else cap.poison_corpus(time.time())
    lines = [item.line for item in items if item.line is not None]
    capture = cap.write_lines(work / "poison.jsonl", lines)
    result = run_replay_under_pty(capture, work)
    leaks = [s for s in cap.INJECTED if s in result.output]
    visible = [m for m in cap.VISIBLE_MARKERS if m in result.output]
    rec.check("pty: the app ran, showed the hostile text escaped, quit on 'q'",
              result.exit_code == 0 and len(visible) == len(cap.VISIBLE_MARKERS),
              f"exit {result.exit_code}, {len(result.output):,} bytes, markers {len(visible)}/"
              f"{len(cap.VISIBLE_MARKERS)}")
    rec.check("pty: none of the injected sequences in the terminal byte stream", not leaks,
              repr(leaks[:3]) if leaks else f"{len(cap.INJECTED)} sequences searched")
    if control:
        out = control_app_output(work)
        found = [s for s in cap.INJECTED[:5] if s in out]
        rec.check("pty negative control: an unsanitized widget does leak them", len(found) == 5,
                  f"{len(found)} of 5 found")
    return rec.rows


# -------------------------------------------------------------------------------------------- catalogs


async def case_catalogs(work: Path) -> list[Row]:
    """Every YAML trap in a user catalog directory: refused with file and line; the rest keeps working."""
    from tui.domain.catalog import build_catalogs
    from tui.feeds import Feed, capture_factory
    from tui.ingest.replay import Replay
    from tui.domain.decode import event_time

    rec = Recorder("catalogs")
    folder = work / "user-catalogs"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    traps = cap.catalog_traps()
    for name, content, _line, _words in traps:
        (folder / name).write_bytes(content)
    (folder / "good.yaml").write_text(cap.GOOD_USER_CATALOG)
    catalogs = build_catalogs([folder])
    bundled = build_catalogs([])
    errors = catalogs.errors
    for name, _content, line, words in traps:
        mine = [e for e in errors if f"/{name}" in e]
        where = f"{name}:{line}" if line is not None else name
        ok = len(mine) == 1 and where in mine[0] and words in mine[0]
        rec.check(f"{name} refused with file{' and line' if line else ''}", ok,
                  (mine[0].split(str(folder) + "/", 1)[-1][:70] if mine else "not reported"))
    rec.check("nothing else reported", len(errors) == len(traps), f"{len(errors)} errors")
    same = all(catalogs.lookup(v, e.code, e.subcode, e.namespace).entry == bundled.lookup(v, e.code, e.subcode,
                                                                                          e.namespace).entry
               for v in bundled.vendors for e in bundled.entries(v) if not (v == "planetkit" and e.code == "9001"))
    total = sum(len(bundled.entries(v)) for v in bundled.vendors)
    rec.check("bundled catalogs unaffected (every bundled entry resolves as without user files)", same,
              f"{total} entries")
    rec.check("the good user file next to them is loaded", catalogs.lookup("planetkit", "9001").name == "FAULT_SUITE_OK",
              catalogs.lookup("planetkit", "9001").name)
    # The dashboard on these catalogs: counts as always, errors shown as plain text.
    n = 200
    capture = cap.write_lines(work / "catalogs.jsonl", cap.stream_lines(1, n, 100.0, time.time()))
    factory = capture_factory(str(capture))
    replay = Replay(factory, event_time, speed=math.inf, origin=capture.name)
    from tui.app import create_app
    from tui.settings import Settings

    app = create_app(Settings(command="replay"), feed=Feed("replay", replay, replay, factory), catalogs=catalogs,
                     clock=time.time)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.refresh_view()
        await pilot.pause()
        exp = cap.expected_for(1, n)
        t = app.aggregate.totals()
        rec.check("dashboard counts with the broken directory present",
                  (t.events, t.unknown, t.no_reason) == (exp.events, exp.unknown, exp.no_reason),
                  f"events {t.events}, unknown {t.unknown}, no reason {t.no_reason}")
        notes = [n.message for n in app._notifications]
        problems = unsafe_segments(app)
        rec.check("catalog errors notified as plain text", any("catalog rejected" in m for m in notes) and not problems,
                  f"{len(notes)} notifications" + (f"; {problems[0][:50]}" if problems else ""))
    return rec.rows


# ----------------------------------------------------------------------------------------------- driver

CASES: dict[str, Callable[..., Awaitable[list[Row]]]] = {
    "soak": case_soak, "kill": case_kill, "freeze": case_freeze, "flood": case_flood,
    "poison": case_poison, "catalogs": case_catalogs,
}


async def run_case(name: str, work: Path, args: argparse.Namespace, progress: Callable[[str], None]) -> list[Row]:
    if name == "soak":
        return await case_soak(work, seconds=args.minutes * 60, rate=args.rate, progress=progress)
    if name == "kill":
        return await case_kill(work, kills=args.kills, every=args.kill_every, rate=args.rate)
    return await CASES[name](work)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="soak length (default 10; CI: 0.5)")
    parser.add_argument("--rate", type=int, default=5000, help="soak and kill event rate (default 5000/s)")
    parser.add_argument("--kills", type=int, default=4, help="SIGKILLs in the kill case (default 4)")
    parser.add_argument("--kill-every", type=float, default=5.0, help="seconds between kills (default 5)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}")
    parser.add_argument("--workdir", type=Path, help="keep captures and server logs here (default: a temp dir)")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown to this file")
    parser.add_argument("--no-tune-gc", action="store_true",
                        help="leave the garbage collector as tests do (default: tuned, as the CLI runs the app)")
    args = parser.parse_args(argv)
    names = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in names if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    harness.TUNE_GC = not args.no_tune_gc  # as `callwatch live` runs (one app per process)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="callwatch-faults-"))
    work.mkdir(parents=True, exist_ok=True)

    def progress(text: str) -> None:
        print(f"  … {text}", file=sys.stderr, flush=True)

    rows: list[Row] = []
    started = time.monotonic()
    try:
        for name in names:
            t = time.monotonic()
            print(f"case {name} …", file=sys.stderr, flush=True)
            try:
                got = asyncio.run(run_case(name, work, args, progress))
            except Exception as exc:  # noqa: BLE001 - a crashed case is a failed check, not a lost table
                got = [Row(name, "case ran to the end", f"{type(exc).__name__}: {exc}"[:120], "FAIL")]
            rows += got
            print(f"case {name}: {time.monotonic() - t:.1f} s, "
                  f"{sum(r.status == 'FAIL' for r in got)} failed", file=sys.stderr, flush=True)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(render_table(rows))
    failed = sum(r.status == "FAIL" for r in rows)
    print(f"\n{len(rows)} checks, {failed} failed, {time.monotonic() - started:.0f} s "
          f"(python {sys.version.split()[0]}, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f})")
    if args.markdown:
        args.markdown.write_text(render_table(rows, markdown=True) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
