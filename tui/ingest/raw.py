"""What every source yields (`RawMessage`) and reports (`FeedStatus`), and the helper that keeps it.

A source is any object with ``async def messages(self) -> AsyncIterator[RawMessage]``, a ``status``
attribute (a `FeedStatus`) and an optional ``on_status`` callback called on every state change.
Counters that move per message (``messages``, ``position``) are read from ``status`` when the caller
wants them (e.g. at a UI refresh tick); ``on_status`` is not called per message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

FeedState = Literal["connecting", "live", "reconnecting", "stale", "paused", "finished", "stopped"]


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One undecoded message as it arrived: a capture line, a websocket frame or a parsed document."""

    seq: int
    """1-based line number, frame number or element/document index within its source."""
    data: bytes | str | object
    """bytes/str: undecoded text; any other object: already parsed (a .json element, a YAML document)."""
    received: float
    """time.time() when the message was read or received."""
    recorded_at: float | None = None
    """When replaying a callwatch recording: the time the frame was originally received."""
    oversize: int = 0
    """If > 0 the message was longer than the reader's cap: ``data`` is empty and this is its length."""


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """A snapshot of a source's state, safe to show: no field ever contains a token."""

    state: FeedState
    detail: str = ""
    """Why the source is in this state (e.g. "closed by server: 1001 going away")."""
    retry_in: float | None = None
    """Seconds until the next connection attempt (state "reconnecting"), else None."""
    since: float = 0.0
    """time.time() when the source entered this state."""
    outages: int = 0
    """How many times a working feed was lost."""
    messages: int = 0
    """Messages delivered so far."""
    origin: str = ""
    """URL (credentials and query removed) or file name."""
    position: float | None = None
    """Replay: the event time of the last message released."""
    speed: float | None = None
    """Replay: the speed factor (``inf`` = as fast as possible)."""
    oversize: int = 0
    """Messages rejected for being larger than the size limit."""


StatusCallback = Callable[[FeedStatus], None]


class StatusTracker:
    """Holds a source's mutable state and builds `FeedStatus` snapshots from it.

    Per-message counters are plain attributes a source increments cheaply; `set_state` (and
    `changed`) publish a snapshot to ``on_status``. ``since`` changes only when the state does.
    """

    __slots__ = (
        "state", "detail", "retry_in", "since", "outages", "messages", "origin",
        "position", "speed", "oversize", "on_status",
    )

    def __init__(self, origin: str, state: FeedState = "connecting", *, speed: float | None = None,
                 on_status: StatusCallback | None = None) -> None:
        self.state: FeedState = state
        self.detail = ""
        self.retry_in: float | None = None
        self.since = time.time()
        self.outages = 0
        self.messages = 0
        self.origin = origin
        self.position: float | None = None
        self.speed = speed
        self.oversize = 0
        self.on_status = on_status

    def snapshot(self) -> FeedStatus:
        """The current state as an immutable `FeedStatus`."""
        return FeedStatus(
            state=self.state, detail=self.detail, retry_in=self.retry_in, since=self.since,
            outages=self.outages, messages=self.messages, origin=self.origin,
            position=self.position, speed=self.speed, oversize=self.oversize,
        )

    def set_state(self, state: FeedState, detail: str | None = None, *,
                  retry_in: float | None = None) -> None:
        """Enter ``state`` (keeping ``detail`` when None is given) and notify ``on_status``."""
        if state != self.state:
            self.since = time.time()
        self.state = state
        if detail is not None:
            self.detail = detail
        self.retry_in = retry_in
        self.changed()

    def changed(self) -> None:
        """Publish the current snapshot to ``on_status`` (if any)."""
        if self.on_status is not None:
            self.on_status(self.snapshot())


def printable(text: str, limit: int = 200) -> str:
    """Peer-supplied text (a close reason, an error) made single-line and bounded for a status detail.

    Control and non-printable characters become ``\\xNN``/``\\uNNNN`` escapes. This is not the UI
    sanitizer (which the domain owns); it keeps status details short and one line wherever shown.
    """
    if len(text) > limit:
        text = text[:limit] + f"…[+{len(text) - limit} chars]"
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
