"""Replay a capture paced by its event timestamps: speed, pause, step, seek and loop.

`Replay` wraps a factory of raw messages (a capture reader; the factory is called again to seek or
loop) and releases each message at the wall time its event time implies, divided by the speed:

- the event time is ``recorded_at`` (a callwatch recording) if present, else ``timestamp_of(raw)``
  (injected by the domain: ingest knows no payload fields), else the messages are paced evenly at
  ``even_rate`` messages per second × speed;
- a single gap longer than ``max_gap`` event seconds is shortened to ``max_gap`` (a capture with a
  two-hour hole does not stall), out-of-order events wait 0, and the status detail says both;
- at ``speed=inf`` nothing waits, but the replay yields to the event loop every `YIELD_EVERY`
  messages so a UI sharing the loop stays responsive.

Controls (`pause`, `resume`, `toggle_pause`, `step`, `set_speed`, `seek`, `stop`, the ``loop``
attribute) are plain methods meant to be called from the same event loop, e.g. a key binding.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable

from tui.ingest.raw import FeedStatus, RawMessage, StatusCallback, StatusTracker

SourceFactory = Callable[[], Iterable[RawMessage] | AsyncIterable[RawMessage]]
TimestampOf = Callable[[RawMessage], float | None]

MIN_SPEED = 0.25
MAX_SPEED = 1000.0
#: At infinite speed, yield to the event loop after this many messages.
YIELD_EVERY = 256
#: When the consumer falls this far (wall seconds) behind the schedule, pacing restarts from now
#: instead of releasing the backlog in a burst.
CATCH_UP_LIMIT = 1.0


def check_speed(speed: float) -> float:
    """Return ``speed`` if it is ``inf`` or within [`MIN_SPEED`, `MAX_SPEED`]; else raise ValueError."""
    speed = float(speed)
    if speed == math.inf or MIN_SPEED <= speed <= MAX_SPEED:
        return speed
    raise ValueError(f"speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}, or inf (as fast as possible)")


def format_speed(speed: float | None) -> str:
    """``2×``, ``0.25×`` or ``max``."""
    if speed is None:
        return "-"
    return "max" if speed == math.inf else f"{speed:g}×"


class Pacer:
    """Turns a sequence of event times into gaps (event seconds) before each message. Pure, no clock.

    The first message has gap 0; a message without a time gets 0 when a timed one came before it (it
    goes out with its predecessor: a stray bad line must not slow a timed capture down), else
    ``1 / even_rate``, like the first timed one after untimed ones; a backward step in time gets 0; a
    gap over ``max_gap`` is cut to ``max_gap`` and counted in `capped`.
    """

    def __init__(self, even_rate: float = 10.0, max_gap: float = 5.0) -> None:
        self.even_gap = 1.0 / even_rate
        self.max_gap = max_gap
        self.capped = 0
        self.untimed = 0
        self._started = False
        self._prev: float | None = None

    def resync(self) -> None:
        """Forget the previous time: the next message gets gap 0 (after a seek or a speed change)."""
        self._started = False
        self._prev = None

    def gap(self, ts: float | None) -> float:
        """The gap before a message with event time ``ts`` (None when unknown)."""
        if ts is None:
            self.untimed += 1
        if not self._started:
            self._started = True
            self._prev = ts
            return 0.0
        if ts is None:
            return 0.0 if self._prev is not None else self.even_gap
        prev, self._prev = self._prev, ts
        if prev is None:
            return self.even_gap
        dt = ts - prev
        if dt <= 0:
            self._prev = prev  # out of order: wait 0 and keep the later time as the reference
            return 0.0
        if dt > self.max_gap:
            self.capped += 1
            return self.max_gap
        return dt


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _aiter(source: Iterable[RawMessage] | AsyncIterable[RawMessage]) -> AsyncIterator[RawMessage]:
    if isinstance(source, AsyncIterable):
        async for raw in source:
            yield raw
        return
    iterator = iter(source)
    try:
        for raw in iterator:
            yield raw
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


class Replay:
    """A paced, controllable replay of a capture. A source: `messages`, `status`, `on_status`.

    ``source_iter_factory`` returns a fresh (sync or async) iterable of `RawMessage` each call; it
    is called once per pass (again on `seek` and when looping). ``timestamp_of`` gives a message's
    event time in seconds (None when unknown). ``speed`` is a factor in [0.25, 1000] or ``inf``.
    """

    def __init__(self, source_iter_factory: SourceFactory, timestamp_of: TimestampOf | None = None, *,
                 speed: float = 1.0, loop: bool = False, origin: str = "capture", even_rate: float = 10.0,
                 max_gap: float = 5.0, paused: bool = False, on_status: StatusCallback | None = None) -> None:
        self._factory = source_iter_factory
        self._timestamp_of = timestamp_of
        self.loop = loop
        """Start again from the beginning when the capture ends."""
        self.even_rate = even_rate
        self.max_gap = max_gap
        self.epoch = 0
        """Incremented at every pass (start, seek, loop): counts from an earlier epoch are stale."""
        self._speed = check_speed(speed)
        self._paused = paused
        self._pause_started = 0.0
        self._steps = 0
        self._seek_target: float | None = None
        self._stopping = False
        self._control: asyncio.Future[None] | None = None
        self._clock: Callable[[], float] | None = None
        self._last_release = 0.0
        self._pacer = Pacer(even_rate, max_gap)
        self._status = StatusTracker(origin, "connecting", speed=self._speed, on_status=on_status)
        self._status.detail = f"opening {origin}"

    # -- status -------------------------------------------------------------------------------

    @property
    def status(self) -> FeedStatus:
        """The current state, position (event time of the last message released) and speed."""
        return self._status.snapshot()

    @property
    def on_status(self) -> StatusCallback | None:
        """Called with a new `FeedStatus` on every state, speed or detail change (not per message)."""
        return self._status.on_status

    @on_status.setter
    def on_status(self, callback: StatusCallback | None) -> None:
        self._status.on_status = callback

    @property
    def speed(self) -> float:
        """The current speed factor (``inf`` = as fast as possible)."""
        return self._speed

    @property
    def paused(self) -> bool:
        """Whether the replay is paused (released messages only via `step`)."""
        return self._paused

    def _detail(self) -> str:
        return "; ".join([f"replaying at {format_speed(self._speed)}", *(["looping"] if self.loop else []),
                          *self._pacing_notes()])

    def _pacing_notes(self) -> list[str]:
        parts = []
        if self._pacer.untimed:
            parts.append(f"no timestamps on {self._pacer.untimed} messages: paced evenly at "
                         f"{self.even_rate:g} msg/s × speed")
        capped = self._pacer.capped
        if capped:
            gaps = "gap" if capped == 1 else "gaps"
            parts.append(f"{capped} {gaps} over {self.max_gap:g} s shortened to {self.max_gap:g} s")
        return parts

    def _publish(self) -> None:
        tracker = self._status
        if tracker.state in ("finished", "stopped"):
            return
        tracker.speed = self._speed
        tracker.set_state("paused" if self._paused else "live", self._detail())

    # -- controls -----------------------------------------------------------------------------

    def _kick(self) -> None:
        if self._control is not None:
            _wake(self._control)

    def _now(self) -> float:
        return self._clock() if self._clock is not None else 0.0

    def pause(self) -> None:
        """Stop releasing messages until `resume` (or release some with `step`)."""
        if not self._paused:
            self._paused = True
            self._pause_started = self._now()
            self._publish()
            self._kick()

    def resume(self) -> None:
        """Continue at the current speed; the wait that was interrupted by the pause continues."""
        if self._paused:
            self._paused = False
            self._last_release += self._now() - self._pause_started
            self._publish()
            self._kick()

    def toggle_pause(self) -> bool:
        """Pause if playing, resume if paused; return whether the replay is now paused."""
        if self._paused:
            self.resume()
        else:
            self.pause()
        return self._paused

    def step(self, n: int = 1) -> None:
        """While paused, release the next ``n`` messages at once (ignored while playing)."""
        if self._paused and n > 0:
            self._steps += n
            self._kick()

    def set_speed(self, speed: float) -> None:
        """Change the speed factor (0.25..1000, or ``inf``); takes effect for the current wait too."""
        speed = check_speed(speed)
        if speed == self._speed:
            return
        if self._speed == math.inf:
            self._pacer.resync()
            self._last_release = self._now()
        self._speed = speed
        self._publish()
        self._kick()

    def seek(self, t: float) -> None:
        """Restart from the beginning and skip, unpaced, every message before event time ``t``.

        ``t`` is on the same scale as ``status.position``. The caller resets its counts: the
        messages that follow are those from ``t`` on (`epoch` is incremented).
        """
        self._seek_target = float(t)
        self._kick()

    def stop(self) -> None:
        """End `messages` at its next step (state "stopped")."""
        self._stopping = True
        self._kick()

    # -- the replay ---------------------------------------------------------------------------

    def _event_time(self, raw: RawMessage) -> float | None:
        if raw.recorded_at is not None:
            return raw.recorded_at
        if self._timestamp_of is None:
            return None
        try:
            ts = self._timestamp_of(raw)
        except Exception:  # a domain helper that should not raise, but a replay must not die of it
            return None
        if ts is None or not math.isfinite(ts):
            return None
        return float(ts)

    def _advance_position(self, ts: float | None) -> None:
        tracker = self._status
        if ts is not None:
            tracker.position = ts
        elif tracker.position is None:
            tracker.position = 0.0
        else:
            tracker.position += self._pacer.even_gap

    async def _wait_control(self, timeout: float | None) -> None:
        loop = asyncio.get_running_loop()
        future = self._control = loop.create_future()
        handle = loop.call_later(timeout, _wake, future) if timeout is not None else None
        try:
            await future
        finally:
            self._control = None
            if handle is not None:
                handle.cancel()

    def _interrupted(self) -> bool:
        return self._stopping or self._seek_target is not None

    async def _wait_turn(self, gap: float) -> None:
        """Wait until the message after ``gap`` event seconds is due (or paused and stepped)."""
        clock = self._clock
        assert clock is not None
        while not self._interrupted():
            if self._paused:
                if self._steps > 0:
                    self._steps -= 1
                    self._last_release = self._pause_started = clock()
                    return
                await self._wait_control(None)
                continue
            if self._speed == math.inf:
                self._last_release = clock()
                return
            due = self._last_release + gap / self._speed
            now = clock()
            if now >= due:
                self._last_release = due if now - due < CATCH_UP_LIMIT else now
                return
            await self._wait_control(due - now)

    async def messages(self) -> AsyncIterator[RawMessage]:
        """Yield the capture's messages at their paced times until it ends (or forever with ``loop``).

        An error from the source (e.g. `tui.ingest.capture.CaptureError`) sets state "stopped" with
        the error as detail, then propagates.
        """
        loop = asyncio.get_running_loop()
        self._clock = loop.time
        self._last_release = self._pause_started = loop.time()
        tracker = self._status
        tracker.set_state("paused" if self._paused else "live", self._detail())
        seek_to: float | None = None
        released_since_yield = 0
        try:
            while not self._stopping:
                self.epoch += 1
                self._pacer.resync()
                if self._seek_target is not None:
                    seek_to, self._seek_target = self._seek_target, None
                    tracker.position = None
                restart = False
                released = 0
                source = _aiter(self._factory())
                try:
                    async for raw in source:
                        if self._interrupted():
                            restart = True
                            break
                        if seek_to is not None:
                            ts = self._event_time(raw)
                            self._advance_position(ts)
                            if tracker.position is not None and tracker.position < seek_to:
                                released_since_yield += 1
                                if released_since_yield >= 4 * YIELD_EVERY:
                                    released_since_yield = 0
                                    await asyncio.sleep(0)
                                continue
                            seek_to = None
                            self._pacer.resync()
                            self._pacer.gap(ts)
                            self._last_release = loop.time()
                            await self._wait_turn(0.0)
                        elif self._speed == math.inf and not self._paused:
                            released_since_yield += 1
                            if released_since_yield >= YIELD_EVERY:
                                released_since_yield = 0
                                self._advance_position(self._event_time(raw))
                                await asyncio.sleep(0)
                                if self._interrupted():
                                    restart = True
                                    break
                            elif raw.recorded_at is not None:
                                tracker.position = raw.recorded_at
                            await self._wait_turn(0.0)  # honours a pause requested meanwhile
                        else:
                            ts = self._event_time(raw)
                            capped, untimed = self._pacer.capped, self._pacer.untimed
                            gap = self._pacer.gap(ts)
                            if self._pacer.capped != capped or (untimed == 0 and self._pacer.untimed):
                                self._publish()
                            await self._wait_turn(gap)
                            self._advance_position(ts)
                        if self._interrupted():
                            restart = True
                            break
                        tracker.messages += 1
                        released += 1
                        yield raw
                finally:
                    await source.aclose()
                if restart or self._seek_target is not None:
                    continue
                if not self.loop or released == 0:  # an empty capture must not loop hot
                    tracker.set_state("finished", "; ".join(
                        [f"end of {tracker.origin}: {tracker.messages} messages", *self._pacing_notes()]))
                    return
        except GeneratorExit:
            tracker.set_state("stopped", "replay closed")
            raise
        except asyncio.CancelledError:
            tracker.set_state("stopped", "replay cancelled")
            raise
        except Exception as exc:
            tracker.set_state("stopped", str(exc))
            raise
        if tracker.state not in ("finished", "stopped"):
            tracker.set_state("stopped", "stopped")
