"""Shared by the dashboard tests: deterministic captures, fixed clocks and controllable sources."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import orjson

from tui.app import CallwatchApp, create_app
from tui.domain.decode import event_time
from tui.feeds import Feed, capture_factory
from tui.ingest.raw import FeedStatus, RawMessage, StatusTracker
from tui.ingest.replay import Replay
from tui.settings import Settings

#: 2025-07-14 10:40:00 UTC: every test capture starts here.
START = 1752489600.0
FIXED_NOW = START + 3600.0

#: (vendor, code, subcode, source, outcome) cycled through by `events()`.
TEMPLATES: tuple[tuple[str, str | None, str | None, str | None, str], ...] = (
    ("planetkit", "1001", None, "1", "success"),
    ("livekit", "CLIENT_INITIATED", None, None, "success"),
    ("acs", "410", "3100", None, "unexpected_client_error"),
    ("jssip", "Busy", None, "remote", "expected_error"),
    ("acs", "500", None, None, "unexpected_server_error"),
    ("planetkit", "9999", None, "2", "unknown"),
    ("jssip", None, None, "local", "no_reason"),
    ("livekit", "JOIN_FAILURE", None, None, "unexpected_client_error"),
)


def event_line(i: int, start: float = START, step: float = 0.5) -> bytes:
    vendor, code, subcode, source, _outcome = TEMPLATES[i % len(TEMPLATES)]
    obj: dict[str, object] = {"ts": round(start + i * step, 3), "vendor": vendor, "call_id": f"call-{i:05d}"}
    if code is not None:
        obj["code"] = code
    if subcode is not None:
        obj["subcode"] = subcode
    if source is not None:
        obj["source"] = source
    return orjson.dumps(obj)


def write_capture(path: Path, n: int = 40, *, extra: Iterable[bytes] = (), start: float = START) -> Path:
    """A JSON Lines capture of `n` events (every outcome, unknown and no-reason ones) plus `extra` lines."""
    lines = [event_line(i, start) for i in range(n)] + list(extra)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def replay_feed(path: Path, *, speed: float = math.inf, paused: bool = False, loop: bool = False) -> Feed:
    factory = capture_factory(str(path))
    replay = Replay(factory, event_time, speed=speed, paused=paused, loop=loop, origin=path.name)
    return Feed("replay", replay, replay, factory)


class ScriptedSource:
    """A live-like source: yields `lines`, then stays connected (or raises `fail`), with a settable state."""

    def __init__(self, lines: Iterable[bytes], *, fail: BaseException | None = None, origin: str = "ws://test") -> None:
        self.lines = list(lines)
        self.fail = fail
        self._tracker = StatusTracker(origin, "connecting")
        self._stop = asyncio.Event()
        self.more: asyncio.Queue[bytes] = asyncio.Queue()

    @property
    def status(self) -> FeedStatus:
        return self._tracker.snapshot()

    @property
    def on_status(self):  # noqa: ANN201
        return self._tracker.on_status

    @on_status.setter
    def on_status(self, callback) -> None:  # noqa: ANN001
        self._tracker.on_status = callback

    def set_state(self, state: str, detail: str = "", retry_in: float | None = None) -> None:
        self._tracker.set_state(state, detail, retry_in=retry_in)  # type: ignore[arg-type]

    def stop(self) -> None:
        self._stop.set()

    async def messages(self) -> AsyncIterator[RawMessage]:
        self._tracker.set_state("live", "connected")
        seq = 0
        for line in self.lines:
            seq += 1
            self._tracker.messages += 1
            yield RawMessage(seq, line, FIXED_NOW)
        if self.fail is not None:
            raise self.fail
        while not self._stop.is_set():
            getter = asyncio.ensure_future(self.more.get())
            stopper = asyncio.ensure_future(self._stop.wait())
            done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for task in (getter, stopper):
                if task not in done:
                    task.cancel()
            if getter in done:
                seq += 1
                yield RawMessage(seq, getter.result(), FIXED_NOW)
        self._tracker.set_state("stopped", "stopped")


def live_feed(lines: Iterable[bytes], **kwargs: object) -> tuple[Feed, ScriptedSource]:
    source = ScriptedSource(lines, **kwargs)  # type: ignore[arg-type]
    return Feed("live", source), source


def make_app(feed: Feed, tmp_path: Path | None = None, **settings: object) -> CallwatchApp:
    """The app as the CLI builds it (through the factory), with a fixed clock."""
    values = {"command": feed.kind, **settings}
    return create_app(Settings(**values), feed=feed, clock=lambda: FIXED_NOW,  # type: ignore[arg-type]
                      export_dir=tmp_path)


async def settle(app: CallwatchApp, pilot) -> None:  # noqa: ANN001
    """Let the source run dry, then apply one refresh tick and let the screen catch up."""
    await pilot.pause()
    if app.feed.kind == "replay":
        replay = app.feed.replay
        assert replay is not None
        if not replay.paused:
            await app.workers.wait_for_complete()
    else:
        for _ in range(20):
            await asyncio.sleep(0)
    app.refresh_view()
    await pilot.pause()
