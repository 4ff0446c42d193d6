"""The full-screen detail of one call end, and the renderers the dashboard's detail pane reuses.

`render_event_detail(event, catalogs, masker=None)` and `render_entry_detail(entry, catalogs)` build a
Rich renderable (a `Group` of headings and label/value grids, so long values wrap with a hanging
indent) for a `Static`. Every value (feed text and catalog text alike: user catalogs are as untrusted
as feeds) is a `rich.text.Text` made from a plain string, never parsed as markup, after passing
through `sanitize.clean` again (idempotent, and it keeps a catalog value that was never cleaned from
reaching the terminal with control characters).
"""

from __future__ import annotations

import json

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.domain.catalog import Catalogs
from tui.domain.export import format_time, safe_json_dumps
from tui.domain.mask import Masker
from tui.domain.model import NO_REASON, CallEnd, Entry
from tui.domain.sanitize import clean, clean_multiline

__all__ = [
    "EventDetailScreen",
    "render_event_detail",
    "render_entry_detail",
    "pretty_raw",
    "OUTCOME_STYLES",
]

#: How an outcome is coloured (ANSI colour names: Textual maps them to the theme's ANSI palette).
OUTCOME_STYLES: dict[str, str] = {
    "success": "green",
    "expected_error": "yellow",
    "unexpected_client_error": "red",
    "unexpected_server_error": "bold red",
    "unknown": "magenta",
    NO_REASON: "magenta",
}

_LABEL_WIDTH = 13
#: Names listed per vendor among the equivalents before "+N more".
_MAX_EQUIVALENTS = 12
#: Cap for the pretty-printed payload (the raw text itself is capped at ingestion).
_RAW_DISPLAY_LIMIT = 20_000


class _Doc:
    """Builds a detail view: headings, and label/value grids whose values wrap with a hanging indent.

    Values are always `rich.text.Text` built from plain strings (never markup), cleaned again."""

    def __init__(self) -> None:
        self.parts: list[RenderableType] = []
        self._grid: Table | None = None
        self.label_width = _LABEL_WIDTH
        """Width of the label column of the next grid (reset by `heading`)."""

    def _close_grid(self) -> None:
        self._grid = None

    def line(self, *parts: str | tuple[str, str]) -> None:
        self._close_grid()
        self.parts.append(Text.assemble(*parts))

    def heading(self, text: str) -> None:
        self._close_grid()
        self.label_width = _LABEL_WIDTH
        if self.parts:
            self.parts.append(Text(""))
        self.parts.append(Text(text, style="bold underline"))

    def field(self, label: str, value: object, style: str = "", *, multiline: bool = False) -> None:
        """`label   value`; skipped when the value is empty."""
        if value is None or value == "" or value == ():
            return
        if isinstance(value, (tuple, list)):
            text = ", ".join(clean(v, 300) for v in value)
        else:
            text = clean_multiline(value, 4000) if multiline else clean(value, 1000)
        if self._grid is None:
            self._grid = Table.grid(padding=(0, 1), expand=True)
            self._grid.add_column(width=self.label_width, no_wrap=True)
            self._grid.add_column(ratio=1, overflow="fold")
            self.parts.append(self._grid)
        self._grid.add_row(Text(label, style="bold"), Text(text, style=style))

    def block(self, text: str, style: str = "") -> None:
        """A preformatted block (the raw payload): long lines fold, nothing is re-wrapped at spaces."""
        self._close_grid()
        self.parts.append(Text(text, style=style, overflow="fold"))

    def content(self) -> Group:
        return Group(*self.parts)


def _taxonomy_text(catalogs: Catalogs, kind: str, value: str) -> str:
    table = catalogs.taxonomy.categories if kind == "category" else catalogs.taxonomy.outcomes
    info = table.get(value)
    if info is None:
        return value
    return f"{value} — {info.get('label', '')}: {info.get('description', '')}"


def _equivalents(doc: _Doc, entry: Entry, catalogs: Catalogs) -> None:
    doc.heading(f"Equivalents in other vendors (category {clean(entry.category, 60)})")
    by_vendor: dict[str, list[Entry]] = {}
    for other in catalogs.equivalents(entry):
        by_vendor.setdefault(other.vendor, []).append(other)
    if not by_vendor:
        doc.line(("none catalogued", "italic"))
        return
    # Vendor titles are longer than the usual labels: size the label column for them (within reason).
    doc.label_width = min(30, max(len(_vendor_title(catalogs, v)) for v in by_vendor))
    for vendor in catalogs.vendors:
        entries = by_vendor.get(vendor)
        if not entries:
            continue
        names = [clean(e.name, 80) + (" (deprecated)" if e.deprecated else "") for e in entries]
        # Several spellings can share a name across namespaces: list each once, in catalog order.
        names = list(dict.fromkeys(names))
        shown = names[:_MAX_EQUIVALENTS]
        more = f" +{len(names) - len(shown)} more" if len(names) > len(shown) else ""
        doc.field(_vendor_title(catalogs, vendor), ", ".join(shown) + more)


