"""The harness around the real dashboard: `callwatch serve` subprocesses, the app built by the factory,
and the instruments (event-loop stalls, frames, key latency, RSS, status changes, the ids received).

Everything runs in the app's own event loop (`App.run_test`): the instruments are small asyncio tasks and
wrappers that observe without changing what the app does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.faults.captures import ID_RE, ID_RE_B

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------------ the server


class ServeProcess:
    """``python -m tui serve CAPTURE`` as a subprocess (started and signalled from the event loop)."""

    def __init__(self, capture: Path, *, port: int = 0, speed: str = "1", log: Path | None = None,
                 extra: tuple[str, ...] = ()) -> None:
        self.capture = capture
        self.port = port
        self.speed = speed
        self.extra = extra
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None
        self.started = 0.0

    async def start(self, timeout: float = 20.0, attempts: int = 20) -> int:
        """Start and wait for the ``serving ... on ws://host:port`` line; return the port.

        Binding the port of a server killed a moment ago can fail while the kernel lets go of it:
        tried again, a few times."""
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        last = ""
        for _ in range(attempts):
            stderr = open(self.log, "ab") if self.log is not None else asyncio.subprocess.DEVNULL  # noqa: SIM115
            try:
                self.proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "tui", "serve", str(self.capture), "--port", str(self.port),
                    "--speed", self.speed, *self.extra, cwd=ROOT, env=env,
                    stdout=asyncio.subprocess.PIPE, stderr=stderr, stdin=asyncio.subprocess.DEVNULL)
            finally:
                if not isinstance(stderr, int):
                    stderr.close()
            assert self.proc.stdout is not None
            try:
                line = (await asyncio.wait_for(self.proc.stdout.readline(), timeout)).decode()
            except TimeoutError:
                line = ""
            if line.startswith("serving "):
                self.port = int(line.rsplit(":", 1)[1])
                self.started = time.monotonic()
                return self.port
            last = line
            await self.reap()
            await asyncio.sleep(0.2)
        raise RuntimeError(f"callwatch serve did not start: {last!r} (see {self.log})")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(sig)

    async def kill(self) -> None:
        """SIGKILL, and wait until the process is gone."""
        self.signal(signal.SIGKILL)
        await self.reap()

    async def reap(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    async def stop(self) -> None:
        """SIGCONT (in case it was frozen), SIGTERM, then SIGKILL if it lingers."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except TimeoutError:
            await self.kill()


# ------------------------------------------------------------------------------------- the instruments


class LoopMonitor:
    """Event-loop stalls: a task sleeping `interval` records how late it wakes up (a bounded histogram,
    so a 10-minute soak does not grow the memory it is measuring)."""

    BUCKET_MS = 1.0
    BUCKETS = 5000

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self.reset()

    def reset(self) -> None:
        if hasattr(self, "hist"):
            self.hist[:] = [0] * (self.BUCKETS + 1)  # in place: the running task holds this list
        else:
            self.hist = [0] * (self.BUCKETS + 1)
        self.samples = 0
        self.max_lag = 0.0
        self.window_max = 0.0

    def mark(self) -> None:
        """Start a window: `window_max` is the largest stall since the mark."""
        self.window_max = 0.0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        clock = time.perf_counter
        interval = self.interval
        hist = self.hist
        top = self.BUCKETS
        while True:
            t = clock()
            await asyncio.sleep(interval)
            lag = max(0.0, clock() - t - interval)
            self.samples += 1
            hist[min(top, int(lag * 1000 / self.BUCKET_MS))] += 1
            if lag > self.max_lag:
                self.max_lag = lag
            if lag > self.window_max:
                self.window_max = lag

    def percentile(self, q: float) -> float:
        """The q-th percentile of the stalls, in seconds (bucket upper bound)."""
        if not self.samples:
            return 0.0
        need = q * self.samples
        seen = 0
        for i, n in enumerate(self.hist):
            seen += n
            if seen >= need:
                return (i + 1) * self.BUCKET_MS / 1000
        return self.max_lag

    def over(self, seconds: float) -> int:
        """How many stalls were longer than `seconds`."""
        return sum(self.hist[int(seconds * 1000 / self.BUCKET_MS) + 1:])


