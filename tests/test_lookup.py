"""Lookup: every spelling family, the ACS fallback chain, JsSIP statuses, namespaces and hostile input."""

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.domain.catalog import load_catalogs


@pytest.fixture(scope="module")
def cats():
    return load_catalogs()


def test_bundled_catalogs_load_without_errors(cats):
    assert cats.errors == []
    assert cats.vendors == ["planetkit", "livekit", "acs", "jssip"]


@pytest.mark.parametrize(
    "spelling",
    [1205, "1205", "MULTIDEV_IN_USE", "multiDeviceInUse", "MultiDevInUse", "multidev_in_use",
     "PLNK_DISCONNECT_REASON_MULTIDEV_IN_USE", "PLANETKIT_DISCONNECT_REASON_MULTIDEV_IN_USE", " 1205 ", 1205.0],
)
def test_planetkit_spellings_resolve_to_one_entry(cats, spelling):
    reason = cats.lookup("planetkit", spelling)
    assert reason.known and reason.name == "MULTIDEV_IN_USE"
    assert reason.entry.code == "1205" and reason.namespace == "disconnect_reason"


@pytest.mark.parametrize(
    ("spelling", "name"),
    [("NO_ANSWER", "NOANSWER"), ("noAnswer", "NOANSWER"), ("REASON_ROOM_NOT_FOUND", "ROOM_NOT_FOUND"),
     ("micNoSource", "AUDIO_TX_NO_SRC"), ("systemLogoff", "SYSTEM_LOGOFF"), ("systemLogOff", "SYSTEM_LOGOFF"),
     ("serviceInvalidID", "SERVICE_INVALID_ID"), (-1, None), ("1601", "WEB_RTC_ABORT"), ("1103", None)],
)
def test_planetkit_platform_spellings(cats, spelling, name):
    reason = cats.lookup("planetkit", spelling)
    assert reason.known, spelling
    if name:
        assert reason.name == name


def test_planetkit_namespaces_reusing_numbers_stay_separate(cats):
    current = cats.lookup("planetkit", "1001")
    legacy = cats.lookup("planetkit", "1001", namespace="call_end_reason")
    assert current.name == "NORMAL" and current.outcome == "success"
    assert legacy.name == "CALLEE_BUSY" and legacy.category == "busy"
    assert cats.lookup("planetkit", 1203).entry.deprecated is False
    assert cats.lookup("planetkit", 1306).entry.deprecated is True


def test_livekit_protocol_and_c_sdk_numbering_are_separate(cats):
    protocol = cats.lookup("livekit", 2)
    c_sdk = cats.lookup("livekit", 7, namespace="c_sdk")
    assert protocol.name == "DUPLICATE_IDENTITY" and protocol.namespace == "protocol"
    assert c_sdk.name == "DUPLICATE_IDENTITY" and c_sdk.namespace == "c_sdk"
    assert cats.lookup("livekit", 7).name == "JOIN_FAILURE"
    by_constant = cats.lookup("livekit", "LIVEKIT_FAILURE_REASON_DUPLICATE_IDENTITY")
    assert by_constant.namespace == "c_sdk" and by_constant.entry.code == "7"
    assert cats.lookup("livekit", "Ping Timeout").namespace == "c_sdk"
    assert cats.lookup("livekit", 16).name == "AGENT_ERROR"
    assert cats.lookup("livekit", "AGENT_ERROR").entry.code == "16"
    assert cats.lookup("livekit", 21, namespace="c_sdk").name == "OTHER"
    assert cats.lookup("livekit", "JOIN_INCOMPLETE").entry.protocol_equivalent == "7"


def test_bare_numbers_stay_in_the_default_namespace(cats):
    # A number is only meaningful in its numbering space: never fall through to another one.
    assert not cats.lookup("livekit", 17).known
    assert cats.lookup("livekit", 17, namespace="c_sdk").name == "SIP_USER_REJECTED"
    assert not cats.lookup("planetkit", 1004).known
    assert cats.lookup("planetkit", 1004, namespace="call_end_reason").name == "CALLER_END"
    # Names still resolve in any namespace.
    assert cats.lookup("planetkit", "CALLER_END").namespace == "call_end_reason"


