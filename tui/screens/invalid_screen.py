"""The invalid-messages screen: every message that could not be decoded, with its cause and snippet.

Nothing received is dropped silently: what the decoder rejected is counted in the status bar and listed
here (line or frame number, cause, explanation, the start of the raw text). The table is bounded; the
dashboard appends new items with `append()` while the screen is open.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tui.domain.model import InvalidMessage
from tui.domain.sanitize import clean, clean_multiline

__all__ = ["InvalidScreen"]

#: Rows kept in the table (the aggregate keeps 1 000 invalid messages by default).
MAX_ROWS = 1_000


class InvalidScreen(Screen[None]):
    """A table of invalid messages (line/frame, cause, detail, snippet) and the highlighted one in full.

    Args:
        items: the invalid messages to show, oldest first (e.g. `Aggregate.recent_invalid`).
        max_rows: rows kept; older rows are dropped (and counted in the title) beyond it.
    """

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back", show=False),
    ]

    AUTO_FOCUS = "#invalid-table"

    DEFAULT_CSS = """
    InvalidScreen {
        layout: vertical;
    }
    InvalidScreen .screen-title {
        height: 1;
        padding: 0 1;
        background: $panel;
        text-style: bold;
    }
    InvalidScreen #invalid-table {
        height: 2fr;
    }
    InvalidScreen #invalid-detail-scroll {
        height: 1fr;
        border-top: solid $primary;
        padding: 0 1;
    }
    """

    def __init__(self, items: Sequence[InvalidMessage] = (), *, max_rows: int = MAX_ROWS) -> None:
        super().__init__()
        self.max_rows = max(1, max_rows)
        self.items: list[InvalidMessage] = list(items)[-self.max_rows:]
        """The messages shown, oldest first."""
        self.dropped = max(0, len(items) - self.max_rows)
        """Messages given to the screen but no longer shown (beyond `max_rows`)."""

    def compose(self) -> ComposeResult:
        yield Static(id="invalid-title", classes="screen-title")
        yield DataTable(id="invalid-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="invalid-detail-scroll"):
            yield Static(id="invalid-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#invalid-table", DataTable)
        table.add_column(Text("Line/frame"), key="seq")
        table.add_column(Text("Cause"), key="cause")
        table.add_column(Text("Detail"), key="detail")
        table.add_column(Text("Snippet"), key="snippet")
        table.add_rows(self._row(item) for item in self.items)
        self._update_title()
        self._show(0 if self.items else None)

    @staticmethod
    def _row(item: InvalidMessage) -> tuple[Text, Text, Text, Text]:
        return (
            Text(str(item.seq), justify="right"),
            Text(clean(item.cause, 40), style="bold"),
            Text(clean(item.detail, 120)),
            Text(clean(item.snippet, 120), style="dim"),
        )

    def append(self, items: Iterable[InvalidMessage]) -> None:
        """Add newer invalid messages at the bottom (the dashboard calls this on its refresh tick).

        The batch is trimmed to the cap before the table is touched; when the table would overflow it
        is rebuilt once (`remove_row` per row is O(n) each: reliability.md §4.5)."""
        new = list(items)
        if not new:
            return
        table = self.query_one("#invalid-table", DataTable)
        if len(self.items) + len(new) <= self.max_rows:
            self.items.extend(new)
            table.add_rows(self._row(item) for item in new)
        else:
            total = len(self.items) + len(new)
            keep = (self.items + new[-self.max_rows:])[-self.max_rows:]
            self.dropped += total - len(keep)
            self.items = keep
            row = table.cursor_row
            table.clear()
            table.add_rows(self._row(item) for item in self.items)
            table.move_cursor(row=min(max(row, 0), len(self.items) - 1))
        self._update_title()
        if len(self.items) == len(new):
            self._show(0)

    def _update_title(self) -> None:
        text = f"Invalid messages · {len(self.items)} shown"
        if self.dropped:
            text += f" · {self.dropped} older not shown"
        self.query_one("#invalid-title", Static).update(Content(text))

    @on(DataTable.RowHighlighted, "#invalid-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show(event.cursor_row)

    def _show(self, index: int | None) -> None:
        detail = self.query_one("#invalid-detail", Static)
        if index is None or not 0 <= index < len(self.items):
            detail.update(Content("No invalid messages: everything received was decoded."))
            return
        item = self.items[index]
        detail.update(
            Content.assemble(
                ("Line/frame ", "bold"), str(item.seq), "   ",
                ("Cause ", "bold"), clean(item.cause, 80), "\n",
                ("Detail ", "bold"), clean_multiline(item.detail, 2000), "\n",
                ("Snippet", "bold"), "\n",
                clean_multiline(item.snippet, 4000),
            )
        )

    def action_back(self) -> None:
        """Close the screen."""
        self.dismiss(None)
