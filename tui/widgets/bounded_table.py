"""`BoundedTable`: a DataTable that adds, removes and reorders many rows in one O(rows) step.

Why (performance-notes.md §4, reliability.md §4.5): DataTable appends rows only at the bottom, and
`remove_row` rebuilds the whole row-location map and relayouts on every call, so evicting a tick's
overflow one row at a time is O(n²) (measured: a 20,000-event burst froze the loop for 290 s). Textual
has no bulk removal (Textualize/textual#5273, open). `splice()` does what `remove_row`, `add_row` and
`sort` do to the table's bookkeeping, once per tick: drop the removed rows, add the new ones, then set
every row's position from one ordered list of keys (newest first for the recent table, count order for
the reasons). Cells are never re-measured except for new rows, and the table is never cleared.

This touches DataTable internals (`_row_locations`, `_data`, `_new_rows`, `_updated_cells`,
`_update_count`). textual is pinned exactly (==8.2.8) in pyproject.toml, and tests/test_app.py checks
the result through the public API (`get_row_at`, `row_count`, `ordered_rows`), so an upgrade that
changes them fails a test instead of corrupting the screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from textual._two_way_dict import TwoWayDict
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, CellType, Row, RowKey


class BoundedTable(DataTable[CellType]):
    """A row-cursor DataTable whose rows are spliced in bulk (see the module docstring)."""

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
            if cells is not None:
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

    def key_at(self, index: int) -> RowKey | None:
        """The key of the row shown at `index`, or None."""
        return self._row_locations.get_key(index)

    def index_of(self, key: RowKey) -> int | None:
        """The position of the row with `key`, or None if it is not in the table."""
        return self._row_locations.get(key)