def test_livekit_every_protocol_value_0_to_16(cats):
    for number in range(17):
        assert cats.lookup("livekit", number, namespace="protocol").known, number
    for number in range(22):
        assert cats.lookup("livekit", number, namespace="c_sdk").known, number


@pytest.mark.parametrize(
    ("code", "subcode", "matched", "entry_code", "entry_subcode"),
    [
        (487, 10004, "exact", "487", "10004"),          # exact pair
        ("487", "10004", "exact", "487", "10004"),      # numeric strings (logs)
        (499, 10004, "subcode", "487", "10004"),        # unique non-zero subcode
        (497, 560487, "subcode", "487", "560487"),      # the docs' 497 typo still lands on the row
        (410, 999999, "code", "410", None),             # unknown subcode -> the code-only row
        (410, None, "code", "410", None),               # no subcode -> the code-only row
        (487, None, "class", "4xx", None),              # 487 has no code-only row: missing subcode is not 0
        (555, 1, "class", "5xx", None),                 # code class
        (299, None, "class", "2xx", None),
        (699, None, "class", "6xx", None),
    ],
)
def test_acs_fallback_chain(cats, code, subcode, matched, entry_code, entry_subcode):
    reason = cats.lookup("acs", code, subcode)
    assert reason.known
    assert reason.matched == matched
    assert (reason.entry.code, reason.entry.subcode) == (entry_code, entry_subcode)
    # The raw values are kept whatever matched.
    assert reason.code == str(code).strip() and reason.subcode == (None if subcode is None else str(subcode))


def test_acs_missing_subcode_is_not_zero(cats):
    with_zero = cats.lookup("acs", 487, 0)
    without = cats.lookup("acs", 487)
    assert with_zero.matched == "exact" and with_zero.entry.subcode == "0"
    assert without.entry.subcode is None and without.matched != "exact"


def test_acs_unknown_beyond_classes(cats):
    reason = cats.lookup("acs", 42, 42)
    assert not reason.known and reason.matched == "none"
    assert (reason.vendor, reason.code, reason.subcode) == ("acs", "42", "42")


def test_acs_vendor_category_typo_fixed_everywhere(cats):
    cats_seen = {e.vendor_category for e in cats.entries("acs")}
    assert "UnxpectedClientError" not in cats_seen
    assert "UnexpectedClientError" in cats_seen


@pytest.mark.parametrize(
    ("code", "name", "matched"),
    [("BUSY", "BUSY", "exact"), ("Busy", "BUSY", "exact"), ("busy", "BUSY", "exact"), (486, "BUSY", "code"),
     ("600", "BUSY", "code"), (408, "UNAVAILABLE", "code"), (424, "ADDRESS_INCOMPLETE", "code"),
     ("Terminated", "BYE", "exact"), ("WebRTC Error", "WEBRTC_ERROR", "exact"),
     (487, "SIP_FAILURE_CODE", "class"), (503, "SIP_FAILURE_CODE", "class")],
)
def test_jssip_causes_and_statuses(cats, code, name, matched):
    reason = cats.lookup("jssip", code)
    assert reason.known and reason.name == name and reason.matched == matched


def test_disconnect_sources(cats):
    assert cats.source("planetkit", 1).name == "CALLEE"
    assert cats.source("planetkit", "cloud_server").name == "CLOUD_SERVER"
    assert cats.source("planetkit", "cloudServer").name == "CLOUD_SERVER"
    assert cats.source("jssip", "remote") is not None
    assert cats.source("planetkit", "nobody") is None
    assert cats.source("nosuchvendor", 1) is None


def test_vendor_aliases(cats):
    assert cats.vendor_id("Azure") == "acs"
    assert cats.vendor_id("LiveKit") == "livekit"
    assert cats.vendor_id("line-planet") == "planetkit"
    assert cats.vendor_id("skype") is None


def test_unknown_vendor_and_code_keep_raw_values(cats):
    reason = cats.lookup("skype", "BUSY", "9")
    assert not reason.known and (reason.vendor, reason.code, reason.subcode) == ("skype", "BUSY", "9")
    assert reason.category == "unknown" and reason.matched == "none"
    unknown = cats.lookup("planetkit", "WHAT_IS_THIS")
    assert not unknown.known and unknown.code == "WHAT_IS_THIS" and unknown.display_name == "? WHAT_IS_THIS"
    assert "not in callwatch's catalogs" in unknown.advice