def _vendor_title(catalogs: Catalogs, vendor: str) -> str:
    try:
        return clean(catalogs.vendor(vendor).title, 40)
    except KeyError:
        return clean(vendor, 40)


def _code_text(code: str | None, subcode: str | None) -> str:
    if code is None:
        return "(none)"
    return clean(code, 80) if subcode is None else f"{clean(code, 80)} / subcode {clean(subcode, 80)}"


def _entry_fields(doc: _Doc, entry: Entry, catalogs: Catalogs) -> None:
    """The catalog facts of an entry shared by the event and the catalog views."""
    doc.field("Summary", entry.summary, multiline=True)
    doc.field("Description", entry.description, multiline=True)
    doc.field("Advice", entry.advice, multiline=True)
    doc.field("Category", _taxonomy_text(catalogs, "category", entry.category))
    doc.field("Outcome", _taxonomy_text(catalogs, "outcome", entry.outcome),
              OUTCOME_STYLES.get(entry.outcome, ""))
    doc.field("Vendor class", entry.vendor_category)
    doc.field("Applies to", entry.applies_to)
    doc.field("Platforms", entry.platforms)
    doc.field("Contexts", entry.contexts)
    doc.field("SIP status", entry.sip_status)
    doc.field("Protocol eq.", entry.protocol_equivalent)
    doc.field("Origin", entry.origin)


def render_entry_detail(entry: Entry, catalogs: Catalogs) -> Group:
    """Everything the catalogs say about one entry: texts, classification, provenance, equivalents."""
    doc = _Doc()
    title: list[str | tuple[str, str]] = [(clean(entry.name, 200), "bold")]
    if entry.deprecated:
        title.append(("  deprecated", "yellow"))
    doc.line(*title)
    namespaces = {ns.id: ns for ns in catalogs.namespaces(entry.vendor)}
    ns = namespaces.get(entry.namespace)
    ns_text = clean(entry.namespace, 60) + (f" ({clean(ns.title, 120)})" if ns is not None else "")
    doc.field("Vendor", f"{_vendor_title(catalogs, entry.vendor)} ({clean(entry.vendor, 40)})")
    doc.field("Namespace", ns_text)
    doc.field("Code", _code_text(entry.code, entry.subcode))
    doc.field("Aliases", entry.aliases)
    _entry_fields(doc, entry, catalogs)
    documents = {d.id: d for d in catalogs.documents(entry.vendor)}
    if entry.documents:
        doc.heading("Documents")
        doc.label_width = min(30, max(len(d) for d in entry.documents))
        for doc_id in entry.documents:
            d = documents.get(doc_id)
            if d is None:
                doc.field(doc_id, "(not declared)")
                continue
            text = f"{clean(d.title, 300)} (version {clean(d.version, 120)})"
            if d.url:
                text += f" {clean(d.url, 300)}"
            doc.field(clean(doc_id, 40), text)
    if entry.seed_text:
        doc.heading("Seed texts (the vendor's own words)")
        doc.label_width = min(30, max(len(d) for d in entry.seed_text))
        for doc_id, text in entry.seed_text.items():
            doc.field(clean(doc_id, 40), text, multiline=True)
    _equivalents(doc, entry, catalogs)
    doc.field("Catalog file", entry.catalog_file)
    return doc.content()


def pretty_raw(raw: str) -> str:
    """The raw payload for display: JSON pretty-printed with 2-space indents (display-safe escapes),
    anything else (a cut payload, several documents) as the text itself, cleaned."""
    text = raw or ""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    else:
        if isinstance(data, (dict, list)):
            try:
                return clean_multiline(safe_json_dumps(data, indent=2), _RAW_DISPLAY_LIMIT)
            except (ValueError, RecursionError):
                pass
    return clean_multiline(text, _RAW_DISPLAY_LIMIT)


