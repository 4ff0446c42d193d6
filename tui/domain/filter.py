"""The filter language of the dashboard: parse what the operator types, match events and reason rows.

Pure Python (never imports textual). Syntax, all case-insensitive:

* free words match as substrings of any of an event's texts (vendor, code, subcode, reason name and
  aliases, category, outcome, source and its catalogued name, call id, message);
* ``field:value`` terms restrict one field (see `FIELDS`; ``cat:``, ``msg:``, ``reason:``, ``id:`` are
  aliases); ``"quoted values"`` keep spaces and colons (a quoted word is always free text, so
  ``"sip:alice"`` searches for that text);
* ``!`` negates a term or a free word: ``!outcome:success``, ``!busy`` (a leading ``-`` is not a
  negation: ``-1`` is a PlanetKit code);
* different terms AND together; the same field repeated ORs: ``vendor:acs vendor:jssip``; negated terms
  always AND (``!vendor:acs !vendor:jssip`` = neither);
* ``*`` in a value is a wildcard (``code:4*``); without one, ``code``/``subcode``/``known`` compare
  exactly and the other fields by substring. ``code:487/10003`` matches a code/subcode pair.

Bad syntax never raises: an unknown field or an empty value gives a `Filter` whose `error` says what is
wrong (for the UI to show) and which matches everything, so a typo never hides data silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tui.domain.model import CallEnd

__all__ = ["FIELDS", "ALIASES", "Filter", "FilterError", "Term", "parse_filter"]

#: The fields a term may name, with what each one matches (shown in errors and help).
FIELDS: dict[str, str] = {
    "vendor": "vendor id (planetkit, livekit, acs, jssip)",
    "code": "raw code, or code/subcode (exact; * wildcard)",
    "subcode": "raw subcode (exact; * wildcard)",
    "name": "reason name or alias (ignores case, _ - . and spaces)",
    "category": "shared category (network, busy, ...)",
    "outcome": "success, expected_error, unexpected_client_error, unexpected_server_error, unknown, no_reason",
    "source": "who ended the call (raw value or catalogued name)",
    "call": "call id",
    "message": "vendor message text",
    "format": "payload format (envelope, livekit.webhook, acs.eventgrid, ...)",
    "known": "true or false: whether a catalog knows the reason",
}

#: Shorter or alternative spellings of field names.
ALIASES: dict[str, str] = {
    "cat": "category",
    "msg": "message",
    "reason": "name",
    "id": "call",
    "call_id": "call",
    "callid": "call",
    "sub": "subcode",
    "out": "outcome",
    "src": "source",
    "fmt": "format",
}

#: Fields that compare exactly (unless the value has a `*` wildcard).
_EXACT = frozenset({"code", "subcode", "known"})
#: Fields a reason-count row has; terms on other fields do not restrict rows.
ROW_FIELDS = frozenset({"vendor", "code", "subcode", "name", "category", "outcome", "known"})

_TRUE = frozenset({"true", "yes", "1", "y", "on"})
_FALSE = frozenset({"false", "no", "0", "n", "off"})

#: Longest filter text considered, and most terms: a pasted megabyte must not stall a keystroke.
MAX_TEXT = 2000
MAX_TERMS = 64

_FIELD_PREFIX = re.compile(r"([A-Za-z_]+):")
_NORM_DROP = str.maketrans("", "", "_-. \t/")


def _norm_name(text: str) -> str:
    """Name comparison form (same rule as the catalog's): `Multi_Dev-In.Use` -> `multidevinuse`."""
    return text.lower().translate(_NORM_DROP)


class FilterError(ValueError):
    """A problem with the filter text (unknown field, missing value). Never raised by `parse_filter`:
    it is stored in `Filter.error` as a message for the user. Raise it yourself with `Filter.check()`."""


@dataclass(frozen=True, slots=True)
class Term:
    """One parsed term: a field (None for free text), the lower-cased value, and whether it is negated."""

    field: str | None
    value: str
    negated: bool = False
    quoted: bool = False

    def describe(self) -> str:
        what = f'"{self.value}"' if self.field is None else f"{self.field}:{_quote(self.value)}"
        return ("not " + what) if self.negated else what


def _quote(value: str) -> str:
    return f'"{value}"' if (not value or any(c.isspace() for c in value)) else value


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    quoted: bool
    negated: bool
    field: str | None
    field_raw: str | None


def _tokenize(text: str) -> list[_Token]:
    """Split on whitespace, honouring "double" and 'single' quotes (an unclosed quote runs to the end)."""
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n and len(tokens) <= MAX_TERMS:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        negated = False
        if text[i] == "!" and i + 1 < n and not text[i + 1].isspace():
            negated = True
            i += 1
        elif text[i] == "!":
            # A lone "!": kept as a negation with nothing after it (reported as an error).
            tokens.append(_Token("", False, True, None, None))
            i += 1
            continue
        field_raw = None
        m = _FIELD_PREFIX.match(text, i)
        if m is not None:
            field_raw = m.group(1)
            i = m.end()
        quoted = False
        if i < n and text[i] in "\"'":
            quote = text[i]
            end = text.find(quote, i + 1)
            if end < 0:
                end = n
            value = text[i + 1:end]
            i = end + 1
            quoted = True
        else:
            start = i
            while i < n and not text[i].isspace():
                i += 1
            value = text[start:i]
        tokens.append(_Token(value, quoted, negated, None, field_raw))
    return tokens


def parse_filter(text: object) -> Filter:
    """Parse filter text into a `Filter`. Never raises: problems are reported in `Filter.error`."""
    try:
        return _parse(text)
    except Exception as exc:  # a bug here must not take the dashboard down; say so instead
        return Filter(str(text)[:MAX_TEXT] if isinstance(text, str) else "", (), f"could not parse: {exc}")


def _parse(text: object) -> Filter:
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    source = text[:MAX_TEXT]
    terms: list[Term] = []
    errors: list[str] = []
    tokens = _tokenize(source)
    if len(tokens) > MAX_TERMS:
        errors.append(f"too many terms (at most {MAX_TERMS})")
        tokens = tokens[:MAX_TERMS]
    for tok in tokens:
        if tok.field_raw is None:
            if not tok.text:
                if tok.negated and not tok.quoted:
                    errors.append("'!' needs a word or field:value after it")
                continue
            terms.append(Term(None, tok.text.lower(), tok.negated, tok.quoted))
            continue
        name = tok.field_raw.lower()
        name = ALIASES.get(name, name)
        if name not in FIELDS:
            errors.append(
                f"unknown field '{tok.field_raw}:' (fields: {', '.join(FIELDS)}; quote text with a colon)"
            )
            continue
        value = tok.text.strip().lower()
        if not value:
            errors.append(f"'{name}:' needs a value")
            continue
        if name == "known":
            if value not in _TRUE and value not in _FALSE:
                errors.append(f"'known:' takes true or false, not '{tok.text}'")
                continue
            value = "true" if value in _TRUE else "false"
        terms.append(Term(name, value, tok.negated, tok.quoted))
    return Filter(source, tuple(terms), "; ".join(errors) if errors else None)


# ------------------------------------------------------------------------------------------ matching


def _value_matcher(term: Term) -> Callable[[str], bool]:
    """A predicate over one lower-cased candidate string."""
    value = term.value
    exact = term.field in _EXACT
    if "*" in value:
        # Only `*` is a wildcard: `?` and `[` are common in codes and labels (`? 487`), so they stay literal.
        body = ".*".join(re.escape(part) for part in value.split("*"))
        pattern = re.compile(body, re.DOTALL)
        if exact:
            return lambda s: pattern.fullmatch(s) is not None
        return lambda s: pattern.search(s) is not None
    if exact:
        return lambda s: s == value
    if term.field == "name":
        wanted = _norm_name(value)
        return lambda s: wanted in _norm_name(s)
    return lambda s: value in s


def _event_values(event: CallEnd, name: str) -> Iterable[str]:
    """The candidate strings of `event` for a field (raw case; lower-cased by the caller)."""
    if name == "vendor":
        return (event.vendor,)
    if name == "code":
        if event.code is None:
            return ()
        if event.subcode is None:
            return (event.code,)
        return (event.code, f"{event.code}/{event.subcode}")
    if name == "subcode":
        return () if event.subcode is None else (event.subcode,)
    if name == "name":
        reason = event.reason
        if reason is None:
            return (event.reason_name,)
        return (reason.display_name, *reason.aliases)
    if name == "category":
        return (event.category,)
    if name == "outcome":
        return (event.outcome,)
    if name == "source":
        return tuple(s for s in (event.source, event.source_name) if s)
    if name == "call":
        return () if event.call_id is None else (event.call_id,)
    if name == "message":
        return () if event.message is None else (event.message,)
    if name == "format":
        return (event.format,)
    if name == "known":
        return ("true" if event.known else "false",)
    return ()


def _event_text(event: CallEnd) -> str:
    """Everything free words search, joined with a separator no word can span."""
    parts: list[str] = [event.vendor, event.category, event.outcome, event.reason_name]
    for value in (event.code, event.subcode, event.source, event.source_name, event.call_id, event.message):
        if value:
            parts.append(value)
    if event.code is not None and event.subcode is not None:
        parts.append(f"{event.code}/{event.subcode}")
    if event.reason is not None:
        parts.extend(event.reason.aliases)
    return "\x00".join(parts).lower()


def _row_values(row: Any, name: str) -> Iterable[str] | None:
    """Candidate strings of a reason row (`aggregate.ReasonRow` or alike); None = field not on rows."""
    if name not in ROW_FIELDS:
        return None
    if name == "vendor":
        return (str(getattr(row, "vendor", "") or ""),)
    if name == "code":
        code = getattr(row, "code", None)
        sub = getattr(row, "subcode", None)
        if code is None:
            return ()
        return (code,) if sub is None else (code, f"{code}/{sub}")
    if name == "subcode":
        sub = getattr(row, "subcode", None)
        return () if sub is None else (sub,)
    if name == "name":
        return tuple(s for s in (getattr(row, "name", None), getattr(row, "label", None)) if s)
    if name == "category":
        return (str(getattr(row, "category", "") or ""),)
    if name == "outcome":
        return (str(getattr(row, "outcome", "") or ""),)
    if name == "known":
        return ("true" if getattr(row, "known", False) else "false",)
    return ()


def _row_text(row: Any) -> str:
    parts = [
        getattr(row, attr, None)
        for attr in ("vendor", "label", "name", "code_text", "code", "subcode", "category", "outcome")
    ]
    return "\x00".join(str(p) for p in parts if p).lower()


@dataclass(frozen=True)
class Filter:
    """A parsed filter. Immutable; `matches` and `matches_row` never raise.

    An empty filter (no terms) matches everything; so does a filter with an `error` (the UI shows the
    error and keeps showing all rows rather than silently hiding them).
    """

    text: str
    """The text it was parsed from (capped at `MAX_TEXT`)."""
    terms: tuple[Term, ...] = ()
    error: str | None = None
    """What is wrong with the text, for the user; None when it parsed cleanly."""
    _positive: dict[str, tuple[Callable[[str], bool], ...]] = field(default_factory=dict, repr=False, compare=False)
    _negative: tuple[tuple[str, Callable[[str], bool]], ...] = field(default=(), repr=False, compare=False)
    _words: tuple[tuple[bool, Callable[[str], bool]], ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        positive: dict[str, list[Callable[[str], bool]]] = {}
        negative: list[tuple[str, Callable[[str], bool]]] = []
        words: list[tuple[bool, Callable[[str], bool]]] = []
        for term in self.terms:
            matcher = _value_matcher(term)
            if term.field is None:
                words.append((term.negated, matcher))
            elif term.negated:
                negative.append((term.field, matcher))
            else:
                positive.setdefault(term.field, []).append(matcher)
        object.__setattr__(self, "_positive", {k: tuple(v) for k, v in positive.items()})
        object.__setattr__(self, "_negative", tuple(negative))
        object.__setattr__(self, "_words", tuple(words))

    @property
    def active(self) -> bool:
        """True when the filter restricts anything (has terms and no error)."""
        return bool(self.terms) and self.error is None

    def check(self) -> Filter:
        """Return self, or raise `FilterError` with `error` (for callers that prefer exceptions)."""
        if self.error is not None:
            raise FilterError(self.error)
        return self

    def _match(self, values_of: Callable[[str], Iterable[str] | None], text_of: Callable[[], str]) -> bool:
        if not self.active:
            return True
        for name, matchers in self._positive.items():
            values = values_of(name)
            if values is None:
                continue
            lowered = [v.lower() for v in values]
            if not any(m(v) for m in matchers for v in lowered):
                return False
        for name, matcher in self._negative:
            values = values_of(name)
            if values is None:
                continue
            if any(matcher(v.lower()) for v in values):
                return False
        if self._words:
            text = text_of()
            for negated, matcher in self._words:
                if matcher(text) == negated:
                    return False
        return True

    def matches(self, event: CallEnd) -> bool:
        """Whether `event` passes the filter. Never raises."""
        try:
            return self._match(lambda name: _event_values(event, name), lambda: _event_text(event))
        except Exception:
            return True

    def matches_row(self, row: Any) -> bool:
        """Whether a reason-count row (`aggregate.ReasonRow`) passes. Terms on fields a row does not
        have (source, call, message, format) do not restrict rows; free words search the row's vendor,
        label, code, category and outcome. Never raises."""
        try:
            return self._match(lambda name: _row_values(row, name), lambda: _row_text(row))
        except Exception:
            return True

    def describe(self) -> str:
        """A one-line English reading of the filter, e.g. `vendor: acs or jssip, not outcome: success`."""
        if self.error is not None:
            return f"invalid filter: {self.error}"
        if not self.terms:
            return "all events"
        parts: list[str] = []
        grouped: dict[str, list[str]] = {}
        for term in self.terms:
            if term.field is not None and not term.negated:
                grouped.setdefault(term.field, []).append(_quote(term.value))
        done: set[str] = set()
        for term in self.terms:
            if term.field is not None and not term.negated:
                if term.field not in done:
                    done.add(term.field)
                    parts.append(f"{term.field}: {' or '.join(grouped[term.field])}")
            elif term.field is not None:
                parts.append(f"not {term.field}: {_quote(term.value)}")
            else:
                parts.append(("without " if term.negated else "text ") + f'"{term.value}"')
        return ", ".join(parts)
