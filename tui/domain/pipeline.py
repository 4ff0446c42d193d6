"""The one path from a raw message to the counts: decode -> catalog lookup -> CallEnd -> aggregate.

Every front end (the dashboard, `summary`, `explain`, reports) feeds raw messages through a `Pipeline`,
so they all count the same way. Pure Python: never imports textual.

Per element of a message:

* `decode()` (tui.domain.decode) parses and recognises the payload: `Observation`s, or
  `InvalidMessage`s that are counted under their cause (never dropped, never raised).
* The vendor is resolved with `Catalogs.vendor_id`; an unknown vendor keeps its raw (sanitized)
  name and its events count as unknown. The reason is `Catalogs.lookup(vendor, code, subcode,
  namespace)`; a code of None means the payload delivered no reason (`reason=None`).
* Lookups (and source names) are cached per (vendor, code, subcode, namespace), so the steady state
  is one dict hit per event; the caches are bounded (a hostile feed of random codes cannot grow them
  without limit).
* With `keep_events=False` (what `summary` uses) no `CallEnd` is built: the aggregate is told the
  precomputed reason key, source and time directly. The counts are identical either way.
* `count_lines()` is summary's bulk path for JSON Lines captures (see its docstring): it memoizes, per
  distinct combination of the envelope fields that decide the outcome, what `decode()` + lookup
  produced for the first line with those values, and counts later lines with the same values
  without decoding them again. Anything else (another format, a bad line, a float or boolean code,
  an oversized or deeply nested line, a recording line) takes the ordinary path. Tests prove both
  paths count identically.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from tui.domain.aggregate import Aggregate, ReasonKey, reason_key
from tui.domain.catalog import Catalogs
from tui.domain.decode import MAX_BYTES, MAX_DEPTH, decode, event_time
from tui.domain.model import CallEnd, InvalidMessage, Reason
from tui.ingest.capture import line_message
from tui.ingest.raw import RawMessage
from tui.ingest.recording import RECORDING_KEY

#: Bound on each lookup cache; when full it is cleared (cheap, and rare outside hostile feeds).
CACHE_LIMIT = 50_000

#: What `process()` returns per element, in message order (events first, then invalid elements).
Item = CallEnd | InvalidMessage

_MISSING = object()
#: Types of a code that equal an int of another meaning as dict keys (True == 1, 1.0 == 1): a line with
#: one never uses the memo.
_UNSAFE_CODE_TYPES = frozenset({bool, float})
#: A line shorter than this can neither reach the size cap nor nest MAX_DEPTH deep (no need to look).
_SHORT = min(MAX_DEPTH, MAX_BYTES)


class Pipeline:
    """Decode, look up and count raw messages into an `Aggregate`.

    Args:
        catalogs: the loaded catalogs.
        aggregate: where events and invalid messages are counted.
        keep_events: build `CallEnd` objects and keep them in the aggregate's recent deque (the
            dashboard, reports). False: count only (summary), which is cheaper and counts the same.
        on_invalid: called with every `InvalidMessage` after it is counted (summary reports bad lines).
    """

    def __init__(
        self,
        catalogs: Catalogs,
        aggregate: Aggregate,
        *,
        keep_events: bool = True,
        on_invalid: Callable[[InvalidMessage], None] | None = None,
    ) -> None:
        self.catalogs = catalogs
        self.aggregate = aggregate
        self.keep_events = keep_events
        self.on_invalid = on_invalid
        self._lookups: dict[tuple[Any, ...], tuple[str, Reason | None, ReasonKey]] = {}
        self._sources: dict[tuple[str, str], str | None] = {}
        #: count_lines: raw envelope field values -> [reason key, reason, counted source, pending count]
        self._memo: dict[tuple[Any, ...], list[Any]] = {}

    # ------------------------------------------------------------------ lookups

    def resolve(
        self, vendor: str, code: str | None, subcode: str | None, namespace: str | None
    ) -> tuple[str, Reason | None, ReasonKey]:
        """(vendor id or raw vendor, Reason or None when no reason was delivered, reason key). Cached."""
        cache_key = (vendor, code, subcode, namespace)
        hit = self._lookups.get(cache_key)
        if hit is not None:
            return hit
        catalogs = self.catalogs
        vid = catalogs.vendor_id(vendor) or vendor
        reason = None if code is None else catalogs.lookup(vid, code, subcode, namespace)
        hit = (vid, reason, reason_key(vid, reason))
        if len(self._lookups) >= CACHE_LIMIT:
            self._lookups.clear()
        self._lookups[cache_key] = hit
        return hit

    def source_name(self, vendor: str, source: str | None) -> str | None:
        """The catalogued name of who ended the call (e.g. PlanetKit "1" -> "CALLEE"), or None. Cached."""
        if source is None:
            return None
        key = (vendor, source)
        try:
            return self._sources[key]
        except KeyError:
            pass
        found = self.catalogs.source(vendor, source)
        name = found.name if found is not None else None
        if len(self._sources) >= CACHE_LIMIT:
            self._sources.clear()
        self._sources[key] = name
        return name

    @staticmethod
    def timestamp_of(raw: RawMessage) -> float | None:
        """The event time of a raw message, for replay pacing (ingest knows no payload fields)."""
        return event_time(raw)

    # ------------------------------------------------------------------ feeding

    def feed(self, raw: RawMessage) -> None:
        """Decode one raw message and count everything it holds. Never raises for bad input."""
        self.aggregate.add_messages(1)
        observations, invalid = decode(raw)
        self._count_decoded(raw, observations, invalid)

    def _count_decoded(self, raw: RawMessage, observations: list[tuple[Any, str]], invalid: list[InvalidMessage]) -> None:
        aggregate = self.aggregate
        if observations:
            resolve = self.resolve
            lookups = self._lookups
            if self.keep_events:
                for obs, text in observations:
                    hit = lookups.get((obs.vendor, obs.code, obs.subcode, obs.namespace))
                    if hit is None:
                        hit = resolve(obs.vendor, obs.code, obs.subcode, obs.namespace)
                    aggregate.add(self._event(raw, obs, text, hit))
            else:
                count = aggregate.count
                sources = self._sources
                for obs, _text in observations:
                    hit = lookups.get((obs.vendor, obs.code, obs.subcode, obs.namespace))
                    if hit is None:
                        hit = resolve(obs.vendor, obs.code, obs.subcode, obs.namespace)
                    source = obs.source
                    if source is not None:
                        name = sources.get((hit[0], source), False)
                        if name is False:
                            name = self.source_name(hit[0], source)
                        source = name or source
                    ts = obs.ts
                    if ts is None:
                        ts = raw.recorded_at or raw.received
                    count(hit[2], hit[1], source, ts)
        for bad in invalid:
            aggregate.add_invalid(bad)
            if self.on_invalid is not None:
                self.on_invalid(bad)

    def _counted_source(self, vendor: str, source: str | None) -> str | None:
        """The source an event is counted under: its catalogued name, else the raw value."""
        if source is None:
            return None
        return self.source_name(vendor, source) or source

    # ------------------------------------------------------------------ the bulk path for JSON Lines

    def count_lines(self, start: int, lines: Sequence[bytes]) -> None:
        """Count a block of JSON Lines capture lines numbered from `start`, exactly as if each were fed
        as `capture.line_message(number, line)` (blank lines skipped, a trailing CR ignored).

        The fast path applies only when nothing needs per-event objects or times (`keep_events=False`
        and an aggregate without rates): a line that parses to an envelope object (``vendor`` and
        ``code`` keys) is counted from a memo keyed by the raw values of the fields the envelope adapter
        reads for the reason and the source (vendor, code, subcode, subCode, namespace, source). The
        memo is filled from the real `decode()` of the first line with those values, and only when
        that gave exactly one observation and every key field has a type whose dict-key equality
        cannot mix two meanings (no booleans or floats). Every other line is fed the ordinary way.
        """
        if self.keep_events or self.aggregate.horizon_s:
            for number, line in enumerate(lines, start):
                self._feed_line(number, line)
            return
        loads = orjson.loads
        decode_error = orjson.JSONDecodeError
        memo = self._memo
        unsafe = _UNSAFE_CODE_TYPES
        recording = RECORDING_KEY
        short = _SHORT
        feed_line = self._feed_line
        number = start - 1
        # Per line only what a memo hit needs; everything a memo entry guarantees (a str vendor, a
        # present code...) is checked once, in `_learn`, because a key breaking it is never stored.
        for line in lines:
            number += 1
            if len(line) >= short and (
                    len(line) >= MAX_BYTES or line.count(b"{") + line.count(b"[") >= MAX_DEPTH):
                feed_line(number, line)  # decode's size or depth checks apply
                continue
            try:
                obj = loads(line)
            except decode_error:
                feed_line(number, line)  # bad JSON, or a blank line (skipped there)
                continue
            # A line starting with the recording prefix always parses to a dict holding its key, so
            # testing the key catches every recording line (capture.line_message unwraps them).
            if type(obj) is not dict or recording in obj:
                feed_line(number, line)
                continue
            get = obj.get
            code = get("code", _MISSING)
            sub = get("subcode")
            sub2 = get("subCode")
            # True == 1 and 1.0 == 1 as dict keys: such values must not find an int's entry.
            if type(code) in unsafe or (sub is not None and type(sub) in unsafe) or (
                    sub2 is not None and type(sub2) in unsafe):
                feed_line(number, line)
                continue
            key = (get("vendor"), code, sub, sub2, get("namespace"), get("source"))
            try:
                entry = memo.get(key)
            except TypeError:  # an unhashable value (a list or an object)
                feed_line(number, line)
                continue
            if entry is None:
                self._learn(key, number, line)
            else:
                entry[3] += 1
        self.flush()

    def flush(self) -> None:
        """Hand the counts pending in the `count_lines` memo to the aggregate."""
        aggregate = self.aggregate
        add_counts = aggregate.add_counts
        for entry in self._memo.values():
            n = entry[3]
            if n:
                add_counts(entry[0], entry[1], entry[2], n)
                aggregate.add_messages(n)  # one line, one message
                entry[3] = 0

    def _feed_line(self, number: int, line: bytes) -> None:
        if line.endswith(b"\r"):
            line = line[:-1]
        raw = line_message(number, line)
        if raw is not None:
            self.feed(raw)

    def _learn(self, key: tuple[Any, ...], number: int, line: bytes) -> None:
        """Decode a line the ordinary way, count it, and memoize its outcome when that is safe."""
        if line.endswith(b"\r"):
            line = line[:-1]
        raw = line_message(number, line)
        if raw is None:
            return
        observations, invalid = decode(raw)
        vendor, code, sub, sub2, namespace, source = key
        memoizable = (
            len(observations) == 1
            and not invalid
            and type(vendor) is str  # with "vendor" and "code" keys, adapt() takes it as an envelope
            and type(namespace) in (str, type(None))
            and type(source) in (str, type(None))
            and type(code) in (str, int, type(None))
            and type(sub) in (str, int, type(None))
            and type(sub2) in (str, int, type(None))
        )
        if not memoizable:
            self.aggregate.add_messages(1)
            self._count_decoded(raw, observations, invalid)
            return
        obs = observations[0][0]
        vid, reason, akey = self.resolve(obs.vendor, obs.code, obs.subcode, obs.namespace)
        if len(self._memo) >= CACHE_LIMIT:
            self.flush()
            self._memo.clear()
        self._memo[key] = [akey, reason, self._counted_source(vid, obs.source), 1]

    def process(self, raw: RawMessage) -> list[Item]:
        """Like `feed()` (the aggregate counts the same), and return what the message held, in order:
        its events, then its invalid elements. Used by `explain`."""
        aggregate = self.aggregate
        aggregate.add_messages(1)
        observations, invalid = decode(raw)
        out: list[Item] = []
        for obs, text in observations:
            hit = self.resolve(obs.vendor, obs.code, obs.subcode, obs.namespace)
            event = self._event(raw, obs, text, hit)
            aggregate.add(event)
            out.append(event)
        for bad in invalid:
            aggregate.add_invalid(bad)
            if self.on_invalid is not None:
                self.on_invalid(bad)
            out.append(bad)
        return out

    def _event(self, raw: RawMessage, obs: Any, text: str, hit: tuple[str, Reason | None, ReasonKey]) -> CallEnd:
        vendor, reason, _key = hit
        ts = obs.ts
        if ts is None:
            ts = raw.recorded_at or raw.received
        return CallEnd(
            seq=raw.seq,
            ts=ts,
            vendor=vendor,
            code=obs.code,
            subcode=obs.subcode,
            reason=reason,
            source=obs.source,
            source_name=self.source_name(vendor, obs.source),
            call_id=obs.call_id,
            call_type=obs.call_type,
            user_code=obs.user_code,
            message=obs.message,
            format=obs.format,
            raw=text,
            extra=obs.extra,
        )
