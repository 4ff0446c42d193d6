"""Turn one raw message into call-end observations or counted rejections; never raises.

`decode(raw)` parses a `RawMessage` (bytes, text or an already parsed object) safely with orjson,
splits it into elements (a top-level array, or several newline-separated JSON documents), and hands
each element to `adapters.adapt`. Every element becomes either observations or exactly one
`InvalidMessage` with a short cause, so the aggregate can prove that nothing received was lost.

The traps it defends against (reliability.md §3.5, measured): messages over the size cap, bytes that
are not UTF-8, a UTF-8 BOM, empty lines, NaN/Infinity (orjson rejects them), 100 000-deep nesting
(orjson stops at depth 1024; we reject 256 and deeper), integers with thousands of digits (orjson
rejects numbers that overflow a double), lone surrogates (escaped ones are rejected by orjson, raw
ones cannot be encoded) and valid JSON that is not an object.

Causes: ``too_large``, ``not_utf8``, ``empty``, ``bad_json``, ``too_deep``, ``not_an_object``,
``too_many_elements``, plus the adapter's ``unknown_format``, ``not_call_end``, ``bad_field``, and
``internal_error`` if an adapter bug raised anything else (the message is still counted).

`event_time(raw)` gives the replay engine the event time to pace by, without a full decode.
"""

from __future__ import annotations

import reprlib
from typing import Any

import orjson

from .adapters import AdapterError, Observation, adapt, adapt_query, looks_like_query
from .model import InvalidMessage
from .sanitize import clean, clean_multiline

__all__ = ["decode", "event_time", "MAX_BYTES", "MAX_DEPTH", "MAX_ELEMENTS", "RAW_LIMIT"]

#: Largest message accepted, in bytes (characters for an already decoded str).
MAX_BYTES = 1 << 20
#: Nesting depth at which a message is rejected. orjson's own limit is 1024; no real payload comes
#: near 256, and deep structures are what crash recursive code further down (renderers, exporters).
MAX_DEPTH = 256
#: Elements decoded from one message (a 1 MiB array of `{}` would otherwise yield 300k rejections).
MAX_ELEMENTS = 10_000
#: Length of the raw text kept beside each observation for the detail view.
RAW_LIMIT = 4000
#: Length of the raw text kept in an InvalidMessage.
SNIPPET_LIMIT = 200
# Containers walked when measuring an already parsed object: a Python object (unlike JSON text) can
# share sub-objects or even contain itself, so its walk needs a budget of its own.
_MAX_NODES = 200_000

_BOM_BYTES = b"\xef\xbb\xbf"

Decoded = tuple[list[tuple[Observation, str]], list[InvalidMessage]]


class _Rejected(Exception):
    """Internal: the whole message is rejected with this cause."""

    def __init__(self, cause: str, detail: str) -> None:
        super().__init__(detail)
        self.cause = cause
        self.detail = detail


def _as_text(data: bytes | str) -> str:
    return data if isinstance(data, str) else data.decode("utf-8", errors="backslashreplace")


def _dumps(value: object) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except Exception:  # YAML-only types, cycles: repr still shows what it was
        try:
            return repr(value)
        except Exception:
            return f"<{type(value).__name__}>"


def _too_deep(obj: object, limit: int = MAX_DEPTH, max_nodes: int | None = None) -> bool:
    """True if `obj` nests `limit` or more containers deep (iterative: deep input must not recurse).

    With `max_nodes`, raises `_Rejected("too_large")` when the walk visits more containers than that.
    """
    stack: list[tuple[Any, int]] = [(obj, 1)]
    nodes = 0
    while stack:
        o, d = stack.pop()
        nodes += 1
        if d >= limit:
            return True
        if max_nodes is not None and nodes > max_nodes:
            raise _Rejected("too_large", f"object with more than {max_nodes} nested containers")
        if isinstance(o, dict):
            stack.extend((v, d + 1) for v in o.values() if isinstance(v, (dict, list)))
        elif isinstance(o, list):
            stack.extend((v, d + 1) for v in o if isinstance(v, (dict, list)))
    return False


def _maybe_deep(text: bytes | str) -> bool:
    # Cheap pre-check: fewer than MAX_DEPTH opening brackets in the text cannot nest that deep, so the
    # walk runs only for the rare message that has many brackets.
    if isinstance(text, bytes):
        return text.count(b"[") + text.count(b"{") >= MAX_DEPTH
    return text.count("[") + text.count("{") >= MAX_DEPTH


