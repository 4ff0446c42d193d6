"""Build the dashboard's source from `Settings`: a paced capture replay, a live websocket, or the demo.

The one place where the CLI and the tests turn settings into an ingest source (the App factory in
`tui.app` calls `build_feed`). The demo is the real path end to end: an in-process `FeedServer` on a
free loopback port plays the bundled capture, and a `WebSocketSource` connects to it as a live client.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from tui.domain.catalog_yaml import safe_load_all_yaml
from tui.domain.decode import event_time
from tui.ingest.capture import STDIN, aiter_capture, iter_capture
from tui.ingest.raw import FeedStatus, RawMessage, StatusCallback, StatusTracker
from tui.ingest.replay import Replay
from tui.ingest.websocket_client import WebSocketSource
from tui.resources import package_file
from tui.settings import Settings

_ROOT = Path(__file__).resolve().parent.parent


def demo_capture() -> Path:
    """The capture the demo plays: the packaged one, else the checkout's fixtures."""
    for candidate in (package_file("demo.jsonl"), _ROOT / "fixtures" / "demo.jsonl",
                      _ROOT / "fixtures" / "envelope" / "stream.jsonl"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("no demo capture found (fixtures/demo.jsonl)")


def _yaml_loader(path: str) -> Callable[[str], Iterable[object]]:
    def load(text: str) -> Iterable[object]:
        return safe_load_all_yaml(text, path)

    return load


def capture_factory(capture: str) -> Callable[[], Iterable[RawMessage]]:
    """A factory of fresh, unpaced passes over a capture file (used by Replay, seek and step-back)."""
    loader = _yaml_loader(capture)
    return lambda: iter_capture(capture, yaml_loader=loader)


class DemoSource:
    """A local `FeedServer` playing the demo capture (looping) and a live client connected to it.

    A source like the others: `messages()`, `status` (the client's), `on_status`, `stop()`.
    """

    def __init__(self, capture: Path, speed: float = 1.0) -> None:
        self.capture = capture
        self.speed = speed
        self.server: Any = None
        """The running FeedServer (None before `messages()` starts)."""
        self._client: WebSocketSource | None = None
        self._on_status: StatusCallback | None = None
        self._tracker = StatusTracker(f"demo of {capture.name}", "connecting")
        self._tracker.detail = "starting the local feed server"

    @property
    def status(self) -> FeedStatus:
        if self._client is not None:
            return self._client.status
        return self._tracker.snapshot()

    @property
    def on_status(self) -> StatusCallback | None:
        return self._on_status

    @on_status.setter
    def on_status(self, callback: StatusCallback | None) -> None:
        self._on_status = callback
        self._tracker.on_status = callback
        if self._client is not None:
            self._client.on_status = callback

    def stop(self) -> None:
        if self._client is not None:
            self._client.stop()

    async def messages(self) -> AsyncIterator[RawMessage]:
        from tui.ingest.feed_server import FeedServer

        capture, speed = str(self.capture), self.speed
        source = capture_factory(capture)

        def paced() -> AsyncIterator[RawMessage]:
            return Replay(source, event_time, speed=speed, loop=True, origin=capture).messages()

        server = self.server = FeedServer(paced, "127.0.0.1", 0)
        await server.start()
        self._client = WebSocketSource(server.url, on_status=self._on_status, stale_after=60.0)
        try:
            async for raw in self._client.messages():
                yield raw
        finally:
            server.close()
            await server.wait_closed()


@dataclass
class Feed:
    """What the app ingests from: the source, and the controls its kind offers."""

    kind: str
    """demo, live or replay."""
    source: Any
    """Any object with `messages()`, `status` and `on_status`."""
    replay: Replay | None = None
    """The replay's controls (pause, step, speed, seek) when `kind == "replay"`."""
    capture: Callable[[], Iterable[RawMessage]] | None = None
    """Fresh unpaced passes over the capture (step back re-feeds from it); None for stdin."""

    @property
    def origin(self) -> str:
        return self.source.status.origin

    def stop(self) -> None:
        """Ask the source to end (the worker's iteration then finishes)."""
        stop = getattr(self.source, "stop", None)
        if stop is not None:
            stop()


def build_feed(settings: Settings, *, stdin: BinaryIO | None = None) -> Feed:
    """The source `settings` ask for (no I/O happens before the app's worker iterates it).

    `stdin`: the stream `replay -` reads (default: the process's standard input)."""
    if settings.command == "live":
        if not settings.url:
            raise ValueError("live needs a ws:// or wss:// URL")
        source = WebSocketSource(
            settings.url, token=settings.token, headers=settings.headers, ca_file=settings.ca_file,
            insecure=settings.insecure, record_to=settings.record)
        return Feed("live", source)
    if settings.command == "replay":
        capture = settings.capture or STDIN
        if capture == STDIN:
            replay = Replay(lambda: aiter_capture(STDIN, stdin=stdin), event_time, speed=settings.speed,
                            loop=False, origin="stdin")
            return Feed("replay", replay, replay, None)
        factory = capture_factory(capture)
        replay = Replay(factory, event_time, speed=settings.speed, loop=settings.loop, origin=capture)
        return Feed("replay", replay, replay, factory)
    speed = settings.speed if math.isfinite(settings.speed) else 1.0
    return Feed("demo", DemoSource(demo_capture(), speed=speed))
