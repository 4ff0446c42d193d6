"""How an outcome looks on screen: a symbol AND a colour (never colour alone), shared by every pane.

The colours are mid-luminance hex values chosen to stay readable on both the light and the dark
theme (a pure yellow vanishes on white, a dark blue on black). Text cells are built here as Rich
`Text` objects (`CellText`), never from markup: feed strings are shown literally (reliability.md §1).
"""

from __future__ import annotations

import time

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

#: outcome -> (symbol, short label, Rich style)
OUTCOME_LOOK: dict[str, tuple[str, str, str]] = {
    "success": ("✓", "success", "#2f9e44"),
    "expected_error": ("·", "expected", "#868e96"),
    "unexpected_client_error": ("✗", "client failure", "bold #e8590c"),
    "unexpected_server_error": ("‼", "server failure", "bold #e03131"),
    "unknown": ("?", "unknown", "bold #ae3ec9"),
    "no_reason": ("∅", "no reason", "bold #1c7ed6"),
}
_FALLBACK = ("?", "unknown", "bold #ae3ec9")


def outcome_symbol(outcome: str) -> str:
    """The one-character symbol of an outcome."""
    return OUTCOME_LOOK.get(outcome, _FALLBACK)[0]


def outcome_label(outcome: str) -> str:
    """A short English label of an outcome (`client failure`)."""
    return OUTCOME_LOOK.get(outcome, _FALLBACK)[1]


def outcome_style(outcome: str) -> str:
    """The (app-authored) Rich style of an outcome."""
    return OUTCOME_LOOK.get(outcome, _FALLBACK)[2]


class CellText(Text):
    """A one-line table cell: a Rich `Text` (literal, never markup) with a fast path for rendering.

    DataTable renders every visible cell again whenever anything in the table changes (its caches are
    keyed by an update counter), and Rich's general `Text` rendering (wrapping, dividing, justifying)
    cost ~120 µs a cell, against ~33 µs for this: cut to the width with "…", pad, one segment. A cell
    with spans (none of ours have them) takes the general path.
    """

    def cell(self) -> tuple[str, str | Style, str | None] | None:
        """(text, style, justify) for `BoundedTable`'s fast cell rendering; None: render as a Text."""
        if self._spans or "\n" in self.plain:
            return None
        return self.plain, self.style, self.justify

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self._spans or "\n" in self.plain:
            yield from super().__rich_console__(console, options)
            return
        style = self.style
        text = fit(self.plain, options.max_width, self.justify)
        yield Segment(text, console.get_style(style) if isinstance(style, str) else style) if style else Segment(text)


def fit(text: str, width: int, justify: str | None = None) -> str:
    """`text` cut to `width` cells with "…", or padded to it (right-justified when asked)."""
    size = cell_len(text)
    if size > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, max(0, width))
    if size < width:
        pad = " " * (width - size)
        return pad + text if justify == "right" else text + pad
    return text


def outcome_cell(outcome: str, with_label: bool = False) -> Text:
    """A table cell: the symbol (and label) in the outcome's colour."""
    symbol, label, style = OUTCOME_LOOK.get(outcome, _FALLBACK)
    return CellText(f"{symbol} {label}" if with_label else symbol, style=style, end="", no_wrap=True)


def plain(value: object, style: str = "", justify: str | None = None) -> Text:
    """A literal text cell: `value` is never parsed as markup (the only way feed strings reach a table)."""
    return CellText("" if value is None else str(value), style=style, end="", no_wrap=True,
                    overflow="ellipsis", justify=justify)  # type: ignore[arg-type]


def utc_time(ts: float, with_date: bool = False) -> str:
    """An event time in UTC (`10:41:02` or `2025-07-14 10:41:02.120Z`); `?` when it cannot be shown."""
    try:
        tm = time.gmtime(ts)
    except (OverflowError, OSError, ValueError, TypeError):
        return "?"
    if not with_date:
        return time.strftime("%H:%M:%S", tm)
    ms = int(round((ts - int(ts)) * 1000)) % 1000
    return time.strftime("%Y-%m-%d %H:%M:%S", tm) + f".{ms:03d}Z"
