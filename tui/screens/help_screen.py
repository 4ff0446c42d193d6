"""The help screen: every key of the app in one table, grouped, generated so it never drifts.

The rows are the documented ones the app passes (keys that are not bindings: Enter on a table, mouse
actions; or better words for a binding) plus every binding with a description found on the app class
and on the screen the help was opened from (their whole class hierarchy, as Textual merges them), so a
binding added to `BINDINGS` shows up here without anyone editing a help text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui.domain.sanitize import clean

__all__ = ["HelpRow", "HelpScreen", "binding_rows", "merge_rows", "node_binding_rows"]

#: One help row: (key as displayed, what it does, group).
HelpRow = tuple[str, str, str]

#: Group of the bindings Textual itself defines (focus moves, copy, quit).
TEXTUAL_GROUP = "Focus and system"

_KEY_SPLIT = re.compile(r"\s*(?:,|/|\bor\b)\s*")


def binding_rows(
    bindings: Iterable[BindingType],
    group: str,
    key_display: Callable[[Binding], str] | None = None,
) -> list[HelpRow]:
    """Help rows for `BINDINGS`-style entries. Keys bound to the same action and description share
    one row ("p, space"); bindings without a description are internal and skipped; a binding's own
    `group` (Binding.Group) wins over `group`."""
    display = key_display or (lambda b: b.key_display or b.key)
    merged: dict[tuple[str, str, str], list[str]] = {}
    for binding in Binding.make_bindings(bindings):
        if not binding.description:
            continue
        row_group = binding.group.description if binding.group is not None and binding.group.description else group
        keys = merged.setdefault((binding.action, binding.description, row_group), [])
        key = display(binding)
        if key not in keys:
            keys.append(key)
    return [(", ".join(keys), description, row_group) for (_a, description, row_group), keys in merged.items()]


def node_binding_rows(
    node_class: type[DOMNode],
    group: str,
    key_display: Callable[[Binding], str] | None = None,
    *,
    priority: bool | None = None,
) -> list[HelpRow]:
    """Help rows for every binding a DOM node class has, base classes included (a subclass's binding
    for the same key replaces the base class's, as in Textual). Bindings defined by Textual's own
    classes go to `TEXTUAL_GROUP`. `priority` True/False keeps only priority / ordinary bindings."""
    by_key: dict[str, tuple[Binding, str]] = {}
    for base in reversed(node_class.__mro__):
        if not (isinstance(base, type) and issubclass(base, DOMNode)):
            continue
        if not base.__dict__.get("_inherit_bindings", True):
            by_key.clear()
        own = base.__dict__.get("BINDINGS")
        if not own:
            continue
        base_group = TEXTUAL_GROUP if base.__module__.startswith("textual.") else group
        for binding in Binding.make_bindings(own):
            by_key[binding.key] = (binding, base_group)
    chosen = [(b, g) for b, g in by_key.values() if priority is None or b.priority == priority]
    rows: list[HelpRow] = []
    for base_group in dict.fromkeys(g for _b, g in chosen):
        rows.extend(binding_rows([b for b, g in chosen if g == base_group], base_group, key_display))
    return rows


def _key_tokens(key: str) -> set[str]:
    return {t.strip().lower() for t in _KEY_SPLIT.split(key) if t.strip()}


def merge_rows(documented: Sequence[HelpRow], generated: Iterable[HelpRow]) -> list[HelpRow]:
    """Documented rows first (they may describe a key better), then generated rows for keys not seen
    yet (so list the binding that wins first). Rows are grouped by first appearance of their group,
    Textual's own group last; the order within a group is kept."""
    seen: set[str] = set()
    rows: list[HelpRow] = []
    for row in documented:
        rows.append(row)
        seen |= _key_tokens(row[0])
    for key, description, group in generated:
        fresh = [k for k in (k.strip() for k in key.split(",")) if k and k.lower() not in seen]
        if not fresh:
            continue
        rows.append((", ".join(fresh), description, group))
        seen |= _key_tokens(key)
    order = list(dict.fromkeys(group for _k, _d, group in rows))
    if TEXTUAL_GROUP in order:
        order.remove(TEXTUAL_GROUP)
        order.append(TEXTUAL_GROUP)
    return sorted(rows, key=lambda r: order.index(r[2]))  # sorted() is stable


class HelpScreen(ModalScreen[None]):
    """Every key of the app in a table: documented rows plus the live bindings. Esc, q or ? closes.

    Args:
        rows: documented (key, description, group) rows, shown first.
        include_bindings: also list the bindings of the app and of the screen underneath.
        app_group: group name for the app's own bindings.
        screen_group: group name for the bindings of the screen underneath.
        title: the dialog's title.
    """

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen #help-dialog {
        width: 90%;
        max-width: 110;
        height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen #help-title {
        height: 1;
        text-style: bold;
    }
    HelpScreen #help-table {
        height: 1fr;
    }
    HelpScreen #help-hint {
        height: 1;
        color: $text-muted;
    }
    """

    def __init__(
        self,
        rows: Sequence[HelpRow] = (),
        *,
        include_bindings: bool = True,
        app_group: str = "General",
        screen_group: str = "This screen",
        title: str = "Keys",
    ) -> None:
        super().__init__()
        self.documented: tuple[HelpRow, ...] = tuple(rows)
        """The rows the app documented."""
        self.include_bindings = include_bindings
        self.app_group = app_group
        self.screen_group = screen_group
        self.title_text = title
        self.rows: list[HelpRow] = []
        """The rows shown (after merging), for tests and exports."""

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static(Content(clean(self.title_text, 200)), id="help-title")
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
            yield Static(Content("Esc, q or ? closes · ↑↓ PgUp PgDn scroll"), id="help-hint")

    def collect_rows(self) -> list[HelpRow]:
        """The documented rows merged with the live bindings of the app and the screen underneath."""
        generated: list[HelpRow] = []
        if self.include_bindings:
            app: App[object] = self.app
            below = next((s for s in reversed(app.screen_stack) if s is not self), None)
            show = app.get_key_display
            # The order bindings win in: the app's priority bindings, the screen's, then the app's.
            generated += node_binding_rows(type(app), self.app_group, show, priority=True)
            if below is not None:
                generated += node_binding_rows(type(below), self.screen_group, show)
            generated += node_binding_rows(type(app), self.app_group, show, priority=False)
        return merge_rows(self.documented, generated)

    def on_mount(self) -> None:
        self.rows = self.collect_rows()
        table = self.query_one("#help-table", DataTable)
        table.add_column(Text("Group"), key="group")
        table.add_column(Text("Key"), key="key")
        table.add_column(Text("Action"), key="action")
        previous = None
        for key, description, group in self.rows:
            shown_group = Text(clean(group, 60), style="bold") if group != previous else Text("")
            previous = group
            table.add_row(shown_group, Text(clean(key, 60), style="bold"), Text(clean(description, 300)))
        if not self.rows:
            table.add_row(Text(""), Text(""), Text("(no keys)"))
        table.focus()

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
