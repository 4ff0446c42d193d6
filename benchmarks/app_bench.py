"""Headless dashboard benchmark: a generated capture replayed at max speed through the real app.

    PYTHONPATH=. python benchmarks/app_bench.py [--events 1000000] [--rounds 3] [--size 160x50]

Each round runs, in the same process and interleaved:

* the bare loop: read the same file line by line, `orjson.loads`, count by (vendor, code, subcode);
* the app: `create_app(replay CAPTURE --speed max)` under `App.run_test(size=...)`, from the ingest worker's
  start to the end of the capture (file read, decode, catalog lookup, aggregate, 10 Hz drain into the
  tables), with the screen really composed: every compositor update is also encoded to terminal bytes
  (`CompositorUpdate.render_segments`, the step headless mode skips), as performance-notes.md §4 did.

* the domain pipeline alone (capture reader + `Pipeline.feed` into an `Aggregate`, no UI): the ceiling
  any front end has, since the app runs exactly this in its ingest worker.

Reported per round and as medians: events/s of each and the app's share of the bare loop and of the
pipeline alone, refresh ticks/s
(the timer's drains applied), repaints/s (compositor updates) and the longest gap between repaints,
including the gaps from the start and to the end. Targets (performance-notes.md §4, the issue): >= 30 %
of the bare loop, >= 10 repaints/s, no gap > 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual._compositor import CompositorUpdate  # noqa: E402

from tui.app import create_app  # noqa: E402
from tui.domain.catalog import load_catalogs  # noqa: E402
from tui.settings import Settings  # noqa: E402

START = 1752489600.0


def generate(path: Path, n: int, seed: int = 7) -> None:
    """`n` envelope events: ~90 catalogued reasons of the four vendors (skewed: a few dominate), 4 %
    unknown codes, 2 % without a reason, 0.1 % bad lines; 1,000 events per second of event time."""
    rng = random.Random(seed)
    catalogs = load_catalogs()
    entries = []
    for vendor in catalogs.vendors:
        vendor_entries = [e for e in catalogs.entries(vendor) if not e.code.endswith("xx")]
        entries += rng.sample(vendor_entries, min(22, len(vendor_entries)))
    weights = [1.0 / (i + 1) for i in range(len(entries))]
    picks = rng.choices(range(len(entries)), weights, k=n)
    with open(path, "wb") as out:
        for i in range(n):
            ts = round(START + i / 1000.0, 3)
            r = rng.random()
            if r < 0.001:
                out.write(b"{broken json\n")
                continue
            obj: dict[str, object] = {"ts": ts, "call_id": f"c{i:08x}"}
            if r < 0.041:
                obj.update(vendor="planetkit", code=str(9000 + i % 50))
            elif r < 0.061:
                obj.update(vendor="jssip")
            else:
                e = entries[picks[i]]
                obj.update(vendor=e.vendor, code=e.code, namespace=e.namespace)
                if e.subcode is not None:
                    obj["subcode"] = e.subcode
            out.write(orjson.dumps(obj) + b"\n")


def bare_loop(path: Path) -> tuple[float, float, int]:
    """(wall s, cpu s, lines) of the minimal parse-and-count loop over the file."""
    counts: dict[tuple[object, object, object], int] = {}
    bad = 0
    lines = 0
    loads = orjson.loads
    t0, c0 = time.perf_counter(), time.process_time()
    with open(path, "rb") as f:
        for line in f:
            lines += 1
            try:
                obj = loads(line)
            except orjson.JSONDecodeError:
                bad += 1
                continue
            key = (obj.get("vendor"), obj.get("code"), obj.get("subcode"))
            counts[key] = counts.get(key, 0) + 1
    return time.perf_counter() - t0, time.process_time() - c0, lines


def pipeline_loop(path: Path) -> float:
    """Wall seconds of the same capture read and fed through the domain pipeline alone (decode, lookup,
    CallEnd, aggregate with rates, as the app keeps them), with no UI: the ceiling for any front end."""
    from tui.domain.aggregate import Aggregate
    from tui.domain.pipeline import Pipeline
    from tui.ingest.capture import iter_capture

    pipeline = Pipeline(load_catalogs(), Aggregate())
    feed = pipeline.feed
    t0 = time.perf_counter()
    for raw in iter_capture(str(path)):
        feed(raw)
    return time.perf_counter() - t0


async def app_run(path: Path, size: tuple[int, int]) -> dict[str, float]:
    ticks: list[float] = []
    frames: list[float] = []
    settings = Settings(command="replay", capture=str(path), speed=math.inf)
    app = create_app(settings, on_tick=lambda _app: ticks.append(time.perf_counter()), tune_gc=True)
    original = app._display

    def display(screen, renderable):  # noqa: ANN001, ANN202 - the App hook's own signature
        if renderable is not None and not app._batch_count:
            if isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)  # the bytes a terminal would get
            frames.append(time.perf_counter())
        return original(screen, renderable)

    app._display = display  # type: ignore[method-assign]
    async with app.run_test(size=size):
        t0, c0 = time.perf_counter(), time.process_time()
        await app.workers.wait_for_complete()
        t1, c1 = time.perf_counter(), time.process_time()
        received = app.aggregate.received
        events = app.aggregate.events
    inside = [t for t in frames if t0 <= t <= t1]
    marks = [t0, *inside, t1]
    gaps = [b - a for a, b in zip(marks, marks[1:])]
    wall = t1 - t0
    worst = sorted(((b - a, a - t0) for a, b in zip(marks, marks[1:])), reverse=True)[:3]
    return {
        "wall": wall, "cpu": c1 - c0, "received": received, "events": events,
        "ticks_per_s": len([t for t in ticks if t0 <= t <= t1]) / wall,
        "repaints_per_s": len(inside) / wall, "max_gap_ms": 1000 * max(gaps),
        "worst": ", ".join(f"{1000 * g:.0f} ms at +{at:.1f} s" for g, at in worst),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", default="160x50")
    parser.add_argument("--capture", type=Path, help="reuse (or create) this capture file")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    tmp = tempfile.TemporaryDirectory()
    path = args.capture or Path(tmp.name) / "bench.jsonl"
    if not path.exists():
        t = time.perf_counter()
        generate(path, args.events)
        print(f"generated {args.events:,} events ({path.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - t:.1f} s", flush=True)
    rows = []
    for r in range(args.rounds):
        gc.collect()
        bare_wall, bare_cpu, lines = bare_loop(path)
        gc.collect()
        pipe_rate = lines / pipeline_loop(path)
        gc.collect()
        result = asyncio.run(app_run(path, (width, height)))
        gc.unfreeze()  # the app froze its start-up objects (tune_gc): give them back between rounds
        gc.set_threshold(700, 10, 10)
        assert result["received"] == lines, (result["received"], lines)
        bare_rate = lines / bare_wall
        app_rate = lines / result["wall"]
        rows.append((bare_rate, app_rate, app_rate / bare_rate, result, pipe_rate))
        print(f"round {r + 1}: bare {bare_rate:,.0f} ev/s | pipeline alone {pipe_rate:,.0f} ev/s | "
              f"app {app_rate:,.0f} ev/s = {100 * app_rate / bare_rate:.1f} % of bare, "
              f"{100 * app_rate / pipe_rate:.0f} % of pipeline "
              f"(cpu {result['cpu']:.1f} s / wall {result['wall']:.1f} s) | ticks {result['ticks_per_s']:.1f}/s | "
              f"repaints {result['repaints_per_s']:.1f}/s | max gap {result['max_gap_ms']:.0f} ms "
              f"(worst: {result['worst']})", flush=True)

    def med(values: list[float]) -> str:
        return f"{statistics.median(values):,.1f} [{min(values):,.1f}-{max(values):,.1f}]"

    print(f"\n{args.events:,} events, {args.rounds} rounds, {width}x{height} (median [min-max])")
    print(f"  bare orjson parse+count : {med([r[0] for r in rows])} ev/s")
    print(f"  domain pipeline, no UI  : {med([r[4] for r in rows])} ev/s")
    print(f"  app (replay, max speed) : {med([r[1] for r in rows])} ev/s")
    print(f"  app / bare              : {med([100 * r[2] for r in rows])} %   target >= 30 %")
    print(f"  app / pipeline alone    : {med([100 * r[1] / r[4] for r in rows])} %")
    print(f"  refresh ticks           : {med([r[3]['ticks_per_s'] for r in rows])} /s")
    print(f"  repaints                : {med([r[3]['repaints_per_s'] for r in rows])} /s   target >= 10")
    print(f"  longest repaint gap     : {med([r[3]['max_gap_ms'] for r in rows])} ms   target <= 250")
    ok = (statistics.median(r[2] for r in rows) >= 0.30
          and statistics.median(r[3]["repaints_per_s"] for r in rows) >= 10
          and statistics.median(r[3]["max_gap_ms"] for r in rows) <= 250)
    print("  targets met" if ok else "  TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
