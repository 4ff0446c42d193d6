"""`RecentTable`: the recent disconnects, newest first, bounded, updated in one splice per refresh tick.

Follows the newest event while its cursor is on the top row and the view is scrolled to the top; once
the operator moves or scrolls away the view stays on the same rows (new rows are added above, the cursor
keeps its event) until `follow()` (`G`) or moving back to the top. Every cell is a literal Rich `Text`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.message import Message
from textual.widgets.data_table import RowKey

from tui.domain.mask import Masker
from tui.domain.model import CallEnd
from tui.widgets.bounded_table import BoundedTable
from tui.widgets.outcome import outcome_cell, plain, utc_time

#: (column key, label); the outcome symbol column carries the colour, the other cells are plain.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("outcome", " "),
    ("time", "time (UTC)"),
    ("vendor", "vendor"),
    ("reason", "reason"),
    ("category", "category"),
    ("source", "ended by"),
    ("call", "call id"),
)
#: Longest text shown per cell (the detail pane shows the whole value); keeps column widths sane
#: when a feed sends 500-character ids.
CELL_LIMITS = {"vendor": 16, "reason": 44, "category": 20, "source": 20, "call": 40}


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def event_cells(event: CallEnd, masker: Masker | None = None) -> tuple[Text, ...]:
    """The row of one event: literal Text cells (the outcome symbol coloured). With a `masker`, the
    call id and an uncatalogued source (an identity rather than a role such as CALLEE) are pseudonyms."""
    source = event.source_name or event.source
    call = event.call_id
    if masker is not None:
        call = masker.call_id(call)
        if event.source_name is None:
            source = masker.identity(source)
    return (
        outcome_cell(event.outcome),
        plain(utc_time(event.ts)),
        plain(clip(event.vendor, CELL_LIMITS["vendor"])),
        plain(clip(event.reason_name, CELL_LIMITS["reason"])),
        plain(clip(event.category, CELL_LIMITS["category"])),
        plain(clip(source, CELL_LIMITS["source"]) if source else "—"),
        plain(clip(call, CELL_LIMITS["call"]) if call else "—"),
    )


class RecentTable(BoundedTable[Text]):
    """Recent disconnects, newest first; at most `limit` rows."""

    class EventHighlighted(Message):
        """The operator highlighted another event (or the followed newest event changed)."""

        def __init__(self, event: CallEnd | None) -> None:
            super().__init__()
            self.event = event

    def __init__(self, limit: int = 500, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(cursor_type="row", id=id, classes=classes)
        self.limit = max(1, limit)
        """Most rows held."""
        self.masker: Masker | None = None
        """Set when masking is on (`--mask`): ids are shown as pseudonyms."""
        self._order: deque[RowKey] = deque()
        self._events: dict[RowKey, CallEnd] = {}
        self._next = 0
        self.trimmed = 0
        """Events that arrived in a batch too large to show (only the newest `limit` were added)."""

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(Text(label), key=key)

    # -- state --------------------------------------------------------------------------------

    @property
    def following(self) -> bool:
        """True while the newest event is highlighted at the top of the view."""
        return not self._order or (self.cursor_row == 0 and self.scroll_y == 0)

    @property
    def events(self) -> list[CallEnd]:
        """The events on screen, newest first."""
        return [self._events[key] for key in self._order]

    def current_event(self) -> CallEnd | None:
        """The highlighted event."""
        key = self.key_at(self.cursor_row) if self._order else None
        return self._events.get(key) if key is not None else None

    # -- updates ------------------------------------------------------------------------------

    def add_events(self, events: Sequence[CallEnd]) -> None:
        """Add `events` (oldest first) at the top. The overflow is trimmed before the table is touched:
        only the newest `limit` of the batch are formatted, and only as many old rows are removed as
        make room for them."""
        if not events:
            return
        if len(events) > self.limit:
            self.trimmed += len(events) - self.limit
            events = events[-self.limit:]
        following = self.following
        cursor_key = None if following else self.key_at(self.cursor_row)
        scroll_y = self.scroll_y
        overflow = len(self._order) + len(events) - self.limit
        removed = [self._order.pop() for _ in range(max(0, overflow))]
        for key in removed:
            del self._events[key]
        added = []
        masker = self.masker
        for event in events:
            key = RowKey(str(self._next))
            self._next += 1
            self._events[key] = event
            self._order.appendleft(key)
            added.append((key, event_cells(event, masker)))
        self.splice(removed, added, self._order)
        if following:
            self.move_cursor(row=0, scroll=False)
            self.scroll_to(y=0, animate=False, immediate=True)
        else:
            index = self.index_of(cursor_key) if cursor_key is not None else None
            if index is None:  # the highlighted event was trimmed: stay at the oldest row
                index = len(self._order) - 1
            self.move_cursor(row=index, scroll=False)
            self.scroll_to(y=scroll_y + len(events), animate=False, immediate=True)

    def replace_events(self, events: Iterable[CallEnd]) -> None:
        """Show exactly `events` (oldest first; the newest `limit` kept): after a filter change, a
        reset or masking. A one-off rebuild, not a per-tick path."""
        kept = list(events)[-self.limit:]
        removed = list(self._order)
        self._order.clear()
        self._events.clear()
        self.splice(removed, [], [])
        self.move_cursor(row=0, scroll=False)
        self.scroll_to(y=0, animate=False, immediate=True)
        self.add_events(kept)

    # -- navigation ---------------------------------------------------------------------------

    def follow(self) -> None:
        """Highlight the newest event and follow new ones (`G`)."""
        self.move_cursor(row=0, scroll=False)
        self.scroll_to(y=0, animate=False, immediate=True)

    def goto_oldest(self) -> None:
        """Highlight the oldest event on screen (`g`); stops following."""
        if self._order:
            self.move_cursor(row=len(self._order) - 1)

    def next_abnormal(self, older: bool = True) -> bool:
        """Move to the next event whose outcome is not success, going down (older) or up (newer).
        Return False when there is none in that direction."""
        step = 1 if older else -1
        index = self.cursor_row + step
        while 0 <= index < len(self._order):
            event = self._events[self._order[index]]
            if event.outcome != "success":
                self.move_cursor(row=index)
                return True
            index += step
        return False

    def on_data_table_row_highlighted(self, event: BoundedTable.RowHighlighted) -> None:
        if event.data_table is self:
            self.post_message(self.EventHighlighted(self._events.get(event.row_key)))