class FrameCounter:
    """Counts the frames the app hands to its driver. Headless Textual skips the last step of a frame
    (turning the compositor update into terminal bytes); with ``encode`` it is done here and thrown away,
    so the cost measured is the cost a real terminal would see (performance-notes §4)."""

    def __init__(self, app: Any, encode: bool = True) -> None:
        self.app = app
        self.frames = 0
        self.bytes = 0
        self.encode = encode
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None and not app._batch_count:
                self.frames += 1
                if encode and hasattr(renderable, "render_segments"):
                    self.bytes += len(renderable.render_segments(app.console))

        app._display = display


class StatusLog:
    """Every state the status bar showed, with the time it was first shown (wraps `StatusBar.show`)."""

    def __init__(self, bar: Any) -> None:
        self.changes: list[tuple[float, str, str]] = []
        original = bar.show

        def show(view: Any) -> None:
            original(view)
            if not self.changes or self.changes[-1][1:] != (view.state, view.detail):
                self.changes.append((time.monotonic(), view.state, view.detail))

        bar.show = show

    @property
    def state(self) -> str:
        return self.changes[-1][1] if self.changes else ""

    def states(self) -> list[str]:
        """The states in order, consecutive repeats folded."""
        out: list[str] = []
        for _, state, _ in self.changes:
            if not out or out[-1] != state:
                out.append(state)
        return out

    def first(self, state: str, after: float, contains: str = "") -> float | None:
        """When `state` (with `contains` in its detail) was first shown after monotonic time `after`."""
        for t, s, detail in self.changes:
            if t >= after and s == state and contains in detail:
                return t
        return None


class KeyProbe:
    """Measures how long a key press takes to reach its action: wraps ``app.action_<name>`` to stamp the
    moment it runs, and posts the key the way Pilot does (through the driver)."""

    def __init__(self, app: Any, key: str, action: str) -> None:
        self.app = app
        self.key = key
        self.handled: list[float] = []
        self.latencies: list[float] = []
        self._pending: list[float] = []
        original = getattr(app, f"action_{action}")

        def wrapped(*args: Any) -> Any:
            now = time.perf_counter()
            self.handled.append(now)
            if self._pending:
                self.latencies.append(now - self._pending.pop(0))
            return original(*args)

        setattr(app, f"action_{action}", wrapped)

    def press(self) -> None:
        from textual import events

        key_event = events.Key(self.key, self.key if len(self.key) == 1 else None)
        key_event.set_sender(self.app)
        self._pending.append(time.perf_counter())
        self.app._driver.send_message(key_event)

    @property
    def unanswered(self) -> int:
        return len(self._pending)


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


# ------------------------------------------------------------------------------ what the client received


@dataclass
class Segments:
    """The ids received, folded into runs of consecutive ids: [(first, last), ...] in arrival order.

    One run 1..N means nothing was lost, repeated or reordered; a reconnect to a server that starts
    over shows as a new run starting at 1. Bounded (a pathological stream keeps only the first runs)."""

    runs: list[list[int]] = field(default_factory=list)
    total: int = 0
    frames: int = 0
    limit: int = 10_000
    overflow: int = 0

    def add(self, i: int) -> None:
        self.total += 1
        runs = self.runs
        if runs and runs[-1][1] + 1 == i:
            runs[-1][1] = i
        elif len(runs) < self.limit:
            runs.append([i, i])
        else:
            self.overflow += 1

    @property
    def last(self) -> int:
        return self.runs[-1][1] if self.runs else 0

    def as_tuples(self) -> list[tuple[int, int]]:
        return [(a, b) for a, b in self.runs]


