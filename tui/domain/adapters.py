"""Recognise one parsed payload (the feed envelope or a vendor's native format) and extract call-end facts.

`adapt(obj)` turns one JSON object into `Observation`s: who (vendor), why (code/subcode as delivered),
when (ts), who ended it (source) and the ids around it. It does no catalog lookup: the pipeline does.
Anything that is not a call end it knows raises `AdapterError(cause, detail)`, which `decode.py`
turns into an `InvalidMessage` (so it is counted, never silently dropped).

Formats (vendor-formats.md has the details and the traps; fixtures/README.md has one sample of each):

- envelope: ``{ts, vendor, code, subcode?, call_id?, source?, call_type?, user_code?, message?,
  extra?, namespace?}``. Recognised by ``vendor`` + ``code`` keys; ``vendor`` alone (no native shape
  matches) also means the envelope, with no reason delivered.
- LiveKit: webhook ``WebhookEvent`` (participant_left / participant_connection_aborted / room_finished),
  client SDK events (``{"event": "Disconnected", "reason": ...}``), ``SIPCallInfo`` call records, the
  embedded C SDK failure reason (namespace ``c_sdk``).
- ACS: Calling SDK ``callEndReason`` (bare or wrapped), Event Grid and CloudEvents CallEnded /
  CallParticipantRemoved, Call Automation ``*Failed`` / CallDisconnected callbacks, Azure Monitor call
  summaries (diagnostic export records and ``ACSCallSummary`` rows).
- JsSIP: ``{originator, cause, message}`` (bare or ``{"event": "failed"|"ended", "data": ...}``).
- PlanetKit: ``DisconnectedParam`` from Android/iOS/Windows, Web and Flutter, AppServer GET callbacks
  (query string or parsed dict) and the legacy ``call_end_reason`` callback.

Decisions worth knowing:

- Codes are strings exactly as delivered; numbers become ``str(int)``. An empty code (and ACS logs'
  ``"null"``) means "no reason delivered" (``code=None``), never ``"0"``; ACS's missing subCode stays None.
- LiveKit omits zero values from protojson, so an absent ``disconnectReason`` on a participant is how
  UNKNOWN_REASON (0) is delivered (and also what servers older than Aug 2024 send: the two cannot be
  told apart). It is reported as code ``"0"`` with ``extra["reason_absent"] = True`` and a note in
  ``message``, not as "no reason delivered". ``room_finished`` carries no participant: code None.
- Every string placed in an Observation has been through `sanitize.clean` (bounded, control and
  bidi characters made visible): the UI can show them literally.
- Shapes that another format could also have (a bare ``{"reason": ..., "source": ...}``) need a
  distinctive field or a ``vendor`` marker; without one they are ``unknown_format``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson

from .sanitize import clean

__all__ = ["AdapterError", "Observation", "adapt", "parse_ts", "adapt_query", "looks_like_query"]


# --------------------------------------------------------------------------- public types


class AdapterError(Exception):
    """A parsed object that is not a call end callwatch knows.

    ``cause`` is short and machine-friendly: ``not_an_object``, ``unknown_format`` (no format
    matched; ``detail`` lists the keys it had), ``not_call_end`` (a known format, but an event that
    does not end a call, e.g. LiveKit participant_joined or the Event Grid validation handshake) or
    ``bad_field`` (a known format with an unusable field, e.g. a code that is an object).
    """

    def __init__(self, cause: str, detail: str) -> None:
        super().__init__(f"{cause}: {detail}")
        self.cause = cause
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Observation:
    """What one payload says about one call end, before any catalog lookup."""

    vendor: str
    code: str | None
    """The reason code as delivered (numbers as ``str(int)``); None = no reason delivered."""
    subcode: str | None = None
    namespace: str | None = None
    """Catalog namespace when the format fixes it (``c_sdk``, ``call_end_reason``), else None."""
    ts: float | None = None
    """Event time from the payload (Unix seconds), or None when the format has none."""
    source: str | None = None
    """Who ended the call, raw as delivered (PlanetKit source/releaser_type, JsSIP originator...)."""
    call_id: str | None = None
    call_type: str | None = None
    """"1:1" or "group" when the payload says so."""
    user_code: str | None = None
    message: str | None = None
    format: str = "envelope"
    """Which format was recognised (envelope, livekit.webhook, acs.eventgrid, jssip.session...)."""
    extra: dict[str, Any] | None = None
    """Further facts for the detail view (sanitized scalars)."""


# --------------------------------------------------------------------------- field helpers

_ID_LIMIT = 200
_CODE_LIMIT = 200
_MSG_LIMIT = 500
_EXTRA_KEYS = 40


def _code(value: object, field: str) -> str | None:
    """A code or subcode as a string exactly as delivered; None when absent or empty.

    Raises AdapterError("bad_field") for values that cannot be a code (objects, booleans, fractions):
    guessing would put the event under a wrong reason.
    """
    if value is None:
        return None
    t = type(value)  # exact-type checks first: this runs for every event
    if t is str:
        return clean(value, _CODE_LIMIT) if value.strip() else None
    if t is int:
        return str(value)
    if isinstance(value, str):
        return clean(value, _CODE_LIMIT) if value.strip() else None
    if isinstance(value, bool):
        raise AdapterError("bad_field", f"{field} is a boolean ({value})")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        raise AdapterError("bad_field", f"{field} is not an integer ({value!r})")
    raise AdapterError("bad_field", f"{field} is {_a(_kind(value))}, not a code")


def _text(value: object, limit: int = _ID_LIMIT) -> str | None:
    """An optional text field: None/empty -> None; scalars -> sanitized text; containers -> JSON text."""
    if value is None:
        return None
    if type(value) is str or isinstance(value, str):
        return clean(value, limit) if value else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return clean(value, limit)
    return clean(_dumps(value), limit)


def _dumps(value: object) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except Exception:  # not JSON-serialisable (e.g. a YAML-only type): still show something
        return repr(value)


def _scalar(value: object) -> Any:
    """A value for `extra`: sanitized text, or an int/float/bool kept as is."""
    t = type(value)
    if t is str:
        return clean(value, _MSG_LIMIT)
    if value is None or t is int or t is bool:
        return value
    if isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else clean(value)
    if isinstance(value, str):
        return clean(value, _MSG_LIMIT)
    return clean(_dumps(value), _MSG_LIMIT)


def _extra(pairs: Mapping[str, object] | None = None, **kv: object) -> dict[str, Any] | None:
    """Build `Observation.extra` from known facts, dropping absent (None/empty) ones; bounded."""
    out: dict[str, Any] = {}
    for source in (pairs, kv):
        if not source:
            continue
        for k, v in source.items():
            if v is None or v == "":
                continue
            if len(out) >= _EXTRA_KEYS:
                break
            out[clean(k, 64)] = _scalar(v)
    return out or None


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _kind(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number" if isinstance(value, (int, float)) else type(value).__name__
    )


def _first(obj: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first of `keys` present with a non-None value (for casing variants)."""
    for k in keys:
        v = obj.get(k)
        if v is not None:
            return v
    return None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --------------------------------------------------------------------------- timestamps

