"""Replay pacing and controls. Timings are short and asserted loosely (ratios, generous bounds)."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from tui.ingest.raw import FeedStatus, RawMessage
from tui.ingest.replay import Pacer, Replay, check_speed, format_speed


def _messages(times: list[float | None]) -> list[RawMessage]:
    return [RawMessage(i + 1, {"ts": t}, 0.0) for i, t in enumerate(times)]


def _ts(raw: RawMessage) -> float | None:
    return raw.data["ts"]  # type: ignore[index]


def _replay(times: list[float | None], **kwargs) -> Replay:
    items = _messages(times)
    return Replay(lambda: items, _ts, **kwargs)


async def _collect(replay: Replay, n: int | None = None, timeout: float = 10.0) -> list[RawMessage]:
    got: list[RawMessage] = []

    async def run() -> None:
        async for raw in replay.messages():
            got.append(raw)
            if n is not None and len(got) >= n:
                break

    await asyncio.wait_for(run(), timeout)
    return got


# -- the pure pacer ----------------------------------------------------------------------------


def test_pacer_gaps_cap_and_out_of_order():
    pacer = Pacer(even_rate=10, max_gap=5)
    gaps = [pacer.gap(t) for t in (100.0, 100.5, 102.0, 7300.0, 7299.0, 7301.0)]
    assert gaps == [0.0, 0.5, 1.5, 5.0, 0.0, 1.0]
    assert pacer.capped == 1 and pacer.untimed == 0


def test_pacer_even_gaps_without_timestamps():
    pacer = Pacer(even_rate=4, max_gap=5)
    assert [pacer.gap(t) for t in (None, None, 10.0, 11.0, None, 11.5)] == [0.0, 0.25, 0.25, 1.0, 0.0, 0.5]
    assert pacer.untimed == 3
    pacer.resync()
    assert pacer.gap(50.0) == 0.0 and pacer.gap(50.5) == 0.5


def test_speed_bounds():
    assert check_speed(0.25) == 0.25 and check_speed(1000) == 1000 and check_speed(math.inf) == math.inf
    for bad in (0.1, 1001, 0, -1, math.nan):
        with pytest.raises(ValueError):
            check_speed(bad)
    assert format_speed(2) == "2×" and format_speed(math.inf) == "max"


# -- pacing against the real loop clock ----------------------------------------------------------


async def test_pacing_follows_timestamps_and_speed():
    times = [1000.0 + 0.05 * i for i in range(9)]  # 0.4 s of event time
    start = time.monotonic()
    assert len(await _collect(_replay(times, speed=1.0))) == 9
    slow = time.monotonic() - start
    start = time.monotonic()
    assert len(await _collect(_replay(times, speed=20.0))) == 9
    fast = time.monotonic() - start
    assert slow >= 0.38
    assert fast < slow / 2


async def test_recorded_at_is_preferred_over_timestamp_of():
    items = [RawMessage(i + 1, {"ts": 0.0}, 0.0, recorded_at=500.0 + 0.1 * i) for i in range(4)]
    replay = Replay(lambda: items, _ts, speed=1.0)
    start = time.monotonic()
    await _collect(replay)
    assert time.monotonic() - start >= 0.28  # 0.3 s of recorded time, though every payload says 0
    assert replay.status.position == pytest.approx(500.3)


async def test_long_gap_is_shortened_and_reported():
    replay = _replay([0.0, 7200.0, 7200.05], speed=1.0, max_gap=0.1)
    start = time.monotonic()
    assert len(await _collect(replay)) == 3
    assert time.monotonic() - start < 2.0
    assert "1 gap over 0.1 s shortened" in replay.status.detail
    assert replay.status.position == pytest.approx(7200.05)


async def test_missing_timestamps_are_paced_evenly_and_reported():
    statuses: list[FeedStatus] = []
    replay = _replay([None] * 6, speed=1.0, even_rate=50, on_status=statuses.append)
    start = time.monotonic()
    assert len(await _collect(replay)) == 6
    assert time.monotonic() - start >= 0.09  # 5 gaps of 20 ms
    assert any("no timestamps" in s.detail and "50 msg/s" in s.detail for s in statuses)
    assert replay.status.position == pytest.approx(0.1)


async def test_timestamp_of_that_raises_is_treated_as_missing():
    items = _messages([1.0, 2.0])

    def broken(raw: RawMessage) -> float | None:
        raise KeyError("ts")

    replay = Replay(lambda: items, broken, speed=1000.0, even_rate=1000)
    assert [m.seq for m in await _collect(replay)] == [1, 2]


async def test_finished_state_and_counts():
    statuses: list[FeedStatus] = []
    replay = _replay([1.0, 2.0, 3.0], speed=math.inf, origin="x.jsonl", on_status=statuses.append)
    assert replay.status.state == "connecting"
    await _collect(replay)
    status = replay.status
    assert (status.state, status.messages, status.origin, status.speed) == ("finished", 3, "x.jsonl", math.inf)
    assert [s.state for s in statuses] == ["live", "finished"]


async def test_async_source_factory_and_source_error():
    async def source():
        yield RawMessage(1, b"a", 0.0)
        raise OSError("disk gone")

    replay = Replay(source, None, speed=math.inf)
    got = []
    with pytest.raises(OSError, match="disk gone"):
        async for raw in replay.messages():
            got.append(raw)
    assert [m.data for m in got] == [b"a"]
    assert replay.status.state == "stopped" and "disk gone" in replay.status.detail


# -- controls -----------------------------------------------------------------------------------


async def test_pause_step_resume():
    replay = _replay([float(i) for i in range(10)], speed=1000.0, paused=True)
    got: list[RawMessage] = []
    done = asyncio.Event()

    async def consume() -> None:
        async for raw in replay.messages():
            got.append(raw)
        done.set()

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.1)
    assert got == [] and replay.status.state == "paused"
    replay.step(3)
    await asyncio.sleep(0.1)
    assert [m.seq for m in got] == [1, 2, 3]
    replay.step()
    await asyncio.sleep(0.1)
    assert [m.seq for m in got] == [1, 2, 3, 4]
    assert replay.toggle_pause() is False
    await asyncio.wait_for(done.wait(), 5)
    assert [m.seq for m in got] == list(range(1, 11))
    await task


async def test_pause_holds_a_max_speed_replay():
    replay = _replay([None] * 5000, speed=math.inf)
    got: list[RawMessage] = []

    async def consume() -> None:
        async for raw in replay.messages():
            got.append(raw)
            if len(got) == 300:
                replay.pause()

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.2)
    held = len(got)
    assert 300 <= held < 5000 and replay.paused
    await asyncio.sleep(0.1)
    assert len(got) == held
    replay.resume()
    await asyncio.wait_for(task, 5)
    assert len(got) == 5000


async def test_set_speed_applies_to_the_current_wait():
    replay = _replay([0.0, 2.0, 2.5], speed=0.25, max_gap=10)  # 8 s until the 2nd message
    got: list[RawMessage] = []

    async def consume() -> None:
        async for raw in replay.messages():
            got.append(raw)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.1)
    assert len(got) == 1
    replay.set_speed(1000)
    await asyncio.wait_for(task, 2)
    assert [m.seq for m in got] == [1, 2, 3]
    assert replay.status.speed == 1000


async def test_seek_restarts_and_skips_to_time():
    replay = _replay([100.0 + i for i in range(10)], speed=math.inf)
    got: list[RawMessage] = []
    epochs: list[int] = []
    async for raw in replay.messages():
        got.append(raw)
        epochs.append(replay.epoch)
        if raw.seq == 8 and len(got) < 10:
            replay.seek(103.0)  # back in time
    assert [m.seq for m in got] == [1, 2, 3, 4, 5, 6, 7, 8, 4, 5, 6, 7, 8, 9, 10]
    assert epochs[0] == 1 and epochs[-1] == 2
    assert replay.status.state == "finished"


async def test_seek_while_paused_positions_without_playing():
    replay = _replay([float(i) for i in range(10)], speed=1.0, paused=True)
    got: list[RawMessage] = []

    async def consume() -> None:
        async for raw in replay.messages():
            got.append(raw)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    replay.seek(6.5)
    await asyncio.sleep(0.1)
    assert got == [] and replay.paused
    replay.step()
    await asyncio.sleep(0.1)
    assert [m.seq for m in got] == [8]
    replay.stop()
    await asyncio.wait_for(task, 2)
    assert replay.status.state == "stopped"


async def test_loop_restarts_from_the_beginning():
    statuses: list[FeedStatus] = []
    replay = _replay([1.0, 2.0, 3.0], speed=math.inf, loop=True, on_status=statuses.append)
    got = await _collect(replay, n=7)
    assert [m.seq for m in got] == [1, 2, 3, 1, 2, 3, 1]
    assert "looping" in statuses[0].detail
    assert replay.status.state == "stopped"  # the consumer left


async def test_loop_over_an_empty_capture_finishes():
    replay = Replay(lambda: [], None, speed=math.inf, loop=True)
    assert await _collect(replay, timeout=2) == []
    assert replay.status.state == "finished"


async def test_max_speed_yields_to_the_event_loop():
    ticks = 0
    stop = False

    async def heartbeat() -> None:
        nonlocal ticks
        while not stop:
            ticks += 1
            await asyncio.sleep(0)

    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0)
    replay = _replay([float(i) for i in range(20 * 256)], speed=math.inf)
    count = 0
    async for _ in replay.messages():
        count += 1
    stop = True
    await beat
    assert count == 20 * 256
    assert ticks >= 15  # the heartbeat ran about once per 256 messages
    assert replay.status.position is not None  # sampled while yielding


async def test_cancelled_consumer_leaves_the_replay_stopped():
    replay = _replay([0.0, 100.0], speed=1.0)

    async def consume() -> None:
        async for _ in replay.messages():
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert replay.status.state == "stopped" and replay.status.messages == 1