def test_vendor_unknown_values_are_known_entries(cats):
    # A vendor's own UNKNOWN value is a known entry, distinct from an unknown code.
    assert cats.lookup("livekit", 0).name == "UNKNOWN_REASON"
    assert cats.lookup("planetkit", -1).known


def test_equivalents_are_other_vendors_same_category(cats):
    busy = cats.lookup("jssip", "Busy").entry
    others = cats.equivalents(busy)
    assert others and all(e.vendor != "jssip" and e.category == busy.category for e in others)
    assert {"planetkit", "acs"} <= {e.vendor for e in others}


def test_every_entry_is_complete(cats):
    for vendor in cats.vendors:
        for e in cats.entries(vendor):
            assert e.summary.strip() and e.advice.strip() and e.description.strip(), e.key
            assert e.category in cats.taxonomy.categories and e.outcome in cats.taxonomy.outcomes, e.key
            assert e.documents, e.key


def test_every_entry_resolves_to_itself(cats):
    for vendor in cats.vendors:
        for e in cats.entries(vendor):
            reason = cats.lookup(vendor, e.code, e.subcode, e.namespace)
            assert reason.entry is e, e.key


hostile = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=300),
    st.binary(max_size=50), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers()),
)


@settings(max_examples=400, deadline=None)
@given(vendor=st.one_of(st.sampled_from(["acs", "planetkit", "livekit", "jssip"]), hostile),
       code=hostile, subcode=hostile)
def test_lookup_never_raises(cats, vendor, code, subcode):
    reason = cats.lookup(vendor, code, subcode)
    assert isinstance(reason.known, bool)
    assert reason.matched in ("exact", "subcode", "code", "class", "none")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True)


def test_cli_lookup_json_known():
    result = run_cli("lookup", "acs", "487", "10004", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("vendor", "code", "subcode", "known", "name", "aliases", "description", "advice", "category",
                "outcome", "vendor_category", "matched"):
        assert key in data
    assert data["known"] is True and data["matched"] == "exact" and data["category"] == "no_answer"


def test_cli_lookup_unknown_exits_1_and_usage_exits_2():
    unknown = run_cli("lookup", "planetkit", "424242")
    assert unknown.returncode == 1 and "unknown" in unknown.stdout
    assert run_cli("lookup").returncode == 2
    assert run_cli("lookup", "livekit", "2", "--namespace", "nope").returncode == 2


def test_cli_lookup_human_readable():
    result = run_cli("lookup", "jssip", "486")
    assert result.returncode == 0
    assert "BUSY" in result.stdout and "advice:" in result.stdout and "equivalents:" in result.stdout


def test_cli_catalogs_list_show_map_validate(tmp_path):
    listing = run_cli("catalogs", "list")
    assert listing.returncode == 0 and "planetkit" in listing.stdout and "acs" in listing.stdout
    show = run_cli("catalogs", "show", "livekit")
    assert show.returncode == 0 and "AGENT_ERROR" in show.stdout
    mapping = run_cli("catalogs", "map", "--json")
    assert mapping.returncode == 0 and set(json.loads(mapping.stdout)["busy"]) >= {"planetkit", "jssip", "acs"}
    assert run_cli("catalogs", "validate").returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text('schema: "1"\nvendor: acs\nentries:\n  - code: 0123\n')
    result = run_cli("catalogs", "validate", str(bad))
    assert result.returncode == 1 and "bad.yaml:4" in result.stderr


def test_equivalents_prefer_each_vendors_main_namespace(cats):
    transfer = cats.lookup("acs", 200, 7015).entry
    others = cats.equivalents(transfer)
    livekit = [e for e in others if e.vendor == "livekit"]
    assert livekit and all(e.namespace == "protocol" for e in livekit)  # MIGRATION, not SIP_STATUS_3xx
    # A vendor with nothing in its main space for the category still gets its secondary entries.
    network = cats.lookup("livekit", "UNREACHABLE", namespace="c_sdk").entry
    assert any(e.vendor == "planetkit" for e in cats.equivalents(network))