# Plausible event times: after 1970 and before the year 3000. Anything else is a unit mistake or junk,
# and would wreck per-second buckets and replay pacing.
_TS_MAX = 32_503_680_000.0
_NUMERIC = re.compile(r"-?\d+(?:\.\d+)?")


def _scale(x: float) -> float | None:
    # Unix time in s, ms, µs or ns: a value in seconds above 1e11 would be after the year 5000,
    # so larger magnitudes are finer units (LiveKit *AtNs, PlanetKit ts in ms).
    if x > 1e17:
        x /= 1e9
    elif x > 1e14:
        x /= 1e6
    elif x > 1e11:
        x /= 1e3
    return x if 0 < x < _TS_MAX else None


def parse_ts(value: object) -> float | None:
    """Unix seconds from an RFC 3339 string, or Unix s/ms/µs/ns as a number or numeric string.

    A time without a zone is taken as UTC. Returns None for anything else (never raises); 0 is "unset"
    (PlanetKit callbacks send ``start_time=0`` for calls that never started).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        x = float(value)
        return _scale(x) if math.isfinite(x) else None
    if not isinstance(value, str):
        return None
    v = value.strip()
    if not v or len(v) > 64:
        return None
    if "-" not in v[1:] and _NUMERIC.fullmatch(v):
        return _scale(float(v))
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        try:  # RFC 3339 allows lower-case "t" and "z"; fromisoformat does not
            dt = datetime.fromisoformat(v.upper())
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        x = dt.timestamp()
    except (OverflowError, ValueError, OSError):
        return None
    return x if 0 < x < _TS_MAX else None


def _ts_and_note(value: object, extra: dict[str, Any] | None) -> tuple[float | None, dict[str, Any] | None]:
    """parse_ts, and keep an unparseable (present) time visible in extra instead of losing it."""
    ts = parse_ts(value)
    if ts is None and value not in (None, "", 0, "0"):
        extra = dict(extra or {})
        extra["ts_invalid"] = _scalar(value)
    return ts, extra


# --------------------------------------------------------------------------- vendor hint

_HINTS = {
    "livekit": "livekit",
    "acs": "acs",
    "azure": "acs",
    "azure_communication_services": "acs",
    "jssip": "jssip",
    "planetkit": "planetkit",
    "planet": "planetkit",
    "lineplanet": "planetkit",
    "line_planet": "planetkit",
    "webplanetkit": "planetkit",
}


def _hint(obj: Mapping[str, Any]) -> str | None:
    """The vendor a `vendor` marker names (None: no marker; "?": a marker we have no native format for)."""
    v = obj.get("vendor")
    if not isinstance(v, str):
        return None
    key = v.strip().lower().replace(" ", "_").replace("-", "_")
    return _HINTS.get(key, "?")


# --------------------------------------------------------------------------- envelope

_ENVELOPE_KEYS = frozenset(
    {"ts", "vendor", "code", "subcode", "subCode", "call_id", "source", "call_type", "user_code",
     "message", "extra", "namespace"}
)


def _envelope(obj: Mapping[str, Any]) -> list[Observation]:
    vendor = obj.get("vendor")
    if not isinstance(vendor, str) or not vendor.strip():
        raise AdapterError("bad_field", f"vendor must be a non-empty string, got {_kind(vendor)}")
    given = obj.get("extra")
    extra = _extra(given) if isinstance(given, dict) else _extra(extra=given) if given is not None else None
    if not _ENVELOPE_KEYS.issuperset(obj):
        # Unknown top-level keys go to extra so the detail view still shows them.
        others = _extra({k: v for k, v in obj.items() if k not in _ENVELOPE_KEYS})
        if others:
            extra = {**extra, **others} if extra else others
    ts, extra = _ts_and_note(obj.get("ts"), extra)
    return [
        Observation(
            vendor=clean(vendor.strip().lower(), 64),
            code=_code(obj.get("code"), "code"),
            # "subCode" too: ACS payloads relabelled as envelopes keep Microsoft's spelling.
            subcode=_code(_first(obj, "subcode", "subCode"), "subcode"),
            namespace=_text(obj.get("namespace"), 64),
            ts=ts,
            source=_text(obj.get("source")),
            call_id=_text(obj.get("call_id")),
            call_type=_text(obj.get("call_type"), 32),
            user_code=_text(obj.get("user_code")),
            message=_text(obj.get("message"), _MSG_LIMIT),
            format="envelope",
            extra=extra,
        )
    ]


# --------------------------------------------------------------------------- LiveKit

_LK_END_EVENTS = frozenset({"participant_left", "participant_connection_aborted", "room_finished"})
_LK_OTHER_EVENTS = frozenset(
    {"room_started", "participant_joined", "participant_active", "track_published",
     "track_unpublished", "egress_started", "egress_updated", "egress_ended", "ingress_started",
     "ingress_ended"}
)
_LK_CLIENT_EVENTS = frozenset(
    {"Disconnected", "disconnected", "participantDisconnected", "ParticipantDisconnected",
     "participant_disconnected"}
)
_LK_ABSENT_NOTE = (
    "disconnectReason absent: UNKNOWN_REASON (0, omitted by protojson) or a server older than Aug 2024"
)


def _lk_reason(holder: Mapping[str, Any], *keys: str) -> tuple[str, dict[str, Any] | None, str | None]:
    """LiveKit reason as code, plus the absent-reason marker and note (see the module docstring)."""
    code = _code(_first(holder, *keys), "disconnectReason")
    if code is None:
        return "0", {"reason_absent": True}, _LK_ABSENT_NOTE
    return code, None, None


def _livekit_webhook(obj: Mapping[str, Any], hint: str | None) -> list[Observation] | None:
    event = obj.get("event")
    if not isinstance(event, str) or event not in _LK_END_EVENTS | _LK_OTHER_EVENTS:
        return None
    if not any(k in obj for k in ("room", "participant", "id", "createdAt", "created_at", "track",
                                  "egressInfo", "egress_info", "ingressInfo", "ingress_info")):
        return None
    if event not in _LK_END_EVENTS:
        raise AdapterError("not_call_end", f"LiveKit webhook event {clean(event, 64)}")
    room = _dict(obj.get("room"))
    participant = _dict(obj.get("participant"))
    facts = _extra(
        event=event,
        event_id=obj.get("id"),
        room_name=room.get("name"),
        participant_identity=participant.get("identity"),
        participant_sid=participant.get("sid"),
        participant_kind=participant.get("kind"),
    )
    code: str | None = None
    note = None
    if participant:
        code, absent, note = _lk_reason(participant, "disconnectReason", "disconnect_reason")
        if absent:
            facts = {**(facts or {}), **absent}
    ts, facts = _ts_and_note(_first(obj, "createdAt", "created_at"), facts)
    return [
        Observation(
            vendor="livekit",
            code=code,
            ts=ts,
            call_id=_text(_first(room, "sid", "name")),
            message=note,
            format="livekit.webhook",
            extra=facts,
        )
    ]


def _livekit_client(obj: Mapping[str, Any], hint: str | None) -> list[Observation] | None:
    event = obj.get("event")
    if not isinstance(event, str) or event not in _LK_CLIENT_EVENTS:
        return None
    if "data" in obj and hint != "livekit":
        return None  # {"event": "disconnected", "data": {...}} is JsSIP's UA transport event
    participant = _dict(obj.get("participant"))
    if obj.get("reason") is not None:
        code, absent, note = _lk_reason(obj, "reason")
    else:
        # Python livekit.rtc: participant_disconnected sets participant.disconnect_reason (int or None).
        code, absent, note = _lk_reason(participant, "disconnectReason", "disconnect_reason")
    room = obj.get("room")
    room_name = _first(_dict(room), "name", "sid") if isinstance(room, dict) else room
    facts = _extra(
        absent,
        event=event,
        participant_identity=_first(participant, "identity") or obj.get("identity"),
    )
    ts, facts = _ts_and_note(_first(obj, "ts", "time", "timestamp"), facts)
    return [
        Observation(
            vendor="livekit",
            code=code,
            ts=ts,
            call_id=_text(_first(obj, "call_id", "roomSid", "room_sid") or room_name),
            message=note,
            format="livekit.client",
            extra=facts,
        )
    ]


_SIP_MARKERS = ("callStatus", "call_status", "callStatusCode", "call_status_code")
_SIP_IDS = ("trunkId", "trunk_id", "callId", "call_id", "sipCallId", "sip_call_id", "dispatchRuleId",
            "dispatch_rule_id")
_SIP_ENDED = frozenset({"SCS_DISCONNECTED", "SCS_ERROR", "3", "4"})


def _livekit_sip(obj: Mapping[str, Any], hint: str | None) -> list[Observation] | None:
    if not any(k in obj for k in _SIP_MARKERS) or not any(k in obj for k in _SIP_IDS):
        return None
    status = _first(obj, "callStatus", "call_status")
    status_s = None if status is None else str(status)
    ended_at = _first(obj, "endedAtNs", "ended_at_ns", "endedAt", "ended_at")
    reason_given = _first(obj, "disconnectReason", "disconnect_reason") is not None
    # SCS_CALL_INCOMING is 0 and therefore omitted: an absent status is a call still ringing unless
    # the record says it ended.
    if status_s not in _SIP_ENDED and not (status is None and (ended_at is not None or reason_given)):
        raise AdapterError("not_call_end", f"LiveKit SIP call in state {clean(status_s or 'SCS_CALL_INCOMING', 64)}")
    code, absent, note = _lk_reason(obj, "disconnectReason", "disconnect_reason")
    sip = _dict(_first(obj, "callStatusCode", "call_status_code"))
    facts = _extra(
        absent,
        call_status=status_s,
        sip_status=sip.get("code"),
        sip_status_text=sip.get("status"),
        trunk_id=_first(obj, "trunkId", "trunk_id"),
        room_name=_first(obj, "roomName", "room_name"),
        participant_identity=_first(obj, "participantIdentity", "participant_identity"),
        sip_call_id=_first(obj, "sipCallId", "sip_call_id"),
        call_direction=_first(obj, "callDirection", "call_direction"),
    )
    error = _first(obj, "error")
    ts, facts = _ts_and_note(ended_at if ended_at is not None else _first(obj, "createdAtNs", "created_at_ns", "createdAt", "created_at"), facts)
    return [
        Observation(
            vendor="livekit",
            code=code,
            ts=ts,
            call_id=_text(_first(obj, "callId", "call_id")),
            message=_text(error, _MSG_LIMIT) or note,
            format="livekit.sip",
            extra=facts,
        )
    ]


_C_SDK_PREFIX = "LIVEKIT_FAILURE_REASON_"


def _livekit_c_sdk(obj: Mapping[str, Any], hint: str | None) -> list[Observation] | None:
    if "livekit_failure_reason" in obj:
        value = obj["livekit_failure_reason"]
    elif "failure_reason" in obj or "failureReason" in obj:
        value = _first(obj, "failure_reason", "failureReason")
        # A generic key name: accept it only when the value or a marker says it is LiveKit's enum.
        if not (
            hint == "livekit"
            or obj.get("namespace") == "c_sdk"
            or (isinstance(value, int) and not isinstance(value, bool))
            or (isinstance(value, str) and (value.isdigit() or value.startswith(_C_SDK_PREFIX)))
        ):
            return None
    else:
        return None
    facts = _extra(connection_state=_first(obj, "connection_state", "state"), room=obj.get("room"))
    ts, facts = _ts_and_note(_first(obj, "ts", "time", "timestamp"), facts)
    return [
        Observation(
            vendor="livekit",
            code=_code(value, "failure_reason"),
            namespace="c_sdk",
            ts=ts,
            call_id=_text(_first(obj, "call_id", "room_sid")),
            message=_text(_first(obj, "failure_reason_str", "reason_str", "message"), _MSG_LIMIT),
            format="livekit.c_sdk",
            extra=facts,
        )
    ]


# --------------------------------------------------------------------------- ACS

_ACS_PREFIX = "Microsoft.Communication."
_ACS_AUTOMATION = frozenset(
    {"CallDisconnected", "CreateCallFailed", "AnswerFailed", "ConnectFailed", "AddParticipantFailed",
     "RemoveParticipantFailed", "CallTransferFailed"}
)


def _acs_subcode(holder: Mapping[str, Any]) -> str | None:
    # JS/wire "subCode", Android/iOS "subcode", docs' PascalCase "SubCode". Missing stays None:
    # code-only rows exist (408, 410, 480...), so a missing subcode is not 0 (vendor-formats ACS #6).
    return _code(_first(holder, "subCode", "subcode", "SubCode"), "subCode")


def _acs_events(obj: Mapping[str, Any], hint: str | None) -> list[Observation] | None:
    etype = obj.get("eventType")
    fmt = "acs.eventgrid"
    if not isinstance(etype, str):
        etype = obj.get("type")
        if not isinstance(etype, str) or "data" not in obj or not etype.startswith("Microsoft."):
            return None
        fmt = "acs.cloudevents"
    if etype == "Microsoft.EventGrid.SubscriptionValidationEvent":
        raise AdapterError("not_call_end", "Event Grid subscription validation handshake")
    if not etype.startswith(_ACS_PREFIX):
        raise AdapterError("not_call_end", f"event type {clean(etype, 120)}")
    name = etype[len(_ACS_PREFIX):]
    data = _dict(obj.get("data"))
    ts, facts = _ts_and_note(_first(obj, "eventTime", "time"), None)
    base = _extra(
        facts,
        event_type=name,
        event_id=obj.get("id"),
        correlation_id=data.get("correlationId"),
    )
    if name == "CallEnded":
        return [_acs_call_ended(data, ts, fmt, base)]
    if name == "CallParticipantRemoved":
        user = _dict(data.get("user"))
        return [
            Observation(
                vendor="acs",
                code=None,  # this event carries no reason (vendor-formats ACS #7)
                ts=ts,
                call_id=_text(data.get("serverCallId")),
                format=fmt,
                extra=_extra(
                    base,
                    participant_id=data.get("participantId"),
                    display_name=data.get("displayName"),
                    user=user.get("rawId"),
                ),
            )
        ]
    if name in _ACS_AUTOMATION:
        info = _dict(_first(data, "resultInformation", "ResultInformation"))
        sip = _dict(_first(info, "sipDetails", "SipDetails"))
        q850 = _dict(_first(info, "q850Details", "Q850Details"))
        return [
            Observation(
                vendor="acs",
                code=_code(_first(info, "code", "Code"), "resultInformation.code"),
                subcode=_acs_subcode(info),
                ts=ts,
                call_id=_text(_first(data, "callConnectionId", "serverCallId")),
                message=_text(_first(info, "message", "Message"), _MSG_LIMIT),
                format="acs.call_automation",
                extra=_extra(
                    base,
                    server_call_id=data.get("serverCallId"),
                    operation_context=data.get("operationContext"),
                    sip_code=_first(sip, "code", "Code"),
                    sip_message=_first(sip, "message", "Message"),
                    q850_code=_first(q850, "code", "Code"),
                    q850_message=_first(q850, "message", "Message"),
                ),
            )
        ]
    raise AdapterError("not_call_end", f"ACS event {clean(name, 120)}")


def _acs_call_ended(data: Mapping[str, Any], ts: float | None, fmt: str,
                    base: dict[str, Any] | None) -> Observation:
    reason = _dict(data.get("reason"))
    ended_by = _dict(data.get("endedBy"))
    ident = _dict(ended_by.get("communicationIdentifier"))
    two_party = data.get("isTwoParty")
    return Observation(
        vendor="acs",
        # 2021/22 CallEnded samples have no reason at all: code None, "no reason delivered".
        code=_code(reason.get("code"), "reason.code"),
        subcode=_acs_subcode(reason),
        ts=ts,
        # Who ended it: endedBy.type (the SDKs rename it kind): Participant / MicrosoftInternal.
        source=_text(_first(ended_by, "type", "kind")),
        call_id=_text(data.get("serverCallId")),
        call_type=("1:1" if two_party else "group") if isinstance(two_party, bool) else None,
        message=_text(reason.get("phrase"), _MSG_LIMIT),
        format=fmt,
        extra=_extra(
            base,
            ended_by_name=ended_by.get("name"),
            ended_by_id=ident.get("rawId"),
            duration_s=_first(data, "callDurationInSeconds", "durationOfCall"),
            is_rooms_call=data.get("isRoomsCall"),
        ),
    )


_ACS_SDK_KEYS = frozenset({"code", "subCode", "subcode", "message", "resultCategories", "callId", "id",
                           "ts", "time", "timestamp"})


def _acs_calling_sdk(obj: Mapping[str, Any], hint: str | None) -> list[Observation] | None:
    wrapped = _first(obj, "callEndReason", "CallEndReason")
    if isinstance(wrapped, dict):
        reason, outer = wrapped, obj
    elif "code" in obj and "vendor" not in obj and obj.keys() <= _ACS_SDK_KEYS:
        # A bare {code, subCode?}: no other supported format has this shape. Require a numeric code so
        # that {"code": "Busy"} from something else is not mistaken for ACS.
        c = obj["code"]
        if not ((isinstance(c, int) and not isinstance(c, bool)) or (isinstance(c, str) and c.strip().isdigit())):
            return None
        reason, outer = obj, obj
    else:
        return None
    cats = reason.get("resultCategories")
    facts = _extra(
        state=outer.get("state"),
        result_categories=", ".join(map(str, cats)) if isinstance(cats, list) else cats,
    )
    ts, facts = _ts_and_note(_first(outer, "ts", "time", "timestamp"), facts)
    return [
        Observation(
            vendor="acs",
            code=_code(reason.get("code"), "callEndReason.code"),
            subcode=_acs_subcode(reason),
            ts=ts,
            call_id=_text(_first(outer, "callId", "id")),
            message=_text(reason.get("message"), _MSG_LIMIT),
            format="acs.calling_sdk",
            extra=facts,
        )
    ]


def _acs_log(value: object) -> object:
    # Logs store absent values as "" or the literal "null" (vendor-formats ACS #5).
    if isinstance(value, str) and value.strip().lower() in ("", "null"):
        return None
    return value


_CALL_TYPES = {"p2p": "1:1", "group": "group"}


def _acs_summary(obj: Mapping[str, Any], hint: str | None) -> list[Observation] | None:
    props = obj.get("properties")
    if isinstance(props, dict) and (
        "CallSummary" in (obj.get("operationName"), obj.get("category"))
        or "participantEndReason" in props
        or "ParticipantEndReason" in props
    ):
        fmt = "acs.call_summary"
    elif "ParticipantEndReason" in obj or "participantEndReason" in obj or obj.get("Type") == "ACSCallSummary":
        props, fmt = obj, "acs.log_analytics"
    else:
        return None

    def get(*names: str) -> object:
        # The export's properties are camelCase in the docs; Log Analytics columns are PascalCase;
        # the docs do not show every field in both, so accept either (vendor-formats "Limits").
        for n in names:
            for key in (n, n[0].upper() + n[1:]):
                v = _acs_log(props.get(key))
                if v is None and props is not obj:
                    v = _acs_log(obj.get(key))
                if v is not None:
                    return v
        return None

    call_type = get("callType")
    ct = _CALL_TYPES.get(call_type.lower()) if isinstance(call_type, str) else None
    facts = _extra(
        participant_id=get("participantId"),
        result_category=get("resultCategory"),
        endpoint_type=get("endpointType"),
        participant_type=get("participantType"),
        pstn_participant_call_type=get("pstnParticipantCallType"),
        participant_duration_s=get("participantDuration"),
        sdk_version=get("sdkVersion"),
        os_version=get("osVersion"),
        call_type_raw=call_type if ct is None else None,
    )
    ts, facts = _ts_and_note(get("time", "timeGenerated") or get("participantStartTime"), facts)
    return [
        Observation(
            vendor="acs",
            code=_code(get("participantEndReason"), "participantEndReason"),
            subcode=_code(get("participantEndSubCode"), "participantEndSubCode"),
            ts=ts,
            call_id=_text(get("correlationId")),
            call_type=ct,
            format=fmt,
            extra=facts,
        )
    ]


# --------------------------------------------------------------------------- JsSIP

_JSSIP_END_EVENTS = frozenset({"failed", "ended", "_failed"})
_JSSIP_OTHER_EVENTS = frozenset(
    {"progress", "accepted", "confirmed", "sending", "newDTMF", "newInfo", "hold", "unhold", "muted",
     "unmuted", "reinvite", "update", "refer", "replaces", "sdp", "icecandidate", "getusermediafailed",
     "peerconnection", "connecting", "connected", "disconnected", "registered", "unregistered",
     "registrationFailed", "registrationExpiring", "newRTCSession", "newMessage", "newOptions"}
)
_ORIGINATORS = frozenset({"local", "remote", "system"})


def _is_originator(value: object) -> bool:
    # isinstance first: a hostile payload's dict/list value is unhashable and would raise in `in`.
    return isinstance(value, str) and value in _ORIGINATORS


def _jssip(obj: Mapping[str, Any], hint: str | None) -> list[Observation] | None:
    event = obj.get("event")
    data = obj.get("data")
    if isinstance(event, str) and isinstance(data, dict):
        if event in _JSSIP_OTHER_EVENTS:
            raise AdapterError("not_call_end", f"JsSIP event {event}")
        if event not in _JSSIP_END_EVENTS:
            return None
        body, outer = data, obj
    elif _is_originator(obj.get("originator")) and ("cause" in obj or "message" in obj):
        body, outer = obj, obj
    else:
        return None
    message = body.get("message")
    facts: dict[str, Any] = {}
    text: str | None = None
    call_id = None
    status = None
    if isinstance(message, dict):
        # An IncomingResponse (status_code, reason_phrase) or an IncomingRequest (method BYE/CANCEL).
        status = message.get("status_code")
        call_id = message.get("call_id")
        if status is not None:
            facts["status_code"] = status
            facts["reason_phrase"] = message.get("reason_phrase")
            text = _text(message.get("reason_phrase"), _MSG_LIMIT)
        else:
            facts["method"] = message.get("method")
            text = _text(message.get("method")) and f"{_text(message.get('method'))} request"
        # Q.850 / SIP reasons live only in the Reason header (vendor-formats JsSIP #4).
        reason_hdr = _dict(message.get("headers")).get("Reason")
        if isinstance(reason_hdr, list):
            facts["reason_header"] = "; ".join(
                str(h.get("raw")) for h in reason_hdr if isinstance(h, dict) and h.get("raw") is not None
            )
    elif message is not None:
        text = _text(message, _MSG_LIMIT)  # the error string of "Internal Error"
    cause = body.get("cause")
    code = _code(cause, "cause")
    if code is None and status is not None:
        code = _code(status, "status_code")
    if isinstance(event, str) and body is not obj:
        facts["event"] = event
    ts, extra = _ts_and_note(_first(outer, "ts", "time", "timestamp"), _extra(facts))
    return [
        Observation(
            vendor="jssip",
            code=code,
            ts=ts,
            source=_text(body.get("originator")),
            call_id=_text(call_id or _first(outer, "call_id", "session_id")),
            message=text,
            format="jssip.session",
            extra=extra,
        )
    ]


# --------------------------------------------------------------------------- PlanetKit

_PK_CALLBACK_KEYS = frozenset(
    {"sid", "releaser_type", "releaser", "terminate", "user_rel_code", "rel_code", "rel_code_str",
     "setup_time", "start_time", "end_time", "duration", "from_user_id", "to_user_id",
     "from_service_id", "to_service_id", "billing_sec", "svc_id", "sc", "msc", "ue_type", "host_id"}
)
_PK_GROUP_KEYS = ("sc", "msc", "svc_id", "host_id", "ue_type", "online")
_PK_EXTRA_KEYS = ("terminate", "rel_code", "rel_code_str", "type", "media_type", "duration",
                  "billing_sec", "sc", "msc", "ue_type", "from_user_id", "to_user_id", "user_id", "id")
_PK_NAME_PREFIXES = ("PLNK_", "PLANETKIT_")


def _pk_value(value: object) -> object:
    # Callback values are strings and optional ones may be empty (vendor-formats PlanetKit #2).
    return None if isinstance(value, str) and not value.strip() else value


def _planetkit_callback(obj: Mapping[str, Any], hint: str | None, *, from_query: bool = False) -> list[Observation] | None:
    if "disconnect_reason" in obj:
        key, namespace, source_key, fmt = "disconnect_reason", None, "releaser_type", "planetkit.appserver"
    elif "call_end_reason" in obj:
        # The 2020 server table: 1001 here is CALLEE_BUSY, not NORMAL. Pick the table by field name.
        key, namespace, source_key, fmt = "call_end_reason", "call_end_reason", "releaser", "planetkit.appserver_legacy"
    else:
        return None
    if not (from_query or hint == "planetkit" or not _PK_CALLBACK_KEYS.isdisjoint(obj.keys())):
        return None
    v = {k: _pk_value(val) for k, val in obj.items()}
    code = _code(v.get(key), key)
    group = any(k in obj for k in _PK_GROUP_KEYS)
    # A group callback also fires when someone joins (msc C) or changes media (msc M).
    if group and code is None and v.get("msc") in ("C", "M") and v.get("sc") != "E":
        raise AdapterError("not_call_end", f"PlanetKit group call event sc={v.get('sc')} msc={v.get('msc')}")
    when = None
    for k in ("end_time", "ts", "setup_time"):
        when = parse_ts(v.get(k))
        if when is not None:
            break
    # `terminate` is kept for the detail view only: it is 16 whenever duration > 0, whatever the
    # real reason, so it must never drive severity (vendor-formats PlanetKit #3).
    facts = _extra({k: v.get(k) for k in _PK_EXTRA_KEYS})
    if from_query:
        facts = {**(facts or {}), "query_string": True}
    return [
        Observation(
            vendor="planetkit",
            code=code,
            namespace=namespace,
            ts=when,
            source=_text(v.get(source_key)),
            call_id=_text(v.get("sid")),
            call_type="group" if group else ("1:1" if "from_user_id" in obj or "to_user_id" in obj else None),
            user_code=_text(v.get("user_rel_code")),
            format=fmt,
            extra=facts,
        )
    ]


def _planetkit_flutter(obj: Mapping[str, Any], hint: str | None) -> list[Observation] | None:
    if not ("disconnectSource" in obj or ("subType" in obj and "disconnectReason" in obj)):
        return None
    sub = obj.get("subType")
    if sub is not None and str(sub) != "1":
        raise AdapterError("not_call_end", f"PlanetKit Flutter event subType {clean(sub, 16)}")
    kind = obj.get("type")
    facts = _extra(by_remote=obj.get("byRemote"), event_type=kind)
    ts, facts = _ts_and_note(_first(obj, "ts", "time", "timestamp"), facts)
    return [
        Observation(
            vendor="planetkit",
            code=_code(_pk_value(obj.get("disconnectReason")), "disconnectReason"),
            ts=ts,
            source=_text(obj.get("disconnectSource")),
            call_id=_text(obj.get("id")),
            call_type={0: "1:1", 2: "group"}.get(kind) if isinstance(kind, int) else None,
            user_code=_text(_pk_value(obj.get("userCode"))),
            format="planetkit.flutter",
            extra=facts,
        )
    ]


def _planetkit_param(obj: Mapping[str, Any], hint: str | None) -> list[Observation] | None:
    if "reason" not in obj:
        return None
    reason = obj["reason"]
    if isinstance(reason, dict):
        # Web: {source: "callee", reason: {code: 1202, strCode: "PLANETKIT_DISCONNECT_REASON_BUSY"}}.
        if "strCode" not in reason and hint != "planetkit":
            return None
        raw_code = reason.get("code")
        code = _code(raw_code, "reason.code") if raw_code is not None else _code(reason.get("strCode"), "reason.strCode")
        fmt = "planetkit.web"
        facts = _extra(str_code=reason.get("strCode"))
    else:
        # Android (enum names), iOS (Int raw values), Windows (PLNK_ names): {reason, source, byRemote,
        # userCode}. "reason"+"source" alone is too generic: require a PlanetKit-only field or marker.
        distinctive = "byRemote" in obj or "userCode" in obj or hint == "planetkit" or (
            isinstance(reason, str) and reason.startswith(_PK_NAME_PREFIXES)
        )
        if not distinctive:
            return None
        code = _code(_pk_value(reason), "reason")
        fmt = "planetkit.sdk"
        facts = _extra(by_remote=obj.get("byRemote"))
    ts, facts = _ts_and_note(_first(obj, "ts", "time", "timestamp"), facts)
    call_type = obj.get("call_type") or obj.get("callType")
    return [
        Observation(
            vendor="planetkit",
            code=code,
            ts=ts,
            source=_text(obj.get("source")),
            call_id=_text(_first(obj, "call_id", "callId", "sid")),
            call_type=_text(call_type, 32),
            user_code=_text(_pk_value(obj.get("userCode"))),
            format=fmt,
            extra=facts,
        )
    ]


# --------------------------------------------------------------------------- query strings

_QUERY_MARKERS = ("disconnect_reason=", "call_end_reason=")


def looks_like_query(text: str) -> bool:
    """True when `text` is (or ends with) a PlanetKit AppServer callback query string."""
    return any(m in text for m in _QUERY_MARKERS)


def adapt_query(text: str) -> list[Observation]:
    """Adapt a PlanetKit AppServer GET callback given as a query string (or a full callback URL).

    Values are URL-decoded strings; the first occurrence of a repeated key wins.
    """
    from urllib.parse import parse_qsl  # noqa: PLC0415  (rare path; keep import cost off the hot path)

    query = text.strip()
    if "?" in query:
        query = query.split("?", 1)[1]
    params: dict[str, str] = {}
    for k, val in parse_qsl(query, keep_blank_values=True, max_num_fields=200):
        params.setdefault(k.strip(), val)
    result = _planetkit_callback(params, "planetkit", from_query=True)
    if result is None:  # unreachable: looks_like_query guaranteed a marker key
        raise AdapterError("unknown_format", "query string without disconnect_reason or call_end_reason")
    return result


# --------------------------------------------------------------------------- dispatch

Detector = Callable[[Mapping[str, Any], "str | None"], "list[Observation] | None"]

# Order matters only where shapes could overlap: events with a distinctive "type"/"event" come first,
# generic shapes (bare ACS {code}, PlanetKit {reason, source}) last.
_DETECTORS: tuple[tuple[str, Detector], ...] = (
    ("acs", _acs_events),
    ("livekit", _livekit_webhook),
    ("livekit", _livekit_client),
    ("jssip", _jssip),
    ("livekit", _livekit_sip),
    ("livekit", _livekit_c_sdk),
    ("acs", _acs_summary),
    ("planetkit", _planetkit_flutter),
    ("planetkit", _planetkit_callback),
    ("planetkit", _planetkit_param),
    ("acs", _acs_calling_sdk),
)


def _describe(obj: Mapping[str, Any]) -> str:
    if not obj:
        return "an empty object"
    keys = [clean(k, 40) for k in list(obj.keys())[:20]]
    more = f" (+{len(obj) - 20} more)" if len(obj) > 20 else ""
    return "no known call-end format has keys: " + ", ".join(sorted(keys)) + more


def adapt(obj: object) -> list[Observation]:
    """Recognise one parsed element and return its call-end observation(s).

    Raises AdapterError when `obj` is not an object (``not_an_object``), matches no format
    (``unknown_format``), is a known event that does not end a call (``not_call_end``) or has an
    unusable field (``bad_field``). Any other exception would be a bug; `decode` still guards it.
    """
    if not isinstance(obj, dict):
        if isinstance(obj, str) and looks_like_query(obj):
            return adapt_query(obj)
        raise AdapterError("not_an_object", f"a JSON {_kind(obj)} is not an event object")
    if "vendor" in obj and "code" in obj:
        return _envelope(obj)
    hint = _hint(obj)
    if hint != "?":
        for vendor, detector in _DETECTORS:
            if hint is None or hint == vendor:
                found = detector(obj, hint)
                if found is not None:
                    return found
    if "vendor" in obj:
        return _envelope(obj)  # an envelope without a code: no reason delivered
    raise AdapterError("unknown_format", _describe(obj))
