"""`ReasonTable`: counts per reason (or category, outcome, vendor, source) over a window, with trends.

Rows come from an `Update` (pre-counted by the aggregate); `rows_for()` turns them into display rows for
the chosen window and grouping, and `ReasonTable.show()` applies them incrementally: `update_cell` for
the cells that changed, one `splice()` for rows that appear, vanish or move. Spiking reasons are marked
▲ and reasons seen for the first time ★ (markers are symbols, not colours only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widgets.data_table import RowKey

from tui.domain.aggregate import Aggregate, Flag, ReasonKey, ReasonRow, Update
from tui.widgets.bounded_table import BoundedTable
from tui.widgets.outcome import CellText, outcome_label, outcome_style, outcome_symbol
from tui.widgets.recent_table import clip

#: Window name -> seconds (None = the whole session).
WINDOW_SECONDS: dict[str, int | None] = {"1m": 60, "5m": 300, "15m": 900, "session": None}
#: Trend buckets per sparkline, and the most second-buckets read per trend refresh (a budget that keeps
#: a refresh under ~20 ms whatever the window; rows beyond it keep their previous trend).
TREND_BUCKETS = 12
TREND_BUDGET = 40_000
#: Most rows shown (distinct unknown codes from a hostile feed are capped by the aggregate too).
ROW_LIMIT = 200

#: Every column has a fixed width: the ones whose values grow in place (counts up to 999,999 fit; a full
#: sparkline) because update_cell never widens a column, and the text ones because measuring auto-width
#: columns depended on when DataTable's idle pass ran (a snapshot caught them header-wide once in ~10
#: runs) and costs a pass over new rows. Longer names end with "…".
_FIXED_WIDTHS = {"flag": 1, "outcome": 1, "name": 30, "vendor": 9, "category": 14,
                 "count": 7, "share": 6, "change": 7, "trend": TREND_BUCKETS, "total": 7}

SPIKE = "▲"
FIRST_SEEN = "★"
_BARS = " ▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[int]) -> str:
    """A text sparkline scaled to its own maximum; a zero is a blank, any non-zero at least ▁."""
    top = max(values, default=0)
    if top <= 0:
        return " " * len(values)
    return "".join(_BARS[0] if v <= 0 else _BARS[max(1, min(8, round(v * 8 / top)))] for v in values)


def signed(n: int) -> str:
    return f"+{n:,}" if n > 0 else f"{n:,}"


@dataclass(frozen=True, slots=True)
class DisplayRow:
    """One row of the table for a window and grouping, before it becomes cells."""

    key: str
    label: str
    vendor: str
    category: str
    outcome: str | None
    count: int
    """Events in the window (the session count for "session")."""
    change: int | None
    """Against the window before (None for "session" and for groupings without windows)."""
    total: int
    """Session count."""
    members: tuple[ReasonKey, ...]
    """The reason keys counted in this row (for markers and trends)."""
    name: str | None = None
    """Reason grouping: the catalog name (None when unknown), and the raw code as counted (for exports)."""
    code: str | None = None
    subcode: str | None = None
    namespace: str | None = None
    known: bool | None = None


def _window_index(window: str, aggregate_windows: Sequence[int]) -> int | None:
    seconds = WINDOW_SECONDS.get(window)
    if seconds is None or seconds not in aggregate_windows:
        return None
    return list(aggregate_windows).index(seconds)


def rows_for(update: Update, window: str, group_by: str, aggregate_windows: Sequence[int],
             keep: Callable[[ReasonRow], bool] | None = None) -> list[DisplayRow]:
    """Display rows for `window` and `group_by`, sorted by window count, then session count, then name.

    `keep` (a filter's `matches_row`) restricts the reason rows before grouping; it does not apply to
    the source grouping (sources are counted without their reasons).
    """
    wi = _window_index(window, aggregate_windows)
    reasons = [r for r in update.reasons if keep is None or keep(r)]
    out: list[DisplayRow] = []
    if group_by == "reason":
        for r in reasons:
            count = r.count if wi is None else r.windows[wi]
            change = None if wi is None else r.changes[wi]
            out.append(DisplayRow(repr(r.key), r.label, r.vendor, r.category, r.outcome, count, change,
                                  r.count, (r.key,), r.name, r.code, r.subcode, r.namespace, r.known))
    elif group_by in ("category", "outcome", "vendor"):
        groups: dict[str, list[ReasonRow]] = {}
        for r in reasons:
            groups.setdefault(getattr(r, group_by), []).append(r)
        for name, members in groups.items():
            count = sum(r.count if wi is None else r.windows[wi] for r in members)
            change = None if wi is None else sum(r.changes[wi] for r in members)
            outcome = name if group_by == "outcome" else None
            out.append(DisplayRow(name, name, "", "", outcome, count, change,
                                  sum(r.count for r in members), tuple(r.key for r in members)))
    else:  # source: session counts only
        for g in update.by_source:
            out.append(DisplayRow(g.name, g.name, "", "", None, g.count, None, g.count, ()))
    out.sort(key=lambda d: (-d.count, -d.total, d.label, d.key))
    return out


def _columns(group_by: str, window: str) -> list[tuple[str, str]]:
    count_label = "session" if window == "session" else window
    head = [("flag", " ")]
    if group_by == "reason":
        head += [("outcome", " "), ("name", "reason"), ("vendor", "vendor"), ("category", "category")]
    elif group_by == "outcome":
        head += [("outcome", " "), ("name", "outcome")]
    else:
        head += [("name", group_by)]
    # Most telling first (the count and its trend), so a narrow pane cuts the least useful column.
    tail = [("count", count_label)]
    if group_by != "source":
        tail += [("trend", "trend")]
    if group_by != "source" and window != "session":
        tail += [("change", "Δ prev")]
    tail += [("share", "share")]
    if window != "session":
        tail += [("total", "session")]
    return head + tail


class ReasonTable(BoundedTable[Text]):
    """Counts per reason or group for the current window; markers for spikes and new reasons."""

    def __init__(self, window: str = "5m", group_by: str = "reason", *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(cursor_type="row", id=id, classes=classes)
        self.window = window
        """1m, 5m, 15m or session."""
        self.group_by = group_by
        """reason, category, outcome, vendor or source."""
        self._columns: list[tuple[str, str]] = []
        self._raw: dict[RowKey, tuple[tuple[str, str], ...]] = {}
        self._order: list[RowKey] = []
        self._rows: dict[RowKey, DisplayRow] = {}
        self._trends: dict[str, str] = {}
        self.first_seen: dict[ReasonKey, float] = {}
        """Reasons flagged first-seen, with the event time of the flag (bounded by the aggregate's caps)."""
        self.spiking: set[ReasonKey] = set()
        """Reasons with an active spike flag."""
        self.head: int | None = None

    def on_mount(self) -> None:
        self._set_columns()

    def _set_columns(self) -> None:
        self._columns = _columns(self.group_by, self.window)
        self.clear(columns=True)
        self._raw.clear()
        self._order = []
        self._rows.clear()
        for key, label in self._columns:
            justify = "right" if key in ("count", "share", "change", "total") else "left"
            # Cells that change in place (update_cell) never widen an auto-sized column: give them room.
            width = _FIXED_WIDTHS.get(key)
            if width is not None:
                width = max(width, len(label))
            self.add_column(Text(label, justify=justify), key=key, width=width)  # type: ignore[arg-type]

    def configure(self, window: str, group_by: str) -> None:
        """Switch window or grouping: the columns change, so the table is rebuilt (once, on a key)."""
        if (window, group_by) != (self.window, self.group_by):
            self.window, self.group_by = window, group_by
            self._trends.clear()
            self._set_columns()

    # -- flags --------------------------------------------------------------------------------

    def note_flags(self, new_flags: Iterable[Flag], active: Iterable[Flag], now: int | None) -> None:
        """Remember first-seen flags and the spikes active now."""
        for flag in new_flags:
            if flag.kind == "first_seen":
                self.first_seen[flag.key] = flag.started
        self.spiking = {f.key for f in active if f.kind == "spike"}
        self.head = now

    def reset_flags(self) -> None:
        self.first_seen.clear()
        self.spiking.clear()
        self._trends.clear()

    def _marker(self, row: DisplayRow) -> tuple[str, str]:
        if any(k in self.spiking for k in row.members):
            return SPIKE, "bold #e03131"
        seconds = WINDOW_SECONDS.get(self.window) or 900
        for k in row.members:
            started = self.first_seen.get(k)
            if started is not None and (self.head is None or started >= self.head - seconds):
                return FIRST_SEEN, "bold #1c7ed6"
        return "", ""

    # -- trends -------------------------------------------------------------------------------

    def refresh_trends(self, aggregate: Aggregate, rows: Sequence[DisplayRow] | None = None) -> None:
        """Recompute the sparklines of `rows` (default: those shown), in order, within `TREND_BUDGET`
        bucket reads. Called at most about once a second: a trend moves with whole seconds of event time.
        """
        if self.group_by == "source":
            return
        seconds = WINDOW_SECONDS.get(self.window) or aggregate.horizon_s
        if not seconds:
            return
        step = max(1, seconds // TREND_BUCKETS)
        budget = TREND_BUDGET
        for row in (self.display_rows if rows is None else rows[:ROW_LIMIT]):
            cost = step * TREND_BUCKETS * max(1, len(row.members))
            if cost > budget:
                break
            budget -= cost
            total = [0] * TREND_BUCKETS
            for member in row.members:
                for i, v in enumerate(aggregate.sparkline(member, TREND_BUCKETS, step)):
                    total[i] += v
            self._trends[row.key] = sparkline(total)

    # -- rows ---------------------------------------------------------------------------------

    def _raw_cells(self, row: DisplayRow, share_total: int) -> tuple[tuple[str, str], ...]:
        cells: list[tuple[str, str]] = []
        for key, _label in self._columns:
            if key == "flag":
                cells.append(self._marker(row))
            elif key == "outcome":
                outcome = row.outcome or ""
                cells.append((outcome_symbol(outcome), outcome_style(outcome)) if outcome else ("", ""))
            elif key == "name":
                label = outcome_label(row.label) if self.group_by == "outcome" else row.label
                cells.append((clip(label, 34), ""))
            elif key == "vendor":
                cells.append((clip(row.vendor, 16), ""))
            elif key == "category":
                cells.append((clip(row.category, 16), ""))
            elif key == "count":
                cells.append((f"{row.count:,}", "bold"))
            elif key == "share":
                share = 100.0 * row.count / share_total if share_total else 0.0
                cells.append((f"{share:.1f}%", ""))
            elif key == "change":
                if row.change is None:
                    cells.append(("", ""))
                else:
                    style = "bold #e03131" if row.change > 0 else ("#2f9e44" if row.change < 0 else "")
                    cells.append((signed(row.change), style))
            elif key == "trend":
                cells.append((self._trends.get(row.key, ""), "#1c7ed6"))
            elif key == "total":
                cells.append((f"{row.total:,}", ""))
        return tuple(cells)

    def _text(self, column: str, raw: tuple[str, str]) -> Text:
        justify = "right" if column in ("count", "share", "change", "total") else "left"
        return CellText(raw[0], style=raw[1], justify=justify, end="", no_wrap=True,  # type: ignore[arg-type]
                        overflow="ellipsis")

    def show(self, rows: Sequence[DisplayRow], trends_from: Aggregate | None = None) -> None:
        """Make the table show `rows` (in order, at most `ROW_LIMIT`), touching only what changed;
        with `trends_from`, their sparklines are recomputed first."""
        rows = rows[:ROW_LIMIT]
        if trends_from is not None:
            self.refresh_trends(trends_from, rows)
        share_total = sum(r.count for r in rows)
        columns = [key for key, _ in self._columns]
        new_order = [RowKey(r.key) for r in rows]
        wanted = dict(zip(new_order, rows))
        cursor_key = self.key_at(self.cursor_row) if self._order else None
        removed = [k for k in self._order if k not in wanted]
        added = []
        changed: list[tuple[RowKey, str, Text]] = []
        for key, row in wanted.items():
            raw = self._raw_cells(row, share_total)
            old = self._raw.get(key)
            if old is None:
                added.append((key, [self._text(c, v) for c, v in zip(columns, raw)]))
            elif old != raw:
                for c, v, o in zip(columns, raw, old):
                    if v != o:
                        changed.append((key, c, self._text(c, v)))
            self._raw[key] = raw
        for key in removed:
            self._raw.pop(key, None)
        self._rows = wanted
        if removed or added or new_order != self._order:
            self._order = new_order
            self.splice(removed, added, new_order)
            if cursor_key is not None and cursor_key in wanted:
                self.move_cursor(row=self.index_of(cursor_key), scroll=False)
        for key, column, text in changed:
            self.update_cell(key, column, text)

    def current_row(self) -> DisplayRow | None:
        """The highlighted row."""
        key = self.key_at(self.cursor_row) if self._order else None
        return self._rows.get(key) if key is not None else None

    @property
    def display_rows(self) -> list[DisplayRow]:
        """The rows shown, in order."""
        return [self._rows[k] for k in self._order]
