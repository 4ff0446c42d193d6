"""The domain's value types: a catalog entry, a lookup result, a call-end event, an invalid message.

All are frozen, slotted dataclasses: they are created once at ingestion and shared read-only by the
aggregate, the command line and the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["success", "expected_error", "unexpected_client_error", "unexpected_server_error"]
Matched = Literal["exact", "subcode", "code", "class", "none"]

OUTCOMES: tuple[str, ...] = (
    "success",
    "expected_error",
    "unexpected_client_error",
    "unexpected_server_error",
)

#: Pseudo-outcome and category used when a code is not in any catalog.
UNKNOWN_CATEGORY = "unknown"
UNKNOWN_OUTCOME = "unknown"
#: Category/outcome used when a message carried no reason at all (e.g. ACS CallParticipantRemoved).
NO_REASON = "no_reason"


@dataclass(frozen=True, slots=True)
class Entry:
    """One catalog entry: a vendor's reason code with our description, advice and classification."""

    vendor: str
    namespace: str
    code: str
    subcode: str | None
    name: str
    aliases: tuple[str, ...]
    description: str
    summary: str
    advice: str
    category: str
    outcome: str
    vendor_category: str | None = None
    applies_to: tuple[str, ...] = ()
    origin: str | None = None
    platforms: tuple[str, ...] = ()
    contexts: tuple[str, ...] = ()
    sip_status: tuple[str, ...] = ()
    protocol_equivalent: str | None = None
    deprecated: bool = False
    documents: tuple[str, ...] = ()
    seed_text: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    #: Where the entry was loaded from ("bundled" or a user catalog path).
    catalog_file: str = ""

    @property
    def key(self) -> tuple[str, str, str, str | None]:
        """The identity of the entry: (vendor, namespace, code, subcode)."""
        return (self.vendor, self.namespace, self.code, self.subcode)


@dataclass(frozen=True, slots=True)
class Source:
    """Who ended a call, as a vendor spells it (PlanetKit disconnect source, JsSIP originator...)."""

    vendor: str
    code: str
    name: str
    aliases: tuple[str, ...]
    description: str


@dataclass(frozen=True, slots=True)
class Reason:
    """The result of a lookup. Always returned, never raised: `known` says whether a catalog matched.

    For an unknown code the raw vendor/code/subcode are kept and the text fields say so.
    """

    vendor: str
    code: str
    subcode: str | None
    known: bool
    matched: Matched
    entry: Entry | None = None
    #: The namespace that was searched or matched.
    namespace: str | None = None

    # Convenience accessors so callers need not test `entry` first.
    @property
    def name(self) -> str | None:
        return self.entry.name if self.entry else None

    @property
    def display_name(self) -> str:
        """A name for tables: the vendor's name, or the raw code marked unknown."""
        if self.entry is not None:
            return self.entry.name
        raw = self.code if self.subcode is None else f"{self.code}/{self.subcode}"
        return f"? {raw}"

    @property
    def aliases(self) -> tuple[str, ...]:
        return self.entry.aliases if self.entry else ()

    @property
    def description(self) -> str:
        if self.entry:
            return self.entry.description
        return f"No catalog entry for {self.vendor} code {self.code!r}" + (
            f" subcode {self.subcode!r}." if self.subcode is not None else "."
        )

    @property
    def summary(self) -> str:
        return self.entry.summary if self.entry else self.description

    @property
    def advice(self) -> str:
        if self.entry:
            return self.entry.advice
        return (
            "This code is not in callwatch's catalogs: check the vendor's current documentation "
            "(vendors add codes often) and add it with a user catalog (--catalog-dir)."
        )

    @property
    def category(self) -> str:
        return self.entry.category if self.entry else UNKNOWN_CATEGORY

    @property
    def outcome(self) -> str:
        return self.entry.outcome if self.entry else UNKNOWN_OUTCOME

    @property
    def vendor_category(self) -> str | None:
        return self.entry.vendor_category if self.entry else None

    @property
    def applies_to(self) -> tuple[str, ...]:
        return self.entry.applies_to if self.entry else ()

    @property
    def origin(self) -> str | None:
        return self.entry.origin if self.entry else None

    @property
    def seed_text(self) -> dict[str, str]:
        return self.entry.seed_text if self.entry else {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape printed by `callwatch lookup --json`."""
        e = self.entry
        return {
            "vendor": self.vendor,
            "namespace": self.namespace,
            "code": self.code,
            "subcode": self.subcode,
            "known": self.known,
            "matched": self.matched,
            "name": self.name,
            "aliases": list(self.aliases),
            "description": self.description,
            "summary": self.summary,
            "advice": self.advice,
            "category": self.category,
            "outcome": self.outcome,
            "vendor_category": self.vendor_category,
            "applies_to": list(self.applies_to),
            "origin": self.origin,
            "entry_code": e.code if e else None,
            "entry_subcode": e.subcode if e else None,
            "deprecated": e.deprecated if e else False,
            "documents": list(e.documents) if e else [],
        }


@dataclass(frozen=True, slots=True)
class CallEnd:
    """One call-end event after decoding and lookup.

    `reason` is None when the payload delivered no reason at all ("no reason delivered"), which is
    distinct from an unknown code (`reason.known is False`) and from a vendor's own UNKNOWN value.
    Every string field has already been sanitized (see `sanitize.py`): safe to show literally.
    """

    seq: int
    """Line or frame number of the message the event came from (1-based)."""
    ts: float
    """Event time, Unix seconds (from the payload; else the receive time)."""
    vendor: str
    code: str | None
    subcode: str | None
    reason: Reason | None
    source: str | None = None
    """Who ended the call, as delivered (raw vendor value)."""
    source_name: str | None = None
    """The catalogued name of `source`, when known."""
    call_id: str | None = None
    call_type: str | None = None
    user_code: str | None = None
    message: str | None = None
    format: str = "envelope"
    """Which payload format the event was recognised as (envelope, livekit.webhook, acs.eventgrid...)."""
    raw: str = ""
    """The raw payload text (sanitized, cut to a bounded length) for the detail view."""
    extra: dict[str, Any] | None = field(default=None, compare=False, hash=False)

    @property
    def known(self) -> bool:
        return self.reason is not None and self.reason.known

    @property
    def category(self) -> str:
        return NO_REASON if self.reason is None else self.reason.category

    @property
    def outcome(self) -> str:
        return NO_REASON if self.reason is None else self.reason.outcome

    @property
    def reason_name(self) -> str:
        return "(no reason delivered)" if self.reason is None else self.reason.display_name


@dataclass(frozen=True, slots=True)
class InvalidMessage:
    """A message that could not be decoded into events: counted and shown, never dropped silently."""

    seq: int
    received: float
    cause: str
    """Short machine-friendly cause (bad_json, too_large, too_deep, not_utf8, unknown_format, ...)."""
    detail: str
    """Human-readable explanation."""
    snippet: str
    """Sanitized, cut raw text."""
