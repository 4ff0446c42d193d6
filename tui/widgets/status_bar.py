"""`StatusBar`: two always-visible lines: where the data comes from and how healthy it is, then the counts.

Line 1: source, connection state (live / reconnecting in N s with the reason / stale / stopped: why),
replay position and speed, the PAUSED badge with "N new". Line 2: events/s, totals, unknown, no-reason
and invalid counters, and the active filter. Values from a feed (a close reason, a file name, the filter
text) are plain str parts of `Content.assemble`: never markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.widgets import Static

from tui.domain.aggregate import Totals
from tui.widgets.outcome import utc_time

#: state -> (symbol, word, style). Every state has a symbol: the colour is never the only signal.
STATE_LOOK: dict[str, tuple[str, str, str]] = {
    "connecting": ("◌", "connecting", "bold $warning"),
    "live": ("●", "live", "bold $success"),
    "reconnecting": ("↻", "reconnecting", "bold $warning"),
    "stale": ("◌", "stale", "bold $warning"),
    "paused": ("⏸", "paused", "bold $accent"),
    "finished": ("■", "finished", "bold $text-muted"),
    "stopped": ("■", "stopped", "bold $error"),
}


@dataclass(frozen=True, slots=True)
class StatusView:
    """Everything the status bar shows; equal views are not redrawn."""

    kind: str
    """demo, live or replay."""
    origin: str
    state: str
    detail: str = ""
    retry_in: float | None = None
    """Seconds left before the next connection attempt (reconnecting)."""
    position: float | None = None
    speed: str | None = None
    """Replay speed already formatted (`10×`, `max`)."""
    paused: bool = False
    new_while_paused: int = 0
    rate: float | None = None
    totals: Totals | None = None
    filter_text: str = ""
    filter_error: str | None = None
    error: str | None = None
    """The ingest worker failed: why."""
    masked: bool = False
    outages: int = 0
    """Times a working feed was lost (each one lost whatever was in flight)."""
    oversize: int = 0
    """Messages refused for being larger than the size limit."""


def _count(parts: list[str | tuple[str, str]], label: str, n: int, alert: bool = False) -> None:
    parts.append((f"{label} ", "$text-muted"))
    parts.append((f"{n:,}", "bold $warning" if alert and n else "bold"))
    parts.append("  ")


def status_content(view: StatusView) -> Content:
    """The two lines of the status bar."""
    symbol, word, style = STATE_LOOK.get(view.state, ("?", view.state, "bold"))
    if view.kind == "replay" and view.state == "live":
        symbol, word = "▶", "playing"
    parts: list[str | tuple[str, str]] = []
    if view.paused:
        # Replay: playback stopped. Live (and the demo, a live client): counting goes on, "N new".
        badge = " PAUSED " if view.kind == "replay" else f" PAUSED · {view.new_while_paused:,} new "
        parts += [(badge, "bold reverse $warning"), " "]
    if not (view.paused and view.state == "paused"):  # the badge already says it
        parts += [(f"{symbol} {word}", style)]
    if view.state == "reconnecting" and view.retry_in is not None:
        parts.append((f" in {max(0.0, view.retry_in):.0f} s", style))
    if view.detail and view.state in ("reconnecting", "stale", "stopped", "connecting"):
        parts += [": ", view.detail]
    parts += ["  │ ", (f"{view.kind} ", "$text-muted"), view.origin]
    if view.position is not None:
        parts += ["  │ ", utc_time(view.position, with_date=True)[:19] + "Z"]
    if view.speed is not None:
        parts += ["  │ ", ("speed ", "$text-muted"), (view.speed, "bold")]
    if view.masked:
        parts += ["  │ ", ("masked", "bold $accent")]
    parts.append("\n")
    if view.error:
        parts += [("✗ feed failed: ", "bold $error"), view.error, "  "]
    rate = "-" if view.rate is None else f"{view.rate:,.0f}"
    parts += [(f"{rate}", "bold"), (" ev/s  ", "$text-muted")]
    t = view.totals
    if t is not None:
        _count(parts, "events", t.events)
        _count(parts, "unknown", t.unknown, alert=True)
        _count(parts, "no reason", t.no_reason, alert=True)
        _count(parts, "invalid", t.invalid, alert=True)
    # Losses callwatch cannot prevent stay on screen once they happened (the state line only says what
    # is happening now): feeds lost, and messages refused for their size.
    if view.outages:
        _count(parts, "outages", view.outages, alert=True)
    if view.oversize:
        _count(parts, "too large", view.oversize, alert=True)
    if view.filter_error:
        parts += [("filter error: ", "bold $error"), view.filter_error]
    elif view.filter_text:
        parts += [("filter ", "$text-muted"), (view.filter_text, "bold $accent")]
    return Content.assemble(*parts)


class StatusBar(Static):
    """The status lines (docked at the top by app.tcss)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(Content(""), id=id, classes=classes)
        self.view: StatusView | None = None
        """What is shown."""

    def show(self, view: StatusView) -> None:
        """Redraw with `view` (nothing happens when it equals what is shown)."""
        if view == self.view:
            return
        self.view = view
        self.update(status_content(view), layout=False)  # two fixed lines: never a reason to relayout
        self.set_class(view.paused, "-paused")
        self.set_class(view.state in ("reconnecting", "stale", "stopped") or bool(view.error), "-offline")
