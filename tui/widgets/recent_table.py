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
from tui.widgets.outcome import CellText, outcome_style, outcome_symbol, utc_time

#: (column key, label, width); the outcome symbol column carries the colour, the other cells are plain.
#: Fixed widths: a feed's 500-character id cannot widen a column, and new rows need no measuring (at max
#: replay speed a tick adds hundreds of rows). Longer values end with "…"; the detail shows them whole.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("outcome", " ", 1),
    ("time", "time (UTC)", 10),
    ("vendor", "vendor", 9),
    ("reason", "reason", 30),
    ("category", "category", 14),
    ("source", "ended by", 12),
    ("call", "call id", 36),
)
COLUMN_KEYS = tuple(key for key, _label, _width in COLUMNS)
#: Longest text kept per cell (the column width then cuts it with an ellipsis on screen).
CELL_LIMITS = {"vendor": 16, "reason": 44, "category": 20, "source": 20, "call": 40}


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cell_text(event: CallEnd, column: str, masker: Masker | None = None) -> tuple[str, str]:
    """(text, app style) of one cell of an event's row. With a `masker`, the call id and an uncatalogued
    source (an identity rather than a role such as CALLEE) are pseudonyms."""
    if column == "outcome":
        return outcome_symbol(event.outcome), outcome_style(event.outcome)
    if column == "time":
        return utc_time(event.ts), ""
    if column == "vendor":
        return clip(event.vendor, CELL_LIMITS["vendor"]), ""
    if column == "reason":
        return clip(event.reason_name, CELL_LIMITS["reason"]), ""
    if column == "category":
        return clip(event.category, CELL_LIMITS["category"]), ""
    if column == "source":
        source = event.source_name or event.source
        if masker is not None and event.source_name is None:
            source = masker.identity(source)
        return (clip(source, CELL_LIMITS["source"]) if source else "—"), ""
    call = event.call_id
    if masker is not None:
        call = masker.call_id(call)
    return (clip(call, CELL_LIMITS["call"]) if call else "—"), ""


class EventCell:
    """One cell of an event's row, formatted only when it is drawn.

    At max replay speed a tick adds hundreds of rows that are pushed out before they are ever on screen;
    building seven `Text` objects for each was a third of the tick. This holds a reference and turns
    into a literal `CellText` (never markup) through `__rich__` when DataTable renders it.
    """

    __slots__ = ("event", "column", "masker")

    def __init__(self, event: CallEnd, column: str, masker: Masker | None) -> None:
        self.event = event
        self.column = column
        self.masker = masker

    @property
    def plain(self) -> str:
        """The text shown."""
        return cell_text(self.event, self.column, self.masker)[0]

    def cell(self) -> tuple[str, str, None]:
        """(text, style, justify) for `BoundedTable`'s fast cell rendering."""
        text, style = cell_text(self.event, self.column, self.masker)
        return text, style, None

    def __rich__(self) -> Text:
        text, style = cell_text(self.event, self.column, self.masker)
        return CellText(text, style=style, end="", no_wrap=True, overflow="ellipsis")


def event_cells(event: CallEnd, masker: Masker | None = None) -> tuple[EventCell, ...]:
    """The row of one event (see `EventCell`)."""
    return tuple(EventCell(event, key, masker) for key in COLUMN_KEYS)


class RecentTable(BoundedTable[EventCell]):
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
        for key, label, width in COLUMNS:
            self.add_column(Text(label), key=key, width=width)

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