class RecordingSource:
    """Wraps a source (WebSocketSource): passes every message on to the app unchanged and notes the ids
    it carried. `status`, `on_status` and `stop` are the inner source's."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seen = Segments()
        self.frame_times: list[float] = []
        self.first_frame: float | None = None
        self.last_frame: float | None = None
        self.states: list[tuple[float, str, str]] = []
        """Every state change the source reported (the status bar samples them at its refresh rate)."""

    @property
    def status(self) -> Any:
        return self.inner.status

    @property
    def on_status(self) -> Callable[..., None] | None:
        return self.inner.on_status

    @on_status.setter
    def on_status(self, callback: Callable[..., None] | None) -> None:
        def log(status: Any) -> None:
            self.states.append((time.monotonic(), status.state, status.detail))
            if callback is not None:
                callback(status)

        self.inner.on_status = log

    def stop(self) -> None:
        self.inner.stop()

    async def messages(self) -> AsyncIterator[Any]:
        seen = self.seen
        add = seen.add
        clock = time.monotonic
        async for raw in self.inner.messages():
            data = raw.data
            seen.frames += 1
            now = clock()
            if self.first_frame is None:
                self.first_frame = now
            self.last_frame = now
            if isinstance(data, str):
                found = ID_RE.findall(data[:4_000_000])
            elif isinstance(data, bytes):
                found = ID_RE_B.findall(data[:4_000_000])
            else:
                found = []
            for text in found:
                add(int(text))
            yield raw


# ------------------------------------------------------------------------------------------- the app


#: Let the app tune the garbage collector as `callwatch live` does (`benchmarks/soak.py` sets it; tests do
#: not: it freezes every object alive, and a test process runs many apps).
TUNE_GC = False


def build_app(source: Any, *, catalogs: Any = None, recent_rows: int = 500, **settings: Any) -> Any:
    """The dashboard as the CLI builds it (`create_app`, the one factory), on a live source, real clock."""
    import inspect

    from tui.app import CallwatchApp, create_app
    from tui.feeds import Feed
    from tui.settings import Settings

    extra: dict[str, Any] = {}
    if TUNE_GC and "tune_gc" in inspect.signature(CallwatchApp.__init__).parameters:
        extra["tune_gc"] = True
    return create_app(Settings(command="live", recent_rows=recent_rows, **settings), feed=Feed("live", source),
                      catalogs=catalogs, clock=time.time, **extra)


def websocket_source(url: str, **options: Any) -> Any:
    """A `WebSocketSource` for loopback tests: no proxy, quick backoff (overridable)."""
    from tui.ingest.websocket_client import WebSocketSource

    defaults: dict[str, Any] = dict(proxy=None, backoff_initial=0.05, backoff_max=0.5, open_timeout=2.0,
                                    healthy_after=1.0)
    defaults.update(options)
    return WebSocketSource(url, **defaults)


async def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    """Poll `predicate` (in the app's loop) until true or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return predicate()


@dataclass
class ScreenShot:
    """One full render of the current screen: its strips (styles included), text and terminal bytes."""

    strips: list[Any]
    text: str
    terminal: bytes


def shoot(app: Any) -> ScreenShot:
    """Render the whole current screen once, as Textual would for a full repaint of a real terminal."""
    from textual.strip import Strip

    update = app.screen._compositor.render_full_update()
    strips = [Strip.join(list(chops)) for chops in update.strips]
    text = "\n".join("".join(seg.text for seg in strip) for strip in strips)
    terminal = update.render_segments(app.console).encode("utf-8", "surrogateescape")
    return ScreenShot(strips, text, terminal)


def screen_text(app: Any) -> str:
    """The text of the whole current screen (every visible cell), lines joined with newlines."""
    return shoot(app).text


def terminal_bytes(app: Any) -> bytes:
    """What Textual would write to a terminal for a full repaint of the current screen."""
    return shoot(app).terminal


def unsafe_segments(app_or_strips: Any) -> list[str]:
    """Problems in a rendered screen: click actions or links from data, control characters in text."""
    strips = app_or_strips if isinstance(app_or_strips, list) else shoot(app_or_strips).strips
    problems = []
    for y, strip in enumerate(strips):
        for seg in strip:
            style = seg.style
            if style is not None:
                meta = style.meta or {}
                if any("@click" in str(k) or "@click" in str(v) for k, v in meta.items()):
                    problems.append(f"row {y}: @click meta on {seg.text!r}")
                if style.link:
                    problems.append(f"row {y}: link {style.link!r} on {seg.text!r}")
            bad = [c for c in seg.text if (ord(c) < 32 or 0x7F <= ord(c) < 0xA0) and c != "\n"]
            if bad:
                problems.append(f"row {y}: control characters {bad[:3]!r} in {seg.text[:40]!r}")
    return problems


@contextlib.asynccontextmanager
async def running(app: Any, size: tuple[int, int] = (160, 48)) -> AsyncIterator[Any]:
    """`app.run_test` plus the instruments every case uses: yields (pilot, monitor, frames, status)."""
    async with app.run_test(size=size, notifications=True) as pilot:
        monitor = LoopMonitor()
        monitor.start()
        frames = FrameCounter(app)
        status = StatusLog(app.status_bar)
        try:
            yield pilot, monitor, frames, status
        finally:
            monitor.stop()
            app.feed.stop()
