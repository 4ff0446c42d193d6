"""tui.domain.adapters: every fixture decodes to the expected observations; the vendor traps hold.

The expectations are written out here from vendor-formats.md and fixtures/README.md, not derived from
the adapters, so a change in the code that changes a result fails a test.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tui.domain.adapters import AdapterError, Observation, adapt, adapt_query, parse_ts
from tui.domain.decode import decode
from tui.ingest.raw import RawMessage

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# file -> list of expected observations (vendor, code, subcode, {other fields}) or the AdapterError cause.
E = dict[str, Any]
EXPECTED: dict[str, list[tuple[str, str | None, str | None, E]] | str] = {
    # envelope
    "envelope/basic.json": [
        ("planetkit", "1203", None, {"ts": 1752489662.12, "source": "2", "call_type": "1:1", "format": "envelope",
                                     "call_id": "6364e8b3-bdac-436e-9631-0bce2498ce0c"}),
    ],
    "envelope/acs_subcode_unix_ts.json": [("acs", "487", "10004", {"ts": 1752489729.5})],
    "envelope/no_reason.json": [("livekit", None, None, {"ts": 1752489800.0, "call_id": "RM_hycBMAjmt6Ub"})],
    "envelope/stream.jsonl": [
        ("jssip", "Busy", None, {"source": "remote", "ts": 1752489662.0}),
        ("livekit", "CLIENT_INITIATED", None, {"ts": 1752489665.0}),
        ("planetkit", "1110", None, {"namespace": "disconnect_reason", "user_code": "APP_KICKED", "source": "5",
                                     "call_type": "group"}),
    ],
    # LiveKit
    "livekit/webhook_participant_left.json": [
        ("livekit", "CLIENT_INITIATED", None, {"ts": 1752489391.0, "call_id": "RM_hycBMAjmt6Ub",
                                               "format": "livekit.webhook"}),
    ],
    "livekit/webhook_participant_left_no_reason.json": [
        ("livekit", "0", None, {"ts": 1752488950.0, "extra.reason_absent": True}),
    ],
    "livekit/webhook_participant_left_numeric.json": [("livekit", "14", None, {"ts": 1752489455.0})],
    "livekit/webhook_participant_left_snake.json": [("livekit", "USER_UNAVAILABLE", None, {"ts": 1752489160.0})],
    "livekit/webhook_participant_connection_aborted.json": [("livekit", "JOIN_FAILURE", None, {"ts": 1752489230.0})],
    "livekit/webhook_room_finished.json": [("livekit", None, None, {"ts": 1752489411.0})],
    "livekit/webhook_participant_joined.json": "not_call_end",
    "livekit/client_disconnected.json": [("livekit", "3", None, {"ts": 1752489500.123, "format": "livekit.client"})],
    "livekit/client_participant_disconnected.json": [("livekit", "16", None, {"ts": 1773130500.0})],
    "livekit/sip_call_info.json": [
        ("livekit", "USER_REJECTED", None, {"ts": 1752489119.5, "call_id": "SCL_6pPKcW4UbqHB", "format": "livekit.sip",
                                            "extra.sip_status": "SIP_STATUS_BUSY_HERE"}),
    ],
    "livekit/c_sdk_failure_reason.json": [("livekit", "7", None, {"namespace": "c_sdk", "ts": 1752489600.0})],
    "livekit/c_sdk_failure_reason_name.json": [
        ("livekit", "LIVEKIT_FAILURE_REASON_PING_TIMEOUT", None, {"namespace": "c_sdk", "ts": 1752490200.0}),
    ],
    # ACS
    "acs/calling_sdk_callendreason.json": [
        ("acs", "487", "0", {"call_id": "e0a1b2c3-d4e5-4f60-8172-93a4b5c6d7e8", "ts": 1752490330.25}),
    ],
    "acs/calling_sdk_android.json": [("acs", "480", "10077", {"ts": 1752490400.0})],
    "acs/calling_sdk_code_only.json": [("acs", "408", None, {"ts": None})],
    "acs/eventgrid_callended.json": [
        ("acs", "603", "0", {"source": "Participant", "call_type": "1:1", "format": "acs.eventgrid",
                             "ts": 1752489729.3387112}),
    ],
    "acs/eventgrid_callended_single.json": [
        ("acs", "410", "3112", {"source": "MicrosoftInternal", "call_type": "group", "ts": 1752489891.0020117}),
    ],
    "acs/eventgrid_callended_no_reason.json": [("acs", None, None, {"ts": 1667426671.1473419})],
    "acs/cloudevents_callended.json": [("acs", "487", "10004", {"format": "acs.cloudevents",
                                                                 "ts": 1752489972.5512345})],
    "acs/eventgrid_participant_removed.json": [("acs", None, None, {"ts": 1752489890.8817364})],
    "acs/eventgrid_subscription_validation.json": "not_call_end",
    "acs/callautomation_calldisconnected.json": [
        ("acs", "200", "560000", {"format": "acs.call_automation",
                                  "message": "The conversation has ended. DiagCode: 0#560000.@",
                                  "call_id": "421f0b00-6c3e-4d5a-9b8c-7e2f1a0d3c4b"}),
    ],
    "acs/callautomation_createcallfailed.json": [
        ("acs", "403", "560403", {"extra.sip_code": 403, "extra.q850_code": 21}),
    ],
    "acs/callautomation_answerfailed_pascal.json": [("acs", "408", "4506", {"ts": 1752490260.0})],
    "acs/callautomation_connectfailed.json": [("acs", "429", "10110", {})],
    "acs/callautomation_addparticipantfailed.json": [("acs", "480", "10037", {})],
    "acs/callautomation_removeparticipantfailed.json": [("acs", "404", "8522", {})],
    "acs/callautomation_calltransferfailed.json": [("acs", "486", "560486", {"extra.sip_code": 486})],
    "acs/monitor_callsummary_export.json": [
        ("acs", "603", "0", {"call_type": "1:1", "call_id": "c5a7e1d3-92b4-4f6e-8a0c-1b3d5f7a9e2c",
                             "format": "acs.call_summary", "ts": 1752490683.0}),
    ],
    "acs/loganalytics_acscallsummary.json": [
        ("acs", "410", "301005", {"call_type": "group", "format": "acs.log_analytics",
                                  "extra.result_category": "UnexpectedServerError"}),
    ],
    "acs/loganalytics_null_reason.json": [("acs", None, None, {"call_type": "1:1"})],
    # JsSIP
    "jssip/failed_busy.json": [
        ("jssip", "Busy", None, {"source": "remote", "call_id": "3l0ec7dcbqgl9n1v9o6v", "message": "Busy Here",
                                 "extra.status_code": 486}),
    ],
    "jssip/ended_bye.json": [
        ("jssip", "Terminated", None, {"source": "remote", "extra.method": "BYE", "ts": 1752490541.902}),
    ],
    "jssip/failed_internal_error_string.json": [
        ("jssip", "Internal Error", None, {"source": "system",
                                           "message": "TypeError: Cannot read properties of null (reading 'getTracks')"}),
    ],
    "jssip/failed_canceled_null.json": [("jssip", "Canceled", None, {"source": "local", "message": None})],
    "jssip/failed_status_only.json": [("jssip", "503", None, {"message": "Service Unavailable"})],
    # PlanetKit
    "planetkit/android_disconnected.json": [
        ("planetkit", "NO_ANSWER", None, {"source": "CALLER", "extra.by_remote": False, "ts": 1752459000.0}),
    ],
    "planetkit/ios_disconnected.json": [("planetkit", "1202", None, {"source": "1"})],
    "planetkit/windows_disconnected.json": [
        ("planetkit", "PLNK_DISCONNECT_REASON_USER_ERROR", None, {"source": "2", "user_code": "APP_KICKED_BY_OPERATOR"}),
    ],
    "planetkit/web_disconnected.json": [
        ("planetkit", "1202", None, {"source": "callee", "format": "planetkit.web",
                                     "extra.str_code": "PLANETKIT_DISCONNECT_REASON_BUSY"}),
    ],
    "planetkit/flutter_disconnected.json": [
        ("planetkit", "1402", None, {"source": "4", "call_type": "group", "user_code": None}),
    ],
    "planetkit/flutter_unknown_minus1.json": [("planetkit", "-1", None, {"call_type": "1:1"})],
    "planetkit/appserver_callback.txt": [
        ("planetkit", "1203", None, {"source": "2", "user_code": None, "ts": 1752489722.0, "call_type": "1:1",
                                     "call_id": "6364e8b3-bdac-436e-9631-0bce2498ce0c", "namespace": None,
                                     "extra.terminate": "18"}),
    ],
    "planetkit/appserver_callback_url.txt": [
        ("planetkit", "1110", None, {"source": "1", "user_code": "CALLEE_DND ON", "ts": 1752490102.0}),
    ],
    "planetkit/appserver_callback_parsed.json": [
        ("planetkit", "1301", None, {"source": "4", "user_code": None, "extra.terminate": "16"}),
    ],
    "planetkit/appserver_group_callback.txt": [
        ("planetkit", "1001", None, {"source": "3", "call_type": "group", "ts": 1752489900.123}),
    ],
    "planetkit/appserver_group_joined.txt": "not_call_end",
    "planetkit/legacy_call_end_reason.txt": [
        ("planetkit", "1005", None, {"namespace": "call_end_reason", "source": "responder", "ts": 1582527434.0,
                                     "format": "planetkit.appserver_legacy"}),
    ],
    # unrecognised
    "unknown/unknown_shape.json": "unknown_format",
    "unknown/ambiguous_reason_source.json": "unknown_format",
}


def _fixture_files() -> list[str]:
    # Format samples live in one folder per vendor; top-level files (demo captures) are not samples.
    return sorted(p.relative_to(FIXTURES).as_posix() for p in FIXTURES.glob("*/*") if p.is_file())


def test_every_fixture_has_an_expectation_and_readme_row() -> None:
    files = _fixture_files()
    assert sorted(EXPECTED) == files
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| ([\w/.-]+\.(?:json|jsonl|txt)) \|", readme, re.M))
    assert listed == set(files)


def _field(o: Observation, name: str) -> Any:
    if name.startswith("extra."):
        return (o.extra or {}).get(name[6:])
    return getattr(o, name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_decodes_as_expected(name: str) -> None:
    raw = RawMessage(seq=7, data=(FIXTURES / name).read_bytes(), received=1000.0)
    observations, invalid = decode(raw)
    expected = EXPECTED[name]
    if isinstance(expected, str):
        assert observations == []
        assert [i.cause for i in invalid] == [expected]
        assert invalid[0].seq == 7
        return
    assert invalid == []
    got = [(o.vendor, o.code, o.subcode) for o, _ in observations]
    assert got == [(v, c, s) for v, c, s, _ in expected]
    for (o, raw_text), (_, _, _, fields) in zip(observations, expected):
        assert raw_text  # the element's raw text is kept for the detail view
        for key, value in fields.items():
            actual = _field(o, key)
            if isinstance(value, float):
                assert actual == pytest.approx(value, abs=1e-5), key
            else:
                assert actual == value, key


# --------------------------------------------------------------------------- shape recognition


def test_not_an_object() -> None:
    for value in (1, "x", None, [1], True):
        with pytest.raises(AdapterError) as e:
            adapt(value)
        assert e.value.cause == "not_an_object"


def test_unknown_format_lists_the_keys() -> None:
    with pytest.raises(AdapterError) as e:
        adapt({"zeta": 1, "alpha": 2})
    assert e.value.cause == "unknown_format"
    assert "alpha, zeta" in e.value.detail
    with pytest.raises(AdapterError) as e:
        adapt({})
    assert e.value.cause == "unknown_format"


def test_adapter_error_attributes() -> None:
    err = AdapterError("bad_field", "code is a boolean (True)")
    assert (err.cause, err.detail) == ("bad_field", "code is a boolean (True)")
    assert "bad_field" in str(err)


# --------------------------------------------------------------------------- envelope


def one(obj: object) -> Observation:
    found = adapt(obj)
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize(
    ("code", "expected"),
    [(17, "17"), ("17", "17"), (486.0, "486"), ("USER_BUSY", "USER_BUSY"), (None, None), ("", None), (-1, "-1")],
)
def test_envelope_code_conversion(code: object, expected: str | None) -> None:
    assert one({"vendor": "x", "code": code}).code == expected


@pytest.mark.parametrize("code", [True, 1.5, {"a": 1}, [1], float("nan")])
def test_envelope_unusable_code_is_bad_field(code: object) -> None:
    with pytest.raises(AdapterError) as e:
        adapt({"vendor": "x", "code": code})
    assert e.value.cause == "bad_field"


def test_envelope_vendor_lowercased_and_stripped() -> None:
    assert one({"vendor": "  Azure ", "code": 0}).vendor == "azure"
    with pytest.raises(AdapterError) as e:
        adapt({"vendor": 5, "code": 1})
    assert e.value.cause == "bad_field"


def test_envelope_without_code_is_no_reason() -> None:
    o = one({"vendor": "twilio", "ts": 1752489600})
    assert (o.vendor, o.code, o.ts) == ("twilio", None, 1752489600.0)


def test_envelope_keeps_unknown_keys_and_extra_sanitized() -> None:
    o = one({"vendor": "x", "code": 1, "trunk": "T\x1b[2J", "extra": {"k": "[@click=app.quit]x", "n": 3}})
    assert o.extra == {"k": "[@click=app.quit]x", "n": 3, "trunk": "T\\x1b[2J"}


def test_envelope_strings_are_sanitized() -> None:
    o = one({"vendor": "x", "code": "BUSY\u202e", "call_id": "id\x1b]0;t\x07", "message": "a\nb"})
    assert o.code == "BUSY<U+202E>"
    assert o.call_id == "id\\x1b]0;t\\x07"
    assert o.message == "a\\nb"


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("2025-07-14T10:41:02Z", 1752489662.0),
        ("2025-07-14t10:41:02.5z", 1752489662.5),
        ("2025-07-14T19:41:02+09:00", 1752489662.0),
        ("2025-07-14T10:41:02", 1752489662.0),  # no zone: UTC
        ("2024-07-22T12:34:56.1234567Z", 1721651696.123456),  # .NET's 7 fractional digits
        (1752489662, 1752489662.0),
        ("1752489662", 1752489662.0),
        (1752489662123, 1752489662.123),  # ms
        ("1752489662000000000", 1752489662.0),  # ns (LiveKit *AtNs)
        (0, None),
        ("0", None),
        ("yesterday", None),
        (True, None),
        (float("inf"), None),
        (1e300, None),
        ("9999-12-31T23:59:59Z", None),  # implausible
    ],
)
def test_parse_ts(ts: object, expected: float | None) -> None:
    got = parse_ts(ts)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-6)


def test_envelope_bad_ts_is_kept_visible() -> None:
    o = one({"vendor": "x", "code": 1, "ts": "not a time"})
    assert o.ts is None
    assert o.extra == {"ts_invalid": "not a time"}


# --------------------------------------------------------------------------- LiveKit traps


def _lk_left(participant: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"event": "participant_left", "room": {"sid": "RM_1", "name": "r"}, "participant": participant,
            "id": "EV_1", "createdAt": "1752489391", **kw}


def test_livekit_absent_reason_is_unknown_reason_0_not_no_reason() -> None:
    o = one(_lk_left({"sid": "PA_1", "identity": "u"}))
    assert o.code == "0"
    assert o.extra and o.extra["reason_absent"] is True
    assert o.message and "absent" in o.message


@pytest.mark.parametrize(
    ("participant", "code"),
    [
        ({"disconnectReason": "CONNECTION_TIMEOUT"}, "CONNECTION_TIMEOUT"),
        ({"disconnectReason": 14}, "14"),
        ({"disconnect_reason": 14}, "14"),
        ({"disconnect_reason": "MEDIA_FAILURE"}, "MEDIA_FAILURE"),
        ({"disconnectReason": 17}, "17"),  # a value newer than the writer's schema: bare number
        ({"disconnectReason": "AGENT_ERROR"}, "AGENT_ERROR"),  # kept, never collapsed to 0
    ],
)
def test_livekit_number_name_snake_camel(participant: dict[str, Any], code: str) -> None:
    o = one(_lk_left(participant))
    assert o.code == code
    assert not (o.extra or {}).get("reason_absent")


def test_livekit_created_at_string_seconds() -> None:
    assert one(_lk_left({"disconnectReason": 1})).ts == 1752489391.0
    assert one(_lk_left({"disconnectReason": 1}, createdAt=None, created_at="1752489392")).ts == 1752489392.0


def test_livekit_room_finished_has_no_reason() -> None:
    o = one({"event": "room_finished", "room": {"sid": "RM_1"}, "id": "EV_2", "createdAt": "1752489411"})
    assert o.code is None


@pytest.mark.parametrize("event", ["participant_joined", "track_published", "room_started", "egress_ended"])
def test_livekit_other_webhooks_are_not_call_ends(event: str) -> None:
    with pytest.raises(AdapterError) as e:
        adapt({"event": event, "room": {"sid": "RM_1"}, "id": "EV_3", "createdAt": "1"})
    assert e.value.cause == "not_call_end"


@pytest.mark.parametrize(
    ("payload", "code", "absent"),
    [
        ({"event": "Disconnected", "reason": 1}, "1", False),
        ({"event": "disconnected", "reason": "CLIENT_INITIATED"}, "CLIENT_INITIATED", False),
        ({"event": "disconnected"}, "0", True),  # JS undefined dropped by JSON.stringify
        ({"event": "participantDisconnected", "participant": {"identity": "u"}, "reason": None}, "0", True),
        ({"event": "participant_disconnected", "participant": {"identity": "u", "disconnect_reason": 2}}, "2", False),
    ],
)
def test_livekit_client_events(payload: dict[str, Any], code: str, absent: bool) -> None:
    o = one(payload)
    assert (o.vendor, o.code, o.format) == ("livekit", code, "livekit.client")
    assert bool((o.extra or {}).get("reason_absent")) is absent


def test_livekit_sip_record_states() -> None:
    base = {"callId": "SCL_1", "trunkId": "ST_1", "callStatusCode": {"code": "SIP_STATUS_NOTFOUND", "status": "Not Found"}}
    o = one({**base, "callStatus": "SCS_DISCONNECTED", "disconnectReason": "SIP_TRUNK_FAILURE"})
    assert o.code == "SIP_TRUNK_FAILURE"
    assert o.extra and o.extra["sip_status"] == "SIP_STATUS_NOTFOUND"
    assert one({**base, "callStatus": 4}).code == "0"  # SCS_ERROR as a number, reason omitted
    with pytest.raises(AdapterError) as e:
        adapt({**base, "callStatus": "SCS_ACTIVE"})
    assert e.value.cause == "not_call_end"
    with pytest.raises(AdapterError):
        adapt(base)  # status omitted = SCS_CALL_INCOMING (0) and nothing says it ended


def test_livekit_c_sdk_generic_key_needs_a_livekit_value() -> None:
    assert one({"failure_reason": "12"}).namespace == "c_sdk"
    assert one({"failure_reason": "LIVEKIT_FAILURE_REASON_RTC"}).code == "LIVEKIT_FAILURE_REASON_RTC"
    with pytest.raises(AdapterError) as e:
        adapt({"failure_reason": "disk full"})
    assert e.value.cause == "unknown_format"
    o = one({"vendor": "livekit", "failure_reason": "disk full"})  # a marker makes it LiveKit's
    assert (o.namespace, o.code) == ("c_sdk", "disk full")


# --------------------------------------------------------------------------- ACS traps


def _callended(reason: dict[str, Any] | None) -> dict[str, Any]:
    data: dict[str, Any] = {"serverCallId": "sc", "isTwoParty": True, "correlationId": "c"}
    if reason is not None:
        data["reason"] = reason
    return {"id": "1", "topic": "t", "subject": "call/sc", "data": data,
            "eventType": "Microsoft.Communication.CallEnded", "dataVersion": "1.0", "metadataVersion": "1",
            "eventTime": "2025-07-14T10:42:09Z"}


@pytest.mark.parametrize(
    ("reason", "code", "subcode"),
    [
        ({"code": 408}, "408", None),  # code-only row: a missing subCode is None, not "0"
        ({"code": 0, "subCode": 0}, "0", "0"),
        ({"code": "410", "subCode": "301005"}, "410", "301005"),  # string codes
        ({"phrase": "ended"}, None, None),
        ({}, None, None),
        (None, None, None),
    ],
)
def test_acs_callended_reason_variants(reason: dict[str, Any] | None, code: str | None, subcode: str | None) -> None:
    o = one(_callended(reason))
    assert (o.code, o.subcode) == (code, subcode)


@pytest.mark.parametrize(
    "reason",
    [{"code": 487, "subCode": 10004}, {"code": 487, "subcode": 10004}, {"Code": 487, "SubCode": 10004}],
)
def test_acs_subcode_spellings(reason: dict[str, Any]) -> None:
    if "Code" in reason:
        payload = {"type": "Microsoft.Communication.CallDisconnected", "data": {"ResultInformation": reason}}
    else:
        payload = {"callEndReason": reason}
    o = one(payload)
    assert (o.code, o.subcode) == ("487", "10004")


def test_acs_calling_sdk_code_only_and_bare_shapes() -> None:
    o = one({"code": 490})
    assert (o.vendor, o.code, o.subcode) == ("acs", "490", None)
    with pytest.raises(AdapterError):
        adapt({"code": "Busy"})  # not a numeric code: not ACS


@pytest.mark.parametrize("value", ["null", "", None, "NULL"])
def test_acs_log_null_strings_mean_absent(value: object) -> None:
    row = {"Type": "ACSCallSummary", "ParticipantEndReason": value, "ParticipantEndSubCode": value,
           "CorrelationId": "c"}
    o = one(row)
    assert (o.code, o.subcode) == (None, None)


def test_acs_export_both_casings() -> None:
    rec = {"operationName": "CallSummary", "category": "CallSummary", "time": "2025-07-14T10:58:03Z",
           "correlationId": "c", "properties": {"ParticipantEndReason": "487", "participantEndSubCode": "540487"}}
    o = one(rec)
    assert (o.code, o.subcode, o.call_id) == ("487", "540487", "c")


@pytest.mark.parametrize(
    "etype",
    ["Microsoft.Communication.CallStarted", "Microsoft.Communication.CallParticipantAdded",
     "Microsoft.Communication.PlayFailed", "Microsoft.Storage.BlobCreated",
     "Microsoft.EventGrid.SubscriptionValidationEvent"],
)
def test_acs_other_events_are_not_call_ends(etype: str) -> None:
    with pytest.raises(AdapterError) as e:
        adapt({"eventType": etype, "data": {}, "eventTime": "2025-07-14T10:00:00Z"})
    assert e.value.cause == "not_call_end"


def test_acs_participant_removed_has_no_reason() -> None:
    o = one({"specversion": "1.0", "type": "Microsoft.Communication.CallParticipantRemoved",
             "data": {"serverCallId": "sc"}, "time": "2025-07-14T10:00:00Z"})
    assert (o.code, o.subcode, o.call_id, o.format) == (None, None, "sc", "acs.cloudevents")


def test_acs_automation_details() -> None:
    o = one({"type": "Microsoft.Communication.CallDisconnected", "data": {
        "resultInformation": {"code": 200, "subCode": 5013, "message": "m",
                              "sipDetails": {"code": 200, "message": "OK"}},
        "callConnectionId": "cc", "serverCallId": "sc"}})
    assert (o.code, o.subcode, o.call_id, o.message) == ("200", "5013", "cc", "m")
    assert o.extra and o.extra["sip_code"] == 200 and "q850_code" not in o.extra


# --------------------------------------------------------------------------- JsSIP traps


@pytest.mark.parametrize(
    ("payload", "code", "message", "facts"),
    [
        ({"originator": "remote", "cause": "Busy", "message": {"status_code": 486, "reason_phrase": "Busy Here"}},
         "Busy", "Busy Here", {"status_code": 486}),
        ({"originator": "remote", "cause": "Canceled", "message": {"method": "CANCEL", "call_id": "x"}},
         "Canceled", "CANCEL request", {"method": "CANCEL"}),
        ({"originator": "local", "cause": "Canceled", "message": None}, "Canceled", None, {}),
        ({"originator": "system", "cause": "Internal Error", "message": "boom"}, "Internal Error", "boom", {}),
        ({"originator": "remote", "message": {"status_code": 480, "reason_phrase": "Temporarily Unavailable"}},
         "480", "Temporarily Unavailable", {}),
        ({"originator": "local", "cause": "In-dialog 408 or 481", "message": None}, "In-dialog 408 or 481", None, {}),
        ({"originator": "local", "cause": "my app reason"}, "my app reason", None, {}),  # terminate({cause})
    ],
)
def test_jssip_message_polymorphism(payload: dict[str, Any], code: str, message: str | None,
                                    facts: dict[str, Any]) -> None:
    for obj in (payload, {"event": "failed", "data": payload}, {"event": "ended", "data": payload}):
        o = one(obj)
        assert (o.vendor, o.code, o.message, o.source) == ("jssip", code, message, payload["originator"])
        for k, v in facts.items():
            assert (o.extra or {})[k] == v


def test_jssip_no_cause_no_status_is_no_reason() -> None:
    assert one({"originator": "system", "message": None}).code is None


@pytest.mark.parametrize("event", ["progress", "confirmed", "registrationFailed", "disconnected", "newRTCSession"])
def test_jssip_other_events_are_not_call_ends(event: str) -> None:
    with pytest.raises(AdapterError) as e:
        adapt({"event": event, "data": {"cause": "x"}})
    assert e.value.cause == "not_call_end"


# --------------------------------------------------------------------------- PlanetKit traps


def test_planetkit_callback_values_are_strings_and_empty_is_absent() -> None:
    o = adapt_query("sid=s1&disconnect_reason=1110&releaser_type=5&user_rel_code=KICKED&terminate=127")[0]
    assert (o.code, o.source, o.user_code, o.call_id) == ("1110", "5", "KICKED", "s1")
    o = adapt_query("sid=s1&disconnect_reason=&releaser_type=&user_rel_code=&terminate=16")[0]
    assert (o.code, o.source, o.user_code) == (None, None, None)


def test_planetkit_terminate_never_becomes_the_code() -> None:
    o = adapt_query("sid=s&terminate=16&duration=95&disconnect_reason=1301&releaser_type=4")[0]
    assert o.code == "1301"
    assert o.extra and o.extra["terminate"] == "16"


def test_planetkit_1001_overlap_is_resolved_by_field_name() -> None:
    new = adapt_query("sid=s&disconnect_reason=1001&releaser_type=2")[0]
    legacy = adapt_query("sid=s&call_end_reason=1001&releaser=initiator")[0]
    assert (new.code, new.namespace) == ("1001", None)
    assert (legacy.code, legacy.namespace, legacy.source) == ("1001", "call_end_reason", "initiator")


def test_planetkit_parsed_callback_needs_a_callback_key() -> None:
    o = one({"sid": "s", "disconnect_reason": "1203", "releaser_type": "2"})
    assert (o.vendor, o.code, o.source) == ("planetkit", "1203", "2")
    o = one({"disconnect_reason": 1203, "terminate": 18})  # numbers from a JSON relay work too
    assert o.code == "1203"
    with pytest.raises(AdapterError):
        adapt({"disconnect_reason": "1203"})  # alone it could be anything


def test_planetkit_query_string_as_a_json_string() -> None:
    o = one("sid=s&disconnect_reason=1202&releaser_type=1")
    assert (o.vendor, o.code) == ("planetkit", "1202")


def test_planetkit_group_join_is_not_a_call_end() -> None:
    with pytest.raises(AdapterError) as e:
        adapt_query("sid=g&sc=S&msc=C&disconnect_reason=&online=1")
    assert e.value.cause == "not_call_end"
    o = adapt_query("sid=g&sc=E&msc=D&disconnect_reason=1402&releaser_type=4&end_time=1752489000")[0]
    assert (o.code, o.call_type, o.ts) == ("1402", "group", 1752489000.0)


def test_planetkit_marker_required_for_generic_shape() -> None:
    generic = {"reason": "BUSY", "source": "CALLEE"}
    with pytest.raises(AdapterError) as e:
        adapt(generic)
    assert e.value.cause == "unknown_format"
    o = one({**generic, "vendor": "PlanetKit"})
    assert (o.vendor, o.code, o.source, o.format) == ("planetkit", "BUSY", "CALLEE", "planetkit.sdk")
    assert one({"reason": "PLNK_DISCONNECT_REASON_BUSY", "source": 1}).code == "PLNK_DISCONNECT_REASON_BUSY"


def test_planetkit_flutter_other_subtypes_are_not_call_ends() -> None:
    with pytest.raises(AdapterError) as e:
        adapt({"type": 0, "id": "c", "subType": 0, "disconnectReason": 0, "disconnectSource": 0})
    assert e.value.cause == "not_call_end"


def test_planetkit_empty_user_code_is_absent() -> None:
    assert one({"reason": 1110, "source": 5, "byRemote": True, "userCode": ""}).user_code is None


def test_planetkit_web_without_code_uses_strcode() -> None:
    o = one({"source": "cloud_server", "reason": {"strCode": "PLANETKIT_DISCONNECT_REASON_WEB_NO_MEDIA_PACKET"}})
    assert o.code == "PLANETKIT_DISCONNECT_REASON_WEB_NO_MEDIA_PACKET"


def test_vendor_marker_restricts_detection() -> None:
    # A known vendor marker only tries that vendor's formats; an unknown vendor is an envelope.
    o = one({"vendor": "acs", "callEndReason": {"code": 0, "subCode": 0}})
    assert (o.vendor, o.format) == ("acs", "acs.calling_sdk")
    o = one({"vendor": "twilio", "reason": "x", "byRemote": True})
    assert (o.vendor, o.code, o.format) == ("twilio", None, "envelope")


def test_every_fixture_reason_is_in_the_catalogs():
    """The samples are written from the vendors' documents, so every code they carry must be catalogued:
    a swapped code/subcode or a misspelt name shows up here as an unknown reason."""
    from tui.domain.catalog import load_catalogs

    catalogs = load_catalogs()
    unknown = []
    for name in EXPECTED:
        observations, _ = decode(RawMessage(seq=1, data=(FIXTURES / name).read_bytes(), received=0.0))
        for obs, _ in observations:
            if obs.code is None:
                continue
            reason = catalogs.lookup(obs.vendor, obs.code, obs.subcode, obs.namespace)
            if not reason.known:
                unknown.append((name, obs.vendor, obs.code, obs.subcode, obs.namespace))
    assert unknown == []
