"""`InvalidTable`: the messages that could not be decoded (newest first), with cause and a raw snippet.

Invalid messages are counted, never dropped silently; this pane (key `i`) lists the recent ones the
aggregate keeps. Every cell is a literal `Text`: the snippet is hostile input by definition.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import DataTable

from tui.domain.model import InvalidMessage
from tui.widgets.outcome import plain, utc_time
from tui.widgets.recent_table import clip

COLUMNS: tuple[tuple[str, str], ...] = (
    ("seq", "#"),
    ("time", "received (UTC)"),
    ("cause", "cause"),
    ("detail", "detail"),
    ("snippet", "raw"),
)


class InvalidTable(DataTable[Text]):
    """Recent invalid messages, newest first (rebuilt when shown; small and rarely updated)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(cursor_type="row", id=id, classes=classes)

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(Text(label), key=key)

    def show(self, invalid: Iterable[InvalidMessage]) -> None:
        """Show `invalid` (oldest first, as the aggregate keeps them), newest on top."""
        self.clear()
        rows = [
            (plain(f"{m.seq}", justify="right"), plain(utc_time(m.received)), plain(clip(m.cause, 24)),
             plain(clip(m.detail, 60)), plain(clip(m.snippet, 120)))
            for m in reversed(list(invalid))
        ]
        self.add_rows(rows)
