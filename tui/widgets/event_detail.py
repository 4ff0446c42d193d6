"""`EventDetail`: everything known about one call end, from the event and the catalogs.

Vendor, raw code/subcode, the vendor's name, description, advice, category, outcome, who ended it
(`Catalogs.source`), applicability, the other vendors' equivalent reasons (`Catalogs.equivalents`) and the
raw payload pretty-printed. Built with `Content.assemble`: labels are app-authored styles, every value
is a plain str part, so nothing from a feed or a catalog is ever parsed as markup.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.domain.catalog import Catalogs
from tui.domain.model import CallEnd
from tui.domain.sanitize import clean_multiline
from tui.widgets.outcome import outcome_label, outcome_style, outcome_symbol, utc_time

#: Equivalent reasons listed per other vendor, and in all.
EQUIVALENTS_PER_VENDOR = 3
EQUIVALENTS_TOTAL = 9
#: Longest pretty-printed payload shown (the decoder already cut the raw text to 4,000 characters).
RAW_VIEW_LIMIT = 8000

_LABEL = "bold $text-accent"
_MUTED = "$text-muted"

Part = str | tuple[str, str]


def pretty_payload(raw: str) -> str:
    """The raw payload indented when it is JSON (else as it is), made display-safe again: parsing can
    turn a ``\\u001b`` escape back into a real ESC, so the result goes through the sanitizer."""
    text = raw
    try:
        text = orjson.dumps(orjson.loads(raw), option=orjson.OPT_INDENT_2).decode()
    except (orjson.JSONDecodeError, TypeError, ValueError):
        pass
    return clean_multiline(text, RAW_VIEW_LIMIT)


def _field(parts: list[Part], label: str, value: object, style: str = "") -> None:
    if value is None or value == "" or value == ():
        return
    parts.append((f"{label}: ", _LABEL))
    parts.append((str(value), style) if style else str(value))
    parts.append("\n")


def detail_parts(event: CallEnd, catalogs: Catalogs | None, mask: Callable[[str], str] | None = None) -> list[Part]:
    """The detail of `event` as assemble parts: (text, app style) tuples and literal strs."""
    parts: list[Part] = []
    outcome = event.outcome
    parts.append((f"{outcome_symbol(outcome)} {outcome_label(outcome)}", outcome_style(outcome)))
    parts.append("  ")
    parts.append(event.reason_name)
    parts.append("\n\n")
    reason = event.reason
    entry = reason.entry if reason is not None else None
    code = event.code if event.code is not None else "(none delivered)"
    _field(parts, "vendor", event.vendor)
    _field(parts, "code", code if event.subcode is None else f"{code}  subcode: {event.subcode}")
    if reason is not None and reason.namespace:
        _field(parts, "namespace", reason.namespace)
    _field(parts, "time", utc_time(event.ts, with_date=True) + " (UTC)")
    call = event.call_id
    if call is not None and mask is not None:
        call = mask(call)
    _field(parts, "call id", call)
    _field(parts, "call type", event.call_type)
    _field(parts, "format", event.format)
    _field(parts, "message #", event.seq)
    parts.append("\n")
    if reason is None:
        _field(parts, "reason", "the payload delivered no reason code")
    elif entry is None:
        _field(parts, "reason", "not in callwatch's catalogs", "bold #ae3ec9")
    else:
        names = entry.name + (f" (also: {', '.join(entry.aliases)})" if entry.aliases else "")
        _field(parts, "name", names)
        if reason.matched not in ("exact", "code"):
            _field(parts, "matched", reason.matched, _MUTED)
        if entry.deprecated:
            _field(parts, "deprecated", "yes", "bold #e8590c")
    if reason is not None:
        _field(parts, "description", reason.description)
        _field(parts, "advice", reason.advice)
    category = event.category
    if catalogs is not None and category in catalogs.taxonomy.categories:
        label = catalogs.taxonomy.categories[category].get("label")
        _field(parts, "category", f"{category} — {label}" if label else category)
    else:
        _field(parts, "category", category)
    parts.append(("outcome: ", _LABEL))
    parts.append((f"{outcome_symbol(outcome)} {outcome}", outcome_style(outcome)))
    parts.append("\n")
    # Who ended it: the raw value as delivered and what the vendor's catalog says about it.
    if event.source is not None:
        found = catalogs.source(event.vendor, event.source) if catalogs is not None else None
        if found is not None:
            _field(parts, "ended by", f"{found.name} (raw {event.source!s}): {found.description}")
        else:
            _field(parts, "ended by", f"{event.source} (not a catalogued source for {event.vendor})")
    else:
        _field(parts, "ended by", "not delivered", _MUTED)
    if entry is not None:
        _field(parts, "applies to", ", ".join(entry.applies_to))
        _field(parts, "platforms", ", ".join(entry.platforms))
        _field(parts, "contexts", ", ".join(entry.contexts))
        _field(parts, "SIP status", ", ".join(entry.sip_status))
    _field(parts, "user code", event.user_code)
    _field(parts, "message", event.message)
    if entry is not None and catalogs is not None:
        equivalents = catalogs.equivalents(entry)
        shown: dict[str, int] = {}
        lines: list[str] = []
        for other in equivalents:
            if shown.get(other.vendor, 0) >= EQUIVALENTS_PER_VENDOR or len(lines) >= EQUIVALENTS_TOTAL:
                continue
            shown[other.vendor] = shown.get(other.vendor, 0) + 1
            code_text = other.code if other.subcode is None else f"{other.code}/{other.subcode}"
            lines.append(f"  {other.vendor} {code_text} {other.name} ({other.outcome})")
        parts.append(("\nequivalents in other vendors", _LABEL))
        parts.append((f" (same category: {entry.category})\n", _MUTED))
        parts.append("\n".join(lines) + "\n" if lines else "  none catalogued\n")
    parts.append(("\nraw payload\n", _LABEL))
    parts.append(pretty_payload(event.raw) if event.raw else "(not kept)")
    return parts


class EventDetail(VerticalScroll, can_focus=True):
    """The detail pane of the highlighted event (scrollable; Tab reaches it; Enter shows it full screen)."""

    ALLOW_MAXIMIZE = True

    DEFAULT_CSS = """
    EventDetail { height: 1fr; }
    EventDetail > Static { width: 1fr; }
    """

    def __init__(self, catalogs: Catalogs | None = None, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.catalogs = catalogs
        self.mask: Callable[[str], str] | None = None
        self.event: CallEnd | None = None
        """The event shown (None: nothing highlighted yet)."""

    def compose(self):  # type: ignore[override]
        yield Static(Content("No event yet: disconnects appear here when highlighted."), id="detail-body")

    def show(self, event: CallEnd | None, force: bool = False) -> None:
        """Show `event` (no work when it is already shown, unless `force`)."""
        if event is self.event and not force:
            return
        self.event = event
        body = self.query_one("#detail-body", Static)
        if event is None:
            body.update(Content("No event highlighted."))
            return
        body.update(Content.assemble(*detail_parts(event, self.catalogs, self.mask)))
