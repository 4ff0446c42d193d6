"""How an outcome looks on screen: a symbol AND a colour (never colour alone), shared by every pane.

The colours are mid-luminance hex values chosen to stay readable on both the light and the dark
theme (a pure yellow vanishes on white, a dark blue on black). Text cells are built here as Rich
`Text` objects, never from markup: feed strings are shown literally (reliability.md §1).
"""

from __future__ import annotations

import time

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


def outcome_cell(outcome: str, with_label: bool = False) -> Text:
    """A table cell: the symbol (and label) in the outcome's colour."""
    symbol, label, style = OUTCOME_LOOK.get(outcome, _FALLBACK)
    return Text(f"{symbol} {label}" if with_label else symbol, style=style, end="", no_wrap=True)


def plain(value: object, style: str = "", justify: str | None = None) -> Text:
    """A literal text cell: `value` is never parsed as markup (the only way feed strings reach a table)."""
    text = Text("" if value is None else str(value), style=style, end="", no_wrap=True,
                overflow="ellipsis")
    if justify is not None:
        text.justify = justify  # type: ignore[assignment]
    return text


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
