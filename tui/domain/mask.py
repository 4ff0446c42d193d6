"""Pseudonymise personal values (call ids, user identities, phone numbers, rooms) for screens and exports.

Pure Python (never imports textual). When masking is on, the UI shows `Masker.mask_event(event)`
instead of the event, and exports and reports pass their `Masker` along, so a screenshot or a file
handed to a vendor's support desk carries no call id, user id, phone number, SIP URI, e-mail
address, room or display name.

Pseudonyms are stable within a session (the same value always gets the same pseudonym, so an
operator can still see that ten failures share one call or one user) and carry nothing of the value
(no "last four digits"): they are an HMAC-SHA256 of the value under a random per-session key, so they
cannot be reversed by hashing every phone number, and they differ between sessions. Pass a fixed
`key` for reproducible output (tests, snapshots).

Formats: ``call-3f2a9c``, ``user-…``, ``phone-…``, ``room-…``, ``name-…``, ``email-…``, ``sip:user-…``
(SIP/tel URIs keep their scheme), ``id-…``. The same value gets the same hex part whatever its kind,
so a room name used as a call id still correlates.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable
from typing import Any

from tui.domain.model import CallEnd
from tui.domain.export import safe_json_dumps

__all__ = ["Masker", "KINDS", "PERSONAL_KEYS"]

#: Pseudonym prefix per kind of value.
KINDS: dict[str, str] = {
    "call": "call-",
    "identity": "user-",
    "phone": "phone-",
    "room": "room-",
    "name": "name-",
    "email": "email-",
    "id": "id-",
}

# Keys are compared in this normal form: lower case without "_" and "-" (callId == call_id == call-id).
def _norm_key(key: object) -> str:
    return str(key).lower().replace("_", "").replace("-", "")


#: Payload keys whose value is personal wherever they appear, and the kind of pseudonym they get.
PERSONAL_KEYS: dict[str, str] = {
    _norm_key(k): kind
    for kind, keys in {
        "call": ("callId", "call_id", "serverCallId", "correlationId", "sipCallId", "callConnectionId",
                 "callSid", "sid", "roomSid", "room_sid", "session_id", "sessionId"),
        "identity": ("identity", "participantIdentity", "participantId", "participant_id", "participantSid",
                     "from_user_id", "to_user_id", "user_id", "userId", "rawId", "mri", "user",
                     "callerId", "calleeId", "caller", "callee", "from_service_id", "to_service_id"),
        "phone": ("phoneNumber", "phone", "msisdn", "callerNumber", "calleeNumber", "fromNumber", "toNumber"),
        "room": ("roomName", "room_name", "room", "roomId", "room_id"),
        "name": ("displayName", "display_name", "participantName", "callerName", "calleeName", "userName"),
        "email": ("email", "mail", "upn", "userPrincipalName"),
    }.items()
    for k in keys
}

#: Generic keys that are personal only under these parents (normalized): `name` of a participant is a
#: person, `name` of an error code is not.
CONTEXT_KEYS: dict[str, dict[str, str]] = {
    "name": {
        **{p: "name" for p in ("participant", "endedby", "startedby", "user", "caller", "callee", "from",
                                "to", "identity", "communicationidentifier", "targetparticipant",
                                "participants", "localparticipant", "remoteparticipant", "removedparticipant",
                                "addedparticipant", "transferee", "transfertarget", "source", "target")},
        "room": "room",
    },
    "id": {
        **{p: "identity" for p in ("communicationuser", "microsoftteamsuser", "microsoftteamsapp",
                                    "teamsappidentifier", "participant", "user", "identity", "caller",
                                    "callee", "from", "to", "target", "source", "endedby", "startedby")},
        "phonenumber": "phone",
        "room": "room",
    },
    "value": {"phonenumber": "phone"},
}

# Personal patterns inside any text: SIP/tel URIs, e-mail addresses, ACS raw identifiers
# ("8:acs:<guid>_<id>", "4:+1555..."), and international phone numbers (+ and 7-15 digits, with the
# usual separators). One alternation, applied once, so a pseudonym is never masked again.
_TEXT_PATTERN = re.compile(
    r"(?P<uri>\b(?:sips?|tel):[^\s\"'<>,;\\]+)"
    r"|(?P<acs>\b(?:8:[a-z]+:[\w.:\-]+|4:\+?\d[\d\-]{5,}))"
    r"|(?P<email>\b[\w.+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)"
    r"|(?P<phone>(?<![\w+])\+\d(?:[\d\-. ()]{5,20})\d(?!\d))",
    re.IGNORECASE,
)
_PHONE_DIGITS = re.compile(r"\d")

# Fallback for payload text that is not valid JSON (cut with a "…[+N chars]" marker, several
# documents): `"key": "value"` or `"key": 123` pairs.
_PAIR = re.compile(r'"(?P<key>[A-Za-z_][\w\-]{0,63})"\s*:\s*(?P<value>"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?)')

#: Shorter values are not replaced inside other strings (a 2-digit user id would hit every number).
_MIN_REPLACE = 4
#: Values remembered for collision detection; beyond it pseudonyms stay stable but go unchecked.
_MAX_REMEMBERED = 200_000


class Masker:
    """Stable, irreversible pseudonyms for personal values within a session.

    Args:
        key: the HMAC key; random per Masker by default (pseudonyms differ between sessions).
        digits: hex digits in a pseudonym (6 = 16M values; a collision is detected and lengthened).
        enabled: when False every method returns its input unchanged (so callers need no `if`).
    """

    def __init__(self, key: bytes | None = None, *, digits: int = 6, enabled: bool = True) -> None:
        self.enabled = enabled
        self._key = key if key is not None else secrets.token_bytes(16)
        self._digits = max(4, min(32, digits))
        self._by_value: dict[str, str] = {}
        self._by_digest: dict[str, str] = {}
        self._produced: set[str] = set()

    # ------------------------------------------------------------------ single values

    def _digest(self, value: str) -> str:
        known = self._by_value.get(value)
        if known is not None:
            return known
        full = hmac.new(self._key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        n = self._digits
        digest = full[:n]
        # Two values must never share a pseudonym: lengthen on collision (deterministic per order).
        while self._by_digest.get(digest, value) != value and n < len(full):
            n += 2
            digest = full[:n]
        if len(self._by_value) < _MAX_REMEMBERED:
            self._by_value[value] = digest
            self._by_digest[digest] = value
        return digest

    def mask(self, value: object, kind: str = "id") -> Any:
        """The pseudonym of `value` (`call-3f2a9c`); None stays None, "" stays "". Pseudonyms this
        Masker produced are returned unchanged, so masking twice is harmless."""
        if not self.enabled or value is None:
            return value
        text = value if isinstance(value, str) else str(value)
        if text == "" or text in self._produced:
            return text
        if kind == "uri":
            scheme, _, rest = text.partition(":")
            out = f"{scheme.lower()}:user-{self._digest(rest)}"
        else:
            out = KINDS.get(kind, KINDS["id"]) + self._digest(text)
        if len(self._produced) < _MAX_REMEMBERED:
            self._produced.add(out)
        return out

    def call_id(self, value: str | None) -> str | None:
        """Pseudonym of a call id: `call-…`."""
        return self.mask(value, "call")

    def identity(self, value: str | None) -> str | None:
        """Pseudonym of a user identity, participant id or raw id: `user-…`."""
        return self.mask(value, "identity")

    def phone(self, value: str | None) -> str | None:
        """Pseudonym of a phone number: `phone-…` (no digits kept)."""
        return self.mask(value, "phone")

    def room(self, value: str | None) -> str | None:
        """Pseudonym of a room name or id: `room-…`."""
        return self.mask(value, "room")

    # ------------------------------------------------------------------ free text

    def mask_text(self, text: str | None) -> str | None:
        """Mask SIP/tel URIs, e-mail addresses, ACS identifiers and +phone numbers inside free text."""
        if not self.enabled or not text:
            return text

        def repl(m: re.Match[str]) -> str:
            kind = m.lastgroup or "id"
            value = m.group()
            if kind == "uri":
                return self.mask(value, "uri")
            if kind == "acs":
                return self.mask(value, "identity")
            if kind == "phone":
                if len(_PHONE_DIGITS.findall(value)) < 7:
                    return value
                return self.mask(value, "phone")
            return self.mask(value, "email")

        return _TEXT_PATTERN.sub(repl, text)

    @staticmethod
    def _values_pattern(values: dict[str, str]) -> re.Pattern[str] | None:
        if not values:
            return None
        return re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))

    def _replace_known(self, text: str, values: dict[str, str]) -> str:
        """Replace every occurrence of the collected personal values inside `text` in one pass (so a
        pseudonym just written is never searched again), longest value first."""
        pattern = self._values_pattern(values)
        if pattern is None:
            return text
        return pattern.sub(lambda m: values[m.group()], text)

    # ------------------------------------------------------------------ payloads

    def mask_payload(self, raw_text: str | None, also: Iterable[str | None] = ()) -> str | None:
        """Mask a raw payload: the values of personal keys (see `PERSONAL_KEYS`, `CONTEXT_KEYS`), every
        other occurrence of those values (ACS `subject` repeats the serverCallId), and personal patterns
        in every string (`mask_text`). `also` adds values known to be call ids (the event's call id,
        which some formats take from a generic key). Valid JSON comes back re-serialised on one line
        (the detail view pretty-prints it), display-safe (`export.safe_json_dumps`); anything else (a
        payload cut with a marker) is masked textually. Never raises."""
        known = {v: self.mask(v, "call") for v in also if isinstance(v, str) and len(v) >= _MIN_REPLACE}
        return self._mask_payload(raw_text, known)

    def _mask_payload(self, raw_text: str | None, known: dict[str, str]) -> str | None:
        if not self.enabled or not raw_text:
            return raw_text
        try:
            try:
                data = json.loads(raw_text)
            except (ValueError, RecursionError):
                data = _NOT_JSON
            if isinstance(data, (dict, list)):
                try:
                    collected: dict[str, str] = dict(known)
                    masked = self._walk(data, None, collected)
                    masked = self._rewrite_strings(masked, collected)
                    # json.loads decoded "\u001b"-style escapes into real characters: escape them again.
                    return safe_json_dumps(masked)
                except RecursionError:
                    pass
            return self._mask_payload_text(raw_text, known)
        except Exception:  # never show the unmasked text because of a bug here
            return "(payload hidden: masking failed)"

    def _walk(self, node: Any, parent: str | None, collected: dict[str, str]) -> Any:
        """Replace personal values under personal keys; record value -> pseudonym in `collected`."""
        if isinstance(node, dict):
            out: dict[Any, Any] = {}
            for key, value in node.items():
                nk = _norm_key(key)
                kind = PERSONAL_KEYS.get(nk)
                if kind is None and parent is not None:
                    kind = CONTEXT_KEYS.get(nk, {}).get(parent)
                if kind is not None and isinstance(value, (str, int, float)) and not isinstance(value, bool):
                    out[key] = self._mask_collect(value, kind, collected)
                else:
                    out[key] = self._walk(value, nk, collected)
            return out
        if isinstance(node, list):
            # Items of a list inherit the list's key as their parent (participants: [{name: ...}]).
            return [self._walk(item, parent, collected) for item in node]
        return node

    def _mask_collect(self, value: str | int | float, kind: str, collected: dict[str, str]) -> str:
        """Mask one value found under a personal key and remember it for the replace pass. A value seen
        before keeps its first pseudonym (rawId and communicationUser.id are the same identity)."""
        text = str(value)
        masked = collected.get(text)
        if masked is None:
            if kind in ("identity", "id") and _TEXT_PATTERN.fullmatch(text):
                # sip:alice@x or 8:acs:... under a `user`/`id` key keeps its specific form.
                masked = self.mask_text(text) or text
            else:
                masked = self.mask(text, kind)
            if len(text) >= _MIN_REPLACE:
                collected[text] = masked
        return masked

    def _rewrite_strings(self, node: Any, collected: dict[str, str]) -> Any:
        if isinstance(node, dict):
            return {k: self._rewrite_strings(v, collected) for k, v in node.items()}
        if isinstance(node, list):
            return [self._rewrite_strings(v, collected) for v in node]
        if isinstance(node, str) and node not in self._produced:
            return self.mask_text(self._replace_known(node, collected))
        return node

    def _mask_payload_text(self, text: str, known: dict[str, str]) -> str:
        collected: dict[str, str] = dict(known)
        # Pass 1: find the personal pairs. Without structure there is no parent, so the
        # context-dependent keys (name, id) count as personal too: over-masking is the safe direction.
        for m in _PAIR.finditer(text):
            kind = _pair_kind(m.group("key"))
            if kind is not None:
                raw = m.group("value")
                self._mask_collect(raw[1:-1] if raw.startswith('"') else raw, kind, collected)
        collected = {v: p for v, p in collected.items() if v not in self._produced}
        values = self._values_pattern(collected)
        # Pass 2, one left-to-right substitution: a personal pair becomes `"key": "<pseudonym>"`, any
        # other occurrence of a collected value becomes its pseudonym.
        pattern = _PAIR if values is None else re.compile(f"{_PAIR.pattern}|(?P<known>{values.pattern})")

        def repl(m: re.Match[str]) -> str:
            if m.group("key") is None:
                return collected[m.group()]
            kind = _pair_kind(m.group("key"))
            if kind is None:
                # Not personal: still replace known values inside its value.
                head = m.group()[: m.start("value") - m.start()]
                return head + self._replace_known(m.group("value"), collected)
            raw = m.group("value")
            value = raw[1:-1] if raw.startswith('"') else raw
            head = m.group()[: m.start("value") - m.start()]
            return head + json.dumps(collected.get(value) or self._mask_collect(value, kind, {}), ensure_ascii=False)

        text = pattern.sub(repl, text)
        return self.mask_text(text) or text

    # ------------------------------------------------------------------ events

    def mask_event(self, event: CallEnd) -> CallEnd:
        """A copy of `event` with the call id, an uncatalogued source (an identity, not a role such as
        CALLEE), personal patterns in the message, the raw payload and `extra` masked."""
        if not self.enabled:
            return event
        source = event.source
        if source is not None and event.source_name is None:
            source = self.mask_text(source) if _TEXT_PATTERN.fullmatch(source) else self.identity(source)
        known: dict[str, str] = {}
        if event.call_id is not None and len(event.call_id) >= _MIN_REPLACE:
            known[event.call_id] = self.call_id(event.call_id)
        if source != event.source and event.source is not None and len(event.source) >= _MIN_REPLACE:
            known[event.source] = source or ""
        extra = event.extra
        if extra:
            collected: dict[str, str] = {}
            extra = self._rewrite_strings(self._walk(extra, None, collected), collected)
        return dataclasses.replace(
            event,
            call_id=self.call_id(event.call_id),
            source=source,
            message=self.mask_text(event.message),
            raw=self._mask_payload(event.raw, known) or "",
            extra=extra,
        )


_NOT_JSON = object()


def _pair_kind(key: str) -> str | None:
    nk = _norm_key(key)
    return PERSONAL_KEYS.get(nk) or {"name": "name", "id": "id"}.get(nk)