def render_event_detail(event: CallEnd, catalogs: Catalogs, masker: Masker | None = None) -> Group:
    """The whole story of one call end: the vendor's raw code and name, what it means and what to do,
    who ended the call, the call's own facts, the other vendors' equivalents and the raw payload.

    With a `masker`, call ids, identities and personal values in the message and payload are shown as
    pseudonyms. Returns a Rich renderable for a `Static` (no markup is ever parsed from the event or the
    catalogs: every value is a `Text` built from a plain string)."""
    shown = masker.mask_event(event) if masker is not None else event
    reason = event.reason
    entry = reason.entry if reason is not None else None
    doc = _Doc()
    vid = catalogs.vendor_id(event.vendor)
    vendor_title = _vendor_title(catalogs, vid) if vid else clean(event.vendor, 60)
    doc.line(
        (vendor_title, "bold"),
        "  ·  ",
        ("code ", "dim"),
        (_code_text(event.code, event.subcode), "bold"),
        "  ·  ",
        (clean(event.reason_name, 200), f"bold {OUTCOME_STYLES.get(event.outcome, '')}".strip()),
    )
    if reason is None:
        doc.field("Reason", "No reason delivered: the payload said the call ended but carried no end reason "
                            "(e.g. ACS CallParticipantRemoved, a LiveKit participant_left without "
                            "disconnectReason).")
        doc.field("Category", NO_REASON)
        doc.field("Outcome", NO_REASON, OUTCOME_STYLES[NO_REASON])
    elif entry is None:
        doc.field("Known", "no: " + reason.description)
        doc.field("Advice", reason.advice, multiline=True)
        doc.field("Category", _taxonomy_text(catalogs, "category", reason.category))
        doc.field("Outcome", reason.outcome, OUTCOME_STYLES.get(reason.outcome, ""))
    else:
        matched = {
            "exact": "exact match",
            "subcode": "matched by the subcode alone",
            "code": "matched by the code (no entry for this subcode)",
            "class": "only the code class is catalogued",
        }.get(reason.matched, reason.matched)
        where = f"{matched}, namespace {clean(entry.namespace, 60)}"
        if (entry.code, entry.subcode) != (event.code, event.subcode):
            where += f", entry {_code_text(entry.code, entry.subcode)}"
        doc.field("Matched", where)
        doc.field("Aliases", entry.aliases)
        _entry_fields(doc, entry, catalogs)

    doc.heading("Who ended the call")
    if event.source is None:
        doc.line(("The payload does not say.", "italic"))
    else:
        source = catalogs.source(event.vendor, event.source)
        if source is not None:
            doc.field("Source", f"{clean(shown.source, 200)} → {clean(source.name, 80)}")
            doc.field("Meaning", source.description, multiline=True)
        else:
            where = f"not in the {vendor_title} catalog" if vid else "vendor not catalogued"
            doc.field("Source", f"{clean(shown.source, 200)} ({where})")

    doc.heading("Call")
    doc.field("Time", format_time(event.ts))
    doc.field("Call id", shown.call_id)
    doc.field("Call type", shown.call_type)
    doc.field("User code", shown.user_code)
    doc.field("Message", shown.message, multiline=True)
    doc.field("Format", shown.format)
    doc.field("Line/frame", str(event.seq))

    if entry is not None:
        _equivalents(doc, entry, catalogs)

    doc.heading("Raw payload" + (" (masked)" if masker is not None and masker.enabled else ""))
    if shown.raw:
        doc.block(pretty_raw(shown.raw))
    else:
        doc.line(("(not kept)", "italic"))
    return doc.content()


class EventDetailScreen(Screen[None]):
    """Full-screen detail of one call end; Esc or q goes back.

    Args:
        event: the event to explain.
        catalogs: the loaded catalogs (for equivalents, sources and taxonomy labels).
        masker: when given (masking on), personal values are shown as pseudonyms.
    """

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back", show=False),
    ]

    DEFAULT_CSS = """
    EventDetailScreen {
        layout: vertical;
    }
    EventDetailScreen .screen-title {
        height: 1;
        padding: 0 1;
        background: $panel;
        text-style: bold;
    }
    EventDetailScreen #event-detail-scroll {
        height: 1fr;
        padding: 0 1;
    }
    """

    def __init__(self, event: CallEnd, catalogs: Catalogs, masker: Masker | None = None) -> None:
        super().__init__()
        self.event = event
        """The event shown."""
        self.catalogs = catalogs
        self.masker = masker

    def compose(self) -> ComposeResult:
        yield Static(Content(f"Call end · line/frame {self.event.seq}"), classes="screen-title")
        with VerticalScroll(id="event-detail-scroll"):
            yield Static(render_event_detail(self.event, self.catalogs, self.masker), id="event-detail")
        yield Footer()

    def on_mount(self) -> None:
        # The scroll container takes focus so the arrow keys and PageUp/PageDown scroll the detail.
        self.query_one("#event-detail-scroll").focus()

    def action_back(self) -> None:
        """Close the screen."""
        self.dismiss(None)