class _Decoder:
    """One decode call: collects results for one message."""

    __slots__ = ("seq", "received", "observations", "invalid")

    def __init__(self, seq: int, received: float) -> None:
        self.seq = seq
        self.received = received
        self.observations: list[tuple[Observation, str]] = []
        self.invalid: list[InvalidMessage] = []

    def reject(self, cause: str, detail: str, text: object) -> None:
        if isinstance(text, str):
            text = text.strip()  # a line's own newline would show as a trailing "\n"
        self.invalid.append(
            InvalidMessage(self.seq, self.received, cause, clean(detail, 300), clean(text, SNIPPET_LIMIT))
        )

    # -- elements

    def element(self, obj: object, text: str, label: str) -> None:
        try:
            found = adapt(obj)
        except AdapterError as e:
            self.reject(e.cause, label + e.detail, text)
            return
        raw_view = clean_multiline(text.strip(), RAW_LIMIT)
        for o in found:
            self.observations.append((o, raw_view))

    def parsed(self, obj: object, text: str | None, where: str = "") -> None:
        """Split a parsed document into elements; `text` is its raw text when it was one element."""
        if isinstance(obj, list):
            if not obj:
                self.reject("empty", f"{where}an empty array", "[]")
                return
            for i, el in enumerate(obj[:MAX_ELEMENTS]):
                self.element(el, _dumps(el), f"{where}element {i + 1}: ")
            if len(obj) > MAX_ELEMENTS:
                self.reject(
                    "too_many_elements",
                    f"{where}{len(obj) - MAX_ELEMENTS} elements beyond the first {MAX_ELEMENTS} were not decoded",
                    _dumps(obj[MAX_ELEMENTS]),
                )
            return
        self.element(obj, text if text is not None else _dumps(obj), where)

    # -- text

    def text(self, data: bytes | str) -> None:
        if len(data) > MAX_BYTES:
            raise _Rejected("too_large", f"message of {len(data)} bytes exceeds the {MAX_BYTES}-byte cap")
        if isinstance(data, bytes):
            if data.startswith(_BOM_BYTES):
                data = data[3:]
        elif data.startswith("\ufeff"):
            data = data[1:]
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError as e:
            self.failed(data, e)
            return
        if _maybe_deep(data) and _too_deep(obj):
            raise _Rejected("too_deep", f"nesting {MAX_DEPTH} or more levels deep")
        self.parsed(obj, None if isinstance(obj, list) else _as_text(data))

    def failed(self, data: bytes | str, err: orjson.JSONDecodeError) -> None:
        """orjson refused the whole message: find out why, or decode it another way."""
        if isinstance(data, bytes):
            try:
                s = data.decode("utf-8")
            except UnicodeDecodeError as u:
                raise _Rejected("not_utf8", f"invalid UTF-8 at byte {u.start}") from None
        else:
            s = data
            try:
                s.encode("utf-8")
            except UnicodeEncodeError as u:
                raise _Rejected("not_utf8", f"lone surrogate at character {u.start} (not encodable)") from None
        if not s.strip():
            raise _Rejected("empty", "an empty or whitespace-only message")
        lines = [line for line in s.splitlines() if line.strip()]
        if len(lines) > 1 and all(line.lstrip()[:1] in ("{", "[") or looks_like_query(line) for line in lines):
            # Several events in one message (newline-separated JSON, or a log of callback query
            # strings): each line on its own, so one bad line is one rejection.
            for n, line in enumerate(lines[:MAX_ELEMENTS], 1):
                self.line(line, f"line {n}: ")
            if len(lines) > MAX_ELEMENTS:
                self.reject("too_many_elements", f"{len(lines) - MAX_ELEMENTS} lines were not decoded",
                            lines[MAX_ELEMENTS])
            return
        if looks_like_query(s) and s.lstrip()[:1] not in ("{", "[", '"'):
            self.query(s.strip(), "")
            return
        raise _Rejected(*_json_cause(err))

    def line(self, line: str, where: str) -> None:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            if looks_like_query(line) and line.lstrip()[:1] not in ("{", "["):
                self.query(line.strip(), where)
            else:
                cause, detail = _json_cause(e)
                self.reject(cause, where + detail, line)
            return
        if _maybe_deep(line) and _too_deep(obj):
            self.reject("too_deep", f"{where}nesting {MAX_DEPTH} or more levels deep", line)
            return
        self.parsed(obj, None if isinstance(obj, list) else line, where)

    def query(self, text: str, where: str) -> None:
        try:
            found = adapt_query(text)
        except AdapterError as e:
            self.reject(e.cause, where + e.detail, text)
            return
        raw_view = clean_multiline(text, RAW_LIMIT)
        self.observations.extend((o, raw_view) for o in found)


