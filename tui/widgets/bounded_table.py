"""`BoundedTable`: a DataTable that adds, removes and reorders many rows in one O(rows) step.

Why (performance-notes.md §4, reliability.md §4.5): DataTable appends rows only at the bottom, and
`remove_row` rebuilds the whole row-location map and relayouts on every call, so evicting a tick's
overflow one row at a time is O(n²) (measured: a 20,000-event burst froze the loop for 290 s). Textual
has no bulk removal (Textualize/textual#5273, open). `splice()` does what `remove_row`, `add_row` and
`sort` do to the table's bookkeeping, once per tick: drop the removed rows, add the new ones, then set
every row's position from one ordered list of keys (newest first for the recent table, count order for
the reasons). Cells are never re-measured except for new rows, and the table is never cleared.

This touches DataTable internals (`_row_locations`, `_data`, `_new_rows`, `_updated_cells`,
`_update_count`, and `_update_dimensions` for tables whose columns all have fixed widths). textual is pinned exactly (==8.2.8) in pyproject.toml, and tests/test_app.py checks
the result through the public API (`get_row_at`, `row_count`, `ordered_rows`), so an upgrade that
changes them fails a test instead of corrupting the screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual._two_way_dict import TwoWayDict
from textual._types import SegmentLines
from textual.cache import LRUCache
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, CellType, Row, RowKey

from tui.widgets.outcome import fit


class BoundedTable(DataTable[CellType]):
    """A row-cursor DataTable whose rows are spliced in bulk (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # DataTable's render caches hold up to 1,000 rows / lines and 10,000 cells each. A bounded
        # table that changes every tick never reuses most of them, and every live entry is scanned
        # again by each full garbage collection (pauses grew to 120 ms over a replay): keep a few
        # screens' worth.
        self._row_render_cache = LRUCache(200)
        self._line_cache = LRUCache(200)
        self._row_renderable_cache = LRUCache(200)
        self._cell_render_cache = LRUCache(1000)

    def splice(
        self,
        removed: Iterable[RowKey],
        added: Iterable[tuple[RowKey, Sequence[CellType]]],
        order: Sequence[RowKey],
    ) -> None:
        """Remove `removed`, add `added` (key, cells) and lay the rows out in `order` (every key, once).

        The caller moves the cursor afterwards if it wants to keep it on a given row.
        """
        rows = self.rows
        data = self._data
        updated = self._updated_cells
        new_rows = self._new_rows
        for key in removed:
            cells = data.pop(key, None)
            if cells is not None and updated:
                for column_key in cells:
                    updated.discard(CellKey(key, column_key))
            rows.pop(key, None)
            new_rows.discard(key)
        column_keys = [column.key for column in self.ordered_columns]
        for key, cells in added:
            data[key] = dict(zip(column_keys, cells))
            rows[key] = Row(key, 1, None, False)
            new_rows.add(key)
        if len(order) != len(rows):
            raise ValueError(f"order has {len(order)} keys for {len(rows)} rows")
        self._row_locations = TwoWayDict({key: index for index, key in enumerate(order)})
        self._require_update_dimensions = True
        self._update_count += 1
        # Keep the scrollable height right now (it is otherwise fixed at the next idle), so that a
        # scroll position set in the same tick is not clamped to the old height.
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(self.virtual_size.width, len(order) + header)
        self.check_idle()
        self.refresh()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """DataTable measures every cell of every new row at the next idle, to size auto-width columns:
        at max replay speed that was 500 rows x 7 cells a tick for rows that mostly scroll away unseen.
        When every column has a fixed width (and every row height 1) there is nothing to learn from
        measuring: only the scrollable size is set."""
        columns = self.columns.values()
        if any(column.auto_width for column in columns) or any(row.auto_height for row in self.rows.values()):
            super()._update_dimensions(new_rows)
            return
        header = self.header_height if self.show_header else 0
        width = sum(column.get_render_width(self) for column in columns) + self._row_label_column_width
        self.virtual_size = Size(width, len(self.rows) + header)

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> SegmentLines:
        """DataTable renders every visible cell again after any change (its caches are keyed by an
        update counter), each through Rich (`Styled(Padding(cell))` -> `render_lines`): ~100 µs a cell,
        most of a frame. A one-line body cell whose value offers `cell()` -> (text, style, justify) is
        built here directly as padding + one segment + padding, with the same pre/post styles the
        DataTable applies; anything else (headers, labels, other values) takes the normal path."""
        if row_index < 0 or column_index < 0:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        cache_key = (row_key, column_key, base_style, cursor, hover, self._show_hover_cursor,
                     self._update_count, self._pseudo_class_state)
        cache = self._cell_render_cache
        lines = cache.get(cache_key)
        if lines is not None:
            return lines
        row = self.rows.get(row_key) if row_key is not None else None
        cells = self._data.get(row_key) if row_key is not None else None
        value = cells.get(column_key) if cells is not None and column_key is not None else None
        fast = getattr(value, "cell", None)
        parts = fast() if fast is not None and row is not None and row.height == 1 else None
        if parts is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        text, style, justify = parts
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, fixed, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
        cell_style = pre + (self.app.console.get_style(style) if isinstance(style, str) else style) + post_style \
            if style and text else pre + post_style  # DataTable draws an empty cell unstyled
        pad = self.cell_padding
        edge = Segment(" " * pad, pre + post_style)
        body = Segment(fit(text, max(0, width - 2 * pad), justify), cell_style)
        # Not cached: building it costs about what a cache lookup does, and the 10,000-entry cell cache
        # only filled the heap with renders that the next tick's update counter makes stale (every live
        # object is scanned again by each full garbage collection: pauses grew to 190 ms).
        return [[edge, body, edge] if pad else [body]]

    def key_at(self, index: int) -> RowKey | None:
        """The key of the row shown at `index`, or None."""
        return self._row_locations.get_key(index)

    def index_of(self, key: RowKey) -> int | None:
        """The position of the row with `key`, or None if it is not in the table."""
        return self._row_locations.get(key)
