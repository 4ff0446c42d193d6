"""tui.domain.decode: hostile input becomes exactly one counted InvalidMessage, never an exception.

Covers the JSONL traps of reliability.md §3.5 and a Hypothesis fuzz of the no-loss property: every
message yields at least one observation or one InvalidMessage.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tui.domain.decode import MAX_BYTES, MAX_DEPTH, RAW_LIMIT, decode, event_time
from tui.ingest.raw import RawMessage

ENVELOPE = b'{"ts":"2025-07-14T10:41:02Z","vendor":"planetkit","code":1203}'


def dumps(value: object) -> bytes:
    """Test input as JSON bytes (stdlib json: unlike orjson it writes big ints and deep nesting)."""
    return json.dumps(value).encode()


def raw(data: object, **kw: Any) -> RawMessage:
    return RawMessage(seq=kw.pop("seq", 3), data=data, received=kw.pop("received", 500.0), **kw)


def only_invalid(data: object, **kw: Any) -> tuple[str, str, str]:
    observations, invalid = decode(raw(data, **kw))
    assert observations == []
    assert len(invalid) == 1, invalid
    inv = invalid[0]
    assert (inv.seq, inv.received) == (3, 500.0)
    return inv.cause, inv.detail, inv.snippet


# --------------------------------------------------------------------------- reliability.md §3.5


@pytest.mark.parametrize(
    ("data", "cause"),
    [
        (b"[" * 100_000, "too_deep"),
        ("[" * 100_000, "too_deep"),
        (b"[" * 100_000 + b"]" * 100_000, "too_deep"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "too_deep"),
        (b"[" * 300 + b"]" * 300, "too_deep"),  # below orjson's 1024 limit, above ours
        (b"1" * 5000, "bad_json"),
        (b'{"vendor":"x","code":' + b"9" * 5000 + b"}", "bad_json"),
        (b'{"vendor":"x","code":NaN}', "bad_json"),
        (b"[Infinity]", "bad_json"),
        (b"NaN", "bad_json"),
        (b'{"vendor":"x","code":"\\ud800"}', "bad_json"),  # escaped lone surrogate
        ('{"vendor":"x","code":"\ud800"}', "not_utf8"),  # raw lone surrogate in a str
        (b'{"vendor":"x","code":"\xff\xfe"}', "not_utf8"),
        (b"\xc3\x28", "not_utf8"),
        (b"", "empty"),
        ("", "empty"),
        (b"   \r\n\t ", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b"[]", "empty"),
        (b"1", "not_an_object"),
        (b'"hello"', "not_an_object"),
        (b"null", "not_an_object"),
        (b"true", "not_an_object"),
        (b'{"vendor":"x","code":1', "bad_json"),
        (b"{'vendor': 'x'}", "bad_json"),
        (b"\x1b[31mnot json\x07", "bad_json"),
        (b'{"vendor":"x","code":1}garbage', "bad_json"),
        (b"{}", "unknown_format"),
        (b'{"event":"participant_joined","room":{}}', "not_call_end"),
        (b'{"vendor":"x","code":{"nested":1}}', "bad_field"),
    ],
)
def test_trap_gives_one_invalid_message(data: object, cause: str) -> None:
    got, detail, snippet = only_invalid(data)
    assert got == cause
    assert detail
    assert len(snippet) <= 200
    assert "\x1b" not in snippet and "\x07" not in snippet and "\x1b" not in detail


def test_depth_just_below_the_limit_is_accepted() -> None:
    nested: Any = 1
    for _ in range(MAX_DEPTH - 3):
        nested = [nested]
    data = dumps({"vendor": "x", "code": 1, "extra": {"deep": nested}})
    observations, invalid = decode(raw(data))
    assert invalid == [] and len(observations) == 1


def test_bom_is_stripped() -> None:
    for data in (b"\xef\xbb\xbf" + ENVELOPE, "\ufeff" + ENVELOPE.decode()):
        observations, invalid = decode(raw(data))
        assert invalid == []
        assert [(o.vendor, o.code) for o, _ in observations] == [("planetkit", "1203")]


def test_size_cap_and_oversize_attribute() -> None:
    big = b'{"vendor":"x","code":1,"pad":"' + b"a" * MAX_BYTES + b'"}'
    cause, detail, _ = only_invalid(big)
    assert cause == "too_large" and str(MAX_BYTES) in detail
    cause, detail, _ = only_invalid(b"", oversize=5_000_000)
    assert cause == "too_large" and "5000000" in detail
    cause, _, _ = only_invalid(ENVELOPE, oversize=1)  # a prefix of a cut message is not decoded
    assert cause == "too_large"


def test_getattr_oversize_default_for_duck_typed_raw() -> None:
    class Plain:
        seq = 1
        data = ENVELOPE
        received = 0.0
        recorded_at = None

    observations, invalid = decode(Plain())
    assert invalid == [] and len(observations) == 1


# --------------------------------------------------------------------------- splitting


def test_array_gives_one_result_per_element() -> None:
    data = b'[{"vendor":"a","code":1}, 5, {"zz":1}, {"vendor":"b","code":"X"}]'
    observations, invalid = decode(raw(data))
    assert [(o.vendor, o.code) for o, _ in observations] == [("a", "1"), ("b", "X")]
    assert [(i.cause, i.detail.split(":")[0]) for i in invalid] == [
        ("not_an_object", "element 2"),
        ("unknown_format", "element 3"),
    ]
    # Each observation carries its own element's text, not the whole array.
    assert [t for _, t in observations] == ['{"vendor":"a","code":1}', '{"vendor":"b","code":"X"}']


def test_newline_separated_documents() -> None:
    data = ENVELOPE + b"\n\n" + b'{"vendor":"lk","code":"X"}\r\n{broken\n[{"vendor":"c","code":2}]\n'
    observations, invalid = decode(raw(data))
    assert [(o.vendor, o.code) for o, _ in observations] == [("planetkit", "1203"), ("lk", "X"), ("c", "2")]
    assert [(i.cause, i.detail.split(":")[0]) for i in invalid] == [("bad_json", "line 3")]


def test_pretty_printed_document_is_one_message() -> None:
    data = orjson.dumps({"vendor": "x", "code": 1, "call_id": "c"}, option=orjson.OPT_INDENT_2)
    observations, invalid = decode(raw(data))
    assert invalid == [] and len(observations) == 1
    assert "\n" in observations[0][1]  # raw view keeps the layout
    broken = data[:-2]
    cause, _, _ = only_invalid(broken)  # one rejection, not one per line
    assert cause == "bad_json"


def test_query_strings() -> None:
    q = "sid=s&disconnect_reason=1203&releaser_type=2"
    for data in (q, q.encode(), orjson.dumps(q), f"{q}\n{q.replace('1203', '1202')}".encode()):
        observations, invalid = decode(raw(data))
        assert invalid == []
        assert observations[0][0].code == "1203"
        assert all(o.vendor == "planetkit" for o, _ in observations)


def test_already_parsed_objects() -> None:
    observations, invalid = decode(raw({"vendor": "x", "code": 7}))
    assert [(o.code, t) for o, t in observations] == [("7", '{"vendor":"x","code":7}')]
    observations, invalid = decode(raw([{"vendor": "x", "code": 1}, {"vendor": "y", "code": 2}]))
    assert len(observations) == 2 and invalid == []
    for value, cause in ((42, "not_an_object"), (None, "not_an_object"), ([], "empty"), ({}, "unknown_format")):
        assert only_invalid(value)[0] == cause
    deep: Any = {}
    cur = deep
    for _ in range(MAX_DEPTH + 5):
        cur["a"] = {}
        cur = cur["a"]
    assert only_invalid(deep)[0] == "too_deep"


def test_big_flat_array_is_not_mistaken_for_deep_nesting() -> None:
    data = b"[" + b",".join([b"[]"] * 300_000) + b"]"  # 900 KB, many brackets, depth 2
    observations, invalid = decode(raw(data))
    assert observations == []
    assert [i.cause for i in invalid].count("too_many_elements") == 1
    assert {i.cause for i in invalid} == {"not_an_object", "too_many_elements"}


def test_self_referencing_parsed_object_is_rejected() -> None:
    loop: dict[str, Any] = {"vendor": "x", "code": 1}
    loop["self"] = loop
    assert only_invalid(loop)[0] == "too_deep"
    shared: list[Any] = []
    for _ in range(40):  # a DAG: 2**40 paths, few objects
        shared = [shared, shared]
    assert only_invalid(shared)[0] in ("too_deep", "too_large")
    assert event_time(raw(loop)) is None and event_time(raw(shared)) is None


def test_raw_text_beside_observation_is_sanitized_and_bounded() -> None:
    data = orjson.dumps({"vendor": "x", "code": 1, "note": "\x1b[2J" + "y" * 10_000})
    observations, _ = decode(raw(data))
    text = observations[0][1]
    assert "\x1b" not in text and "\\u001b" in text  # JSON escapes survive as text
    assert len(text) <= RAW_LIMIT


def test_too_many_elements_is_one_extra_rejection() -> None:
    data = orjson.dumps([{"vendor": "x", "code": i} for i in range(10_050)])
    observations, invalid = decode(raw(data))
    assert len(observations) == 10_000
    assert [i.cause for i in invalid] == ["too_many_elements"]


# --------------------------------------------------------------------------- event_time


def test_event_time() -> None:
    assert event_time(raw(ENVELOPE)) == 1752489662.0
    assert event_time(raw(ENVELOPE, recorded_at=12.5)) == 12.5
    assert event_time(raw(b"[" + ENVELOPE + b"]")) == 1752489662.0
    assert event_time(raw(ENVELOPE + b"\n{bad")) == 1752489662.0
    assert event_time(raw(b"sid=s&disconnect_reason=1&end_time=1752489000")) == 1752489000.0
    assert event_time(raw({"vendor": "x", "code": 1, "ts": 1752489001})) == 1752489001.0
    for junk in (b"", b"{", b"[" * 100_000, b"\xff", b"[]", b"1", {"a": 1}, None):
        assert event_time(raw(junk)) is None
    assert event_time(raw(ENVELOPE, oversize=10)) is None


# --------------------------------------------------------------------------- fuzz

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)

# Keys the adapters look at, so that the fuzzer reaches their branches with hostile values.
FIELD_NAMES = [
    "vendor", "code", "subcode", "subCode", "SubCode", "ts", "event", "reason", "source", "participant",
    "disconnectReason", "disconnect_reason", "room", "id", "createdAt", "callStatus", "callId", "trunkId",
    "callStatusCode", "failure_reason", "livekit_failure_reason", "eventType", "type", "data", "specversion",
    "resultInformation", "ResultInformation", "callEndReason", "properties", "operationName",
    "ParticipantEndReason", "participantEndReason", "Type", "originator", "cause", "message", "status_code",
    "byRemote", "userCode", "disconnectSource", "subType", "sid", "releaser_type", "call_end_reason", "msc",
    "sc", "terminate", "end_time", "strCode", "endedBy", "headers",
]
FIELD_VALUES = st.sampled_from(
    ["participant_left", "room_finished", "Microsoft.Communication.CallEnded",
     "Microsoft.Communication.CallDisconnected", "failed", "ended", "remote", "SCS_ERROR", "CallSummary",
     "ACSCallSummary", "Disconnected", "livekit", "acs", "planetkit", "jssip", "C", "E", "", "null"]
)
hostile_objects = st.recursive(
    st.dictionaries(st.sampled_from(FIELD_NAMES), FIELD_VALUES | json_values, max_size=8),
    lambda children: st.dictionaries(st.sampled_from(FIELD_NAMES), children | FIELD_VALUES | json_values,
                                     max_size=6),
    max_leaves=20,
)


def _check(data: object) -> None:
    observations, invalid = decode(raw(data))
    assert len(observations) + len(invalid) >= 1
    assert [i for i in invalid if i.cause == "internal_error"] == []
    for o, text in observations:
        assert isinstance(text, str)
        for value in (o.vendor, o.code, o.subcode, o.source, o.call_id, o.message, o.user_code, text):
            if value is not None:
                value.encode("utf-8")
                assert not any(unicodedata.category(c) == "Cc" and c != "\n" for c in value)
    for i in invalid:
        i.snippet.encode("utf-8")
        i.detail.encode("utf-8")
    event_time(raw(data))  # never raises either


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=2000))
@example(b"[" * 5000)
@example(b"\xef\xbb\xbf\xef\xbb\xbf{}")
@example(b"sid=&disconnect_reason=%ZZ&releaser_type")
def test_fuzz_bytes(data: bytes) -> None:
    _check(data)


@FUZZ
@given(st.text(alphabet=st.characters(codec=None), max_size=500))
def test_fuzz_text(data: str) -> None:
    _check(data)


@FUZZ
@given(json_values)
def test_fuzz_json_values(value: object) -> None:
    _check(dumps(value))
    _check(value)


@FUZZ
@given(hostile_objects)
@example({"vendor": {}, "originator": {}})  # found by this test: an unhashable value in a set lookup
def test_fuzz_adapter_shapes(value: dict[str, Any]) -> None:
    _check(dumps(value))
    _check(value)
    _check(dumps([value, value]))