def _json_cause(err: orjson.JSONDecodeError) -> tuple[str, str]:
    msg = str(err)
    if "depth limit" in msg or "recursion" in msg.lower():
        return "too_deep", msg
    return "bad_json", msg


def decode(raw: Any) -> Decoded:
    """Decode one `RawMessage` into ``(observations, invalid)``; never raises.

    Each observation comes with its element's raw text (sanitized, at most `RAW_LIMIT` characters) for
    the detail view. Every message yields at least one observation or one InvalidMessage.
    """
    seq = getattr(raw, "seq", 0)
    received = getattr(raw, "received", 0.0)
    d = _Decoder(seq, received)
    data = getattr(raw, "data", None)
    try:
        oversize = getattr(raw, "oversize", 0) or 0
        if oversize > 0:
            # The reader cut the message at its cap; what we have is not the event.
            raise _Rejected("too_large", f"message of {oversize} bytes exceeds the reader's size cap")
        if isinstance(data, (bytes, bytearray, memoryview)):
            d.text(bytes(data))
        elif isinstance(data, str):
            d.text(data)
        else:
            # Already parsed (a YAML document, an element of a .json array).
            if isinstance(data, (dict, list)) and _too_deep(data, max_nodes=_MAX_NODES):
                raise _Rejected("too_deep", f"nesting {MAX_DEPTH} or more levels deep")
            d.parsed(data, None)
    except _Rejected as r:
        d.reject(r.cause, r.detail, _snippet(data))
    except Exception as e:  # noqa: BLE001 - a bug must cost one counted message, not the feed
        d.reject("internal_error", f"{type(e).__name__}: {e}", _snippet(data))
    if not d.observations and not d.invalid:  # defensive: the no-loss invariant holds regardless
        d.reject("internal_error", "message produced nothing", _snippet(data))
    return d.observations, d.invalid


# A bounded repr for rejected parsed objects: serialising a rejected object in full could be as costly
# as the problem it was rejected for (a deep or self-sharing structure).
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxstring, _REPR.maxother = 4, 10, 10, 120, 60


def _snippet(data: object) -> str:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return _as_text(bytes(data[: SNIPPET_LIMIT * 4]))
    if isinstance(data, str):
        return data[: SNIPPET_LIMIT * 4]
    try:
        return _REPR.repr(data)
    except Exception:
        return f"<{type(data).__name__}>"


def event_time(raw: Any) -> float | None:
    """The event time to pace a replay by: ``raw.recorded_at`` when set, else the first element's ts.

    A cheap, forgiving parse (first element, or first line, only); None when unknown. Never raises.
    """
    recorded = getattr(raw, "recorded_at", None)
    if recorded is not None:
        try:
            return float(recorded)
        except (TypeError, ValueError):
            return None
    try:
        data = getattr(raw, "data", None)
        if isinstance(data, (bytes, bytearray, memoryview)):
            data = bytes(data)
        if isinstance(data, (bytes, str)):
            if len(data) > MAX_BYTES or getattr(raw, "oversize", 0):
                return None
            obj = _first_document(data)
        else:
            obj = data
            if isinstance(obj, (dict, list)) and _too_deep(obj, max_nodes=_MAX_NODES):
                return None
        if isinstance(obj, list):
            obj = obj[0] if obj else None
        if obj is None:
            return None
        found = adapt(obj)
        return found[0].ts if found else None
    except Exception:  # AdapterError, bad JSON...: pacing falls back to receive order
        return None


def _first_document(data: bytes | str) -> object:
    if isinstance(data, bytes):
        data = data.removeprefix(_BOM_BYTES)
    else:
        data = data.removeprefix("\ufeff")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    text = _as_text(data).strip()
    first = text.split("\n", 1)[0].strip()
    if first[:1] in ("{", "["):
        return orjson.loads(first)
    if looks_like_query(first):
        return first  # adapt() parses a query string given as str
    return None
