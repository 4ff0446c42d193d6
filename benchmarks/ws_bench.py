"""Live websocket ingest against a bare `websockets` receive-and-parse loop, on loopback, in one run.

Target (the issue): "Live ingest with one event per frame reaches at least 70 % of a bare websockets
receive-and-parse loop on loopback".

A sender runs in a separate process (a plain `websockets` server, ``compression=None``, so client and
server each get a core; performance-notes.md §3). For every connection it sends the same N pre-built
envelope JSON lines (the four vendors, the code mix of summary_bench.py), one per text frame, as fast
as `ws.send` allows, then closes. Two receivers run in this process, interleaved round by round with the
order alternated:

  (a) bare:      ``websockets.asyncio.client.connect(url, compression=None, max_size=1<<20)`` and
                 ``async for frame in ws: orjson.loads(frame); count += 1``;
  (b) callwatch: ``WebSocketSource(url, proxy=None).messages()`` and, per message,
                 ``Pipeline(load_catalogs(), Aggregate(clock=time.time, rate_by_arrival=True)).feed(raw)``
                 (the dashboard's path: events kept in the recent deque, rates by arrival), stopping after
                 N messages (then ``source.stop()``).

Each receiver is timed from its first frame to its last: wall (perf_counter) and this process's CPU
(process_time). It prints events/s per receiver, median [min-max], and the paired ratio b/a per round.
Catalogs are loaded before timing. Every receive is bounded by a 120 s timeout; the sender exits when
its stdin closes (the parent ending).

    python benchmarks/ws_bench.py                         # 200,000 events, 3 rounds
    python benchmarks/ws_bench.py --events 100000 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from summary_bench import generate  # noqa: E402  (same envelope lines and code mix)

from tui.domain.aggregate import Aggregate  # noqa: E402
from tui.domain.catalog import load_catalogs  # noqa: E402
from tui.domain.pipeline import Pipeline  # noqa: E402
from tui.ingest.websocket_client import WebSocketSource  # noqa: E402

TARGET = 0.70
TIMEOUT = 120.0

# The sender: reads the frames once, serves every connection all of them, then closes it (1000).
# Exits when its stdin reaches EOF (the parent closed it or died).
SENDER = r"""
import asyncio, os, sys, threading
from websockets.asyncio.server import serve

frames = open(sys.argv[1], encoding="utf-8").read().splitlines()

def watch_parent():
    sys.stdin.read()
    os._exit(0)

async def handler(ws):
    for frame in frames:
        await ws.send(frame)
    await ws.close()

async def main():
    async with serve(handler, "127.0.0.1", 0, compression=None, max_size=1 << 20) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()

threading.Thread(target=watch_parent, daemon=True).start()
asyncio.run(main())
"""


async def bare(url: str, n: int) -> tuple[float, float, int]:
    """(wall s, CPU s, frames) from the first frame to the last."""
    count = 0
    t0 = c0 = 0.0
    loads = orjson.loads
    async with connect(url, compression=None, max_size=1 << 20) as ws:
        async for frame in ws:
            if count == 0:
                t0, c0 = time.perf_counter(), time.process_time()
            loads(frame)
            count += 1
        t1, c1 = time.perf_counter(), time.process_time()
    return t1 - t0, c1 - c0, count


async def callwatch(url: str, n: int) -> tuple[float, float, int]:
    """(wall s, CPU s, messages) from the first message to the N-th, through WebSocketSource + Pipeline."""
    aggregate = Aggregate(clock=time.time, rate_by_arrival=True)
    pipeline = Pipeline(load_catalogs(), aggregate)
    feed = pipeline.feed
    source = WebSocketSource(url, proxy=None)
    messages = source.messages()
    count = 0
    t0 = c0 = t1 = c1 = 0.0
    try:
        async for raw in messages:
            if count == 0:
                t0, c0 = time.perf_counter(), time.process_time()
            feed(raw)
            count += 1
            if count >= n:
                t1, c1 = time.perf_counter(), time.process_time()
                source.stop()
                break
    finally:
        await messages.aclose()
    counted = aggregate._events + aggregate._invalid
    if counted != n or aggregate._invalid:
        raise SystemExit(f"callwatch counted {aggregate._events} events, {aggregate._invalid} invalid (expected {n})")
    return t1 - t0, c1 - c0, count


def fmt_rate(values: list[float]) -> str:
    return f"{statistics.median(values) / 1e3:.1f}k [{min(values) / 1e3:.1f}k-{max(values) / 1e3:.1f}k]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000, help="events (frames) per receive (default 200000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    args = parser.parse_args()
    n = args.events

    load_catalogs()  # built and cached before any timing
    with tempfile.TemporaryDirectory(prefix="ws_bench") as tmp:
        path = Path(tmp) / "frames.jsonl"
        generate(path, n)
        size = path.stat().st_size
        sender = subprocess.Popen([sys.executable, "-c", SENDER, str(path)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            assert sender.stdout is not None
            port = int(sender.stdout.readline())
            url = f"ws://127.0.0.1:{port}"
            print(f"{n:,} events/round, {size / n:.0f} B/frame, {args.rounds} rounds, sender pid {sender.pid}, "
                  f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}", flush=True)
            results: dict[str, list[tuple[float, float, int]]] = {"bare": [], "callwatch": []}
            receivers = {"bare": bare, "callwatch": callwatch}
            for r in range(args.rounds):
                order = ["bare", "callwatch"] if r % 2 == 0 else ["callwatch", "bare"]
                for name in order:
                    wall, cpu, count = asyncio.run(asyncio.wait_for(receivers[name](url, n), TIMEOUT))
                    if count != n:
                        raise SystemExit(f"{name}: received {count} frames, expected {n}")
                    results[name].append((wall, cpu, count))
                    print(f"  round {r + 1} {name:9s}: {count / wall / 1e3:7.1f}k ev/s wall, "
                          f"{cpu / count * 1e6:5.2f} us CPU/ev", flush=True)
        finally:
            if sender.stdin is not None:
                sender.stdin.close()
            try:
                sender.wait(timeout=5)
            except subprocess.TimeoutExpired:
                sender.kill()

    print()
    print(f"{'receiver':10s} {'events/s (wall) median [min-max]':36s} {'events/CPU-s':28s} us CPU/ev")
    for name, rows in results.items():
        rates = [c / w for w, _, c in rows]
        cpu_rates = [c / u for _, u, c in rows]
        us = statistics.median(u / c * 1e6 for _, u, c in rows)
        print(f"{name:10s} {fmt_rate(rates):36s} {fmt_rate(cpu_rates):28s} {us:.2f}")
    ratios = [(c2 / w2) / (c1 / w1) for (w1, _, c1), (w2, _, c2) in zip(results["bare"], results["callwatch"])]
    cpu_ratios = [(c2 / u2) / (c1 / u1) for (_, u1, c1), (_, u2, c2) in zip(results["bare"], results["callwatch"])]
    med = statistics.median(ratios)
    print(f"ratio callwatch/bare (wall, paired per round): {med:.2f} [{min(ratios):.2f}-{max(ratios):.2f}]  "
          f"target >= {TARGET:.2f}: {'MET' if med >= TARGET else 'MISSED'}")
    print(f"ratio callwatch/bare (CPU):                    {statistics.median(cpu_ratios):.2f} "
          f"[{min(cpu_ratios):.2f}-{max(cpu_ratios):.2f}]")


if __name__ == "__main__":
    main()
