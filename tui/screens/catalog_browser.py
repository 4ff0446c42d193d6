"""The catalog browser: every vendor's entries with search and detail, and the cross-vendor map.

Needs nothing but a `Catalogs`: it works with no feed at all (`callwatch` can open it from the demo,
a replay or a live session alike). Catalog text is untrusted (user catalogs), so every cell is a
`rich.text.Text` and the detail is a `Content` built from literal text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane

from tui.domain.catalog import CLASS_NAMESPACE, Catalogs, normalize_name
from tui.domain.model import Entry
from tui.domain.sanitize import clean
from tui.screens.detail_screen import render_entry_detail

__all__ = ["CatalogScreen", "CatalogQuery", "parse_catalog_query"]

#: Field terms the search box understands (anything else is free text).
QUERY_FIELDS = {
    "vendor": "vendor",
    "category": "category",
    "cat": "category",
    "outcome": "outcome",
    "namespace": "namespace",
    "ns": "namespace",
    "code": "code",
}

#: Entries table columns: (label, key, width or None for the content's width).
COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("Vendor", "vendor", 9),
    ("Code", "code", 12),
    ("Name", "name", 30),
    ("Category", "category", 18),
    ("Outcome", "outcome", 23),
    ("Namespace", "namespace", None),
)

#: Terminal width from which the name column shows whole names.
WIDE = 120

#: Cross-vendor map column widths (category, each vendor).
MAP_CATEGORY_WIDTH = 18
MAP_VENDOR_WIDTH = 32

_TOKEN = re.compile(r'(?:(\w+):)?(?:"([^"]*)"?|(\S+))')


@dataclass(frozen=True, slots=True)
class CatalogQuery:
    """A parsed search: free words (all must appear) and field terms (same field ORs)."""

    words: tuple[str, ...] = ()
    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def matches(self, entry: Entry, haystack: str) -> bool:
        """Whether `entry` (with its precomputed lower-case `haystack`) passes."""
        for field, values in self.fields:
            if field == "code":
                codes = {entry.code.lower()}
                if entry.subcode is not None:
                    codes.add(f"{entry.code}/{entry.subcode}".lower())
                if not codes.intersection(values):
                    return False
            else:
                actual = str(getattr(entry, field, "")).lower()
                if not any(v in actual for v in values):
                    return False
        return all(word in haystack for word in self.words)


def parse_catalog_query(text: str) -> CatalogQuery:
    """Parse the search box: words, "quoted phrases", and vendor:/category:/outcome:/namespace:/code:
    terms. Forgiving by design: an unknown `x:` is just text. Never raises."""
    words: list[str] = []
    fields: dict[str, list[str]] = {}
    for m in _TOKEN.finditer(text[:500]):
        name, quoted, bare = m.group(1), m.group(2), m.group(3)
        value = (quoted if quoted is not None else bare or "").lower()
        field = QUERY_FIELDS.get(name.lower()) if name else None
        if name and field is None:
            value = f"{name.lower()}:{value}"
        if not value:
            continue
        if field is None:
            words.append(value)
        else:
            fields.setdefault(field, []).append(value)
    return CatalogQuery(tuple(words), tuple((k, tuple(v)) for k, v in fields.items()))


def _haystack(entry: Entry, vendor_title: str) -> str:
    parts = [
        entry.vendor, vendor_title, entry.namespace, entry.code, entry.subcode or "",
        f"{entry.code}/{entry.subcode}" if entry.subcode is not None else "",
        entry.name, normalize_name(entry.name), *entry.aliases, *(normalize_name(a) for a in entry.aliases),
        entry.description, entry.summary, entry.category, entry.outcome, entry.vendor_category or "",
        *entry.sip_status, entry.protocol_equivalent or "",
    ]
    return "\x00".join(parts).lower()


def _code_cell(entry: Entry) -> str:
    return entry.code if entry.subcode is None else f"{entry.code}/{entry.subcode}"


class CatalogScreen(Screen[None]):
    """Browse every vendor's catalog entries and the cross-vendor map by category.

    Keys: `/` search, `e` entries tab, `m` map tab, Enter on a map row lists that category's entries,
    Esc back.

    Args:
        catalogs: the loaded catalogs.
        query: initial search text.
    """

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "focus_search", "Search"),
        Binding("e", "show_tab('entries')", "Entries"),
        Binding("m", "show_tab('map')", "Cross-vendor map"),
    ]

    AUTO_FOCUS = "#catalog-table"

    DEFAULT_CSS = """
    CatalogScreen {
        layout: vertical;
    }
    CatalogScreen .screen-title {
        height: 1;
        padding: 0 1;
        background: $panel;
        text-style: bold;
    }
    CatalogScreen TabbedContent {
        height: 1fr;
    }
    CatalogScreen TabPane {
        padding: 0;
    }
    CatalogScreen #catalog-entries-pane {
        height: 1fr;
    }
    CatalogScreen #catalog-search {
        margin: 0 0;
    }
    CatalogScreen #catalog-count {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    CatalogScreen #catalog-table {
        height: 1fr;
    }
    CatalogScreen #catalog-detail-scroll {
        height: 1fr;
        border-top: solid $primary;
        padding: 0 1;
    }
    CatalogScreen #catalog-map {
        height: 1fr;
    }
    """

    def __init__(self, catalogs: Catalogs, *, query: str = "") -> None:
        super().__init__()
        self.catalogs = catalogs
        self.initial_query = query
        titles = {v: self._vendor_title(v) for v in catalogs.vendors}
        self.entries: list[Entry] = [e for v in catalogs.vendors for e in catalogs.entries(v)]
        """Every entry, in vendor then file order."""
        self._haystacks = [_haystack(e, titles[e.vendor]) for e in self.entries]
        self.shown: list[int] = []
        """Indexes into `entries` of the rows currently shown, in order."""

    def _vendor_title(self, vendor: str) -> str:
        try:
            return self.catalogs.vendor(vendor).title
        except KeyError:
            return vendor

    # ------------------------------------------------------------------ compose

    def compose(self) -> ComposeResult:
        total = len(self.entries)
        vendors = len(self.catalogs.vendors)
        yield Static(Content(f"Catalogs · {total} entries from {vendors} vendors"), classes="screen-title")
        with TabbedContent(initial="entries"):
            with TabPane("Entries", id="entries"):
                with Vertical(id="catalog-entries-pane"):
                    yield Input(
                        self.initial_query,
                        placeholder="search name, alias, code, text · vendor:acs category:network code:487",
                        id="catalog-search",
                    )
                    yield Static(id="catalog-count")
                    yield DataTable(id="catalog-table", cursor_type="row", zebra_stripes=True)
                    with VerticalScroll(id="catalog-detail-scroll"):
                        yield Static(id="catalog-detail")
            with TabPane("Cross-vendor map", id="map"):
                yield DataTable(id="catalog-map", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#catalog-table", DataTable)
        # Widths are capped so that vendor, code, name and category fit in 80 columns; the detail
        # panel shows every value in full.
        wide = self.app.size.width >= WIDE
        for label, key, width in COLUMNS:
            if key == "name" and wide:
                width = None  # room for the longest names
            table.add_column(Text(label), key=key, width=width)
        self._fill_map()
        self.apply_search(self.initial_query)
        # Errors from user catalogs are worth knowing here too (rejected files are skipped).
        for error in self.catalogs.errors[:3]:
            self.notify(clean(error, 300), severity="warning", markup=False)

    # ------------------------------------------------------------------ entries tab

    def apply_search(self, text: str) -> None:
        """Show the entries matching `text` and highlight the first."""
        query = parse_catalog_query(text)
        self.shown = [i for i, e in enumerate(self.entries) if query.matches(e, self._haystacks[i])]
        table = self.query_one("#catalog-table", DataTable)
        table.clear()
        table.add_rows(
            [
                (
                    Text(clean(e.vendor, 40)),
                    Text(clean(_code_cell(e), 40)),
                    Text(clean(e.name, 80), style="dim" if e.deprecated else ""),
                    Text(clean(e.category, 40)),
                    Text(clean(e.outcome, 40)),
                    Text(clean(e.namespace, 40)),
                )
                for e in (self.entries[i] for i in self.shown)
            ]
        )
        count = self.query_one("#catalog-count", Static)
        count.update(Content(f"{len(self.shown)} of {len(self.entries)} entries"))
        if self.shown:
            table.move_cursor(row=0)
            self._show_entry(self.entries[self.shown[0]])
        else:
            self.query_one("#catalog-detail", Static).update(Content("No entry matches the search."))

    @on(Input.Changed, "#catalog-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.apply_search(event.value)

    @on(Input.Submitted, "#catalog-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#catalog-table", DataTable).focus()

    @on(DataTable.RowHighlighted, "#catalog-table")
    def _entry_highlighted(self, event: DataTable.RowHighlighted) -> None:
        row = event.cursor_row
        if 0 <= row < len(self.shown):
            self._show_entry(self.entries[self.shown[row]])

    def _show_entry(self, entry: Entry) -> None:
        self.query_one("#catalog-detail", Static).update(render_entry_detail(entry, self.catalogs))
        self.query_one("#catalog-detail-scroll", VerticalScroll).scroll_home(animate=False)

    @property
    def highlighted_entry(self) -> Entry | None:
        """The entry under the table cursor, if any."""
        row = self.query_one("#catalog-table", DataTable).cursor_row
        return self.entries[self.shown[row]] if 0 <= row < len(self.shown) else None

    # ------------------------------------------------------------------ map tab

    def map_rows(self) -> list[tuple[str, list[list[str]]]]:
        """(category, per vendor the entry names) in taxonomy order; categories no entry uses are left
        out. Names are listed once each, in catalog order; the code-class rows are not reasons."""
        cells: dict[str, dict[str, list[str]]] = {}
        for entry in self.entries:
            if entry.namespace == CLASS_NAMESPACE:
                continue
            names = cells.setdefault(entry.category, {}).setdefault(entry.vendor, [])
            name = entry.name + (" (deprecated)" if entry.deprecated else "")
            if name not in names:
                names.append(name)
        order = list(self.catalogs.taxonomy.categories) + sorted(set(cells) - set(self.catalogs.taxonomy.categories))
        return [
            (category, [cells[category].get(v, []) for v in self.catalogs.vendors])
            for category in order
            if category in cells
        ]

    def _fill_map(self) -> None:
        table = self.query_one("#catalog-map", DataTable)
        table.add_column(Text("Category"), key="category", width=MAP_CATEGORY_WIDTH)
        # Fixed widths, long names folded onto a second line: four vendors fit in 160 columns.
        for vendor in self.catalogs.vendors:
            table.add_column(Text(clean(self._vendor_title(vendor), 40)), key=vendor, width=MAP_VENDOR_WIDTH)
        labels = self.catalogs.taxonomy.categories
        for category, per_vendor in self.map_rows():
            label = labels.get(category, {}).get("label", category)
            cells: list[Text] = [Text.assemble((clean(label, 40), "bold"), "\n", (clean(category, 40), "dim"))]
            cells += [
                Text("\n".join(clean(n, 80) for n in names) if names else "—", overflow="fold")
                for names in per_vendor
            ]
            table.add_row(*cells, key=category, height=None)

    @on(DataTable.RowSelected, "#catalog-map")
    def _map_row_selected(self, event: DataTable.RowSelected) -> None:
        category = event.row_key.value
        if category:
            self.show_category(category)

    def show_category(self, category: str) -> None:
        """Switch to the entries tab listing one category's entries."""
        self.query_one(TabbedContent).active = "entries"
        search = self.query_one("#catalog-search", Input)
        search.value = f"category:{category}"
        self.apply_search(search.value)
        self.query_one("#catalog-table", DataTable).focus()

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        """Close the browser."""
        self.dismiss(None)

    def action_focus_search(self) -> None:
        """Focus the search box (on the entries tab)."""
        self.query_one(TabbedContent).active = "entries"
        self.query_one("#catalog-search", Input).focus()

    def action_show_tab(self, tab: str) -> None:
        """Switch tab: 'entries' or 'map'."""
        self.query_one(TabbedContent).active = tab
        target = "#catalog-table" if tab == "entries" else "#catalog-map"
        self.query_one(target, DataTable).focus()

