"""The bundled catalogs carry every code of the five seed documents, with the seed's own text.

The expected data is an independent transcription of the seeds (``seed_data.py``); these tests go
through the public lookup API only (``load_catalogs()``, ``Catalogs.lookup``, ``Catalogs.source``).
Texts are compared after collapsing whitespace, nothing else.
"""

from __future__ import annotations

from collections import Counter

import pytest

try:  # tests/ is a plain directory today; keep working if it becomes a package
    from tests.seed_data import (
        ACS,
        ACS_CODE_ONLY,
        JSSIP,
        LIVEKIT_C_SDK,
        PLANETKIT_5,
        PLANETKIT_LEGACY,
        PLANETKIT_SOURCES,
    )
except ImportError:  # pragma: no cover - depends on how pytest puts tests/ on sys.path
    from seed_data import (  # type: ignore[no-redef]
        ACS,
        ACS_CODE_ONLY,
        JSSIP,
        LIVEKIT_C_SDK,
        PLANETKIT_5,
        PLANETKIT_LEGACY,
        PLANETKIT_SOURCES,
    )


def norm(text: str | None) -> str:
    """Collapse every run of whitespace to one space (``None`` becomes "")."""
    return " ".join((text or "").split())


def key(result) -> tuple:
    """The identity of the entry a lookup resolved to."""
    # `code`/`subcode` on a lookup result are the raw input; the entry carries the catalogued ones.
    return (result.namespace, result.entry.code, result.entry.subcode) if result.entry else None


@pytest.fixture(scope="module")
def cats():
    # Imported here, not at module level, so that this file still collects while the catalog
    # module is being written: a missing module then fails the tests instead of the collection.
    from tui.domain.catalog import load_catalogs

    return load_catalogs()


# --- the transcription itself is complete -------------------------------------------------------


def test_transcription_row_counts() -> None:
    """Counted in the seed files; a truncated transcription must fail here."""
    assert len(PLANETKIT_LEGACY) == 28
    assert Counter(r["origin"] for r in PLANETKIT_LEGACY) == {
        "normal": 9,
        "terminal": 5,
        "server": 13,
        "user_defined": 1,
    }
    assert len(PLANETKIT_5) == 44
    assert len(PLANETKIT_SOURCES) == 5
    assert [s["value"] for s in PLANETKIT_SOURCES] == [1, 2, 3, 4, 5]
    assert len(LIVEKIT_C_SDK) == 22
    assert sum(1 for r in LIVEKIT_C_SDK if r["protocol_equivalent"]) == 14
    assert len(ACS) == 38
    assert sum(1 for r in ACS if r["category"] == "UnxpectedClientError") == 3
    assert len(ACS_CODE_ONLY) == 14  # 8 seed rows, two of them listing several codes
    assert len({r["seed_row"] for r in ACS_CODE_ONLY}) == 8
    assert len(JSSIP) == 22
    assert Counter(r["table"] for r in JSSIP) == {"common": 4, "sip_error": 9, "rtcsession": 9}


def test_transcription_keys_are_unique() -> None:
    assert len({r["name"] for r in PLANETKIT_LEGACY}) == len(PLANETKIT_LEGACY)
    assert len({r["constant"] for r in PLANETKIT_5}) == len(PLANETKIT_5)
    assert len({r["case"] for r in PLANETKIT_5}) == len(PLANETKIT_5)
    assert len({r["constant"] for r in LIVEKIT_C_SDK}) == len(LIVEKIT_C_SDK)
    assert len({(r["code"], r["subcode"]) for r in ACS}) == len(ACS)
    assert len({r["code"] for r in ACS_CODE_ONLY}) == len(ACS_CODE_ONLY)
    assert len({r["constant"] for r in JSSIP}) == len(JSSIP)
    statuses = [s for r in JSSIP for s in r["statuses"]]
    assert len(set(statuses)) == len(statuses)


# --- PlanetKit ----------------------------------------------------------------------------------


@pytest.mark.parametrize("row", PLANETKIT_LEGACY, ids=[r["name"] for r in PLANETKIT_LEGACY])
def test_planetkit_legacy_name(cats, row) -> None:
    r = cats.lookup("planetkit", row["name"])
    assert r.known, f"legacy kitDisconnectReason {row['name']} is not in the catalog"
    assert norm(r.seed_text.get("seed-000")) == norm(row["text"])
    expected = {"1:1"} if row["one_to_one"] else set()
    if row["group"]:
        expected.add("group")
    assert set(r.applies_to) == expected
    assert r.origin == row["origin"]


@pytest.mark.parametrize("row", PLANETKIT_5, ids=[r["constant"] for r in PLANETKIT_5])
def test_planetkit_5_case_and_constant(cats, row) -> None:
    by_constant = cats.lookup("planetkit", row["constant"])
    by_case = cats.lookup("planetkit", row["case"])
    assert by_constant.known, f"{row['constant']} is not in the catalog"
    assert by_case.known, f"enum case {row['case']} does not resolve"
    assert key(by_case) == key(by_constant)
    assert by_constant.name == row["constant"]


@pytest.mark.parametrize("row", PLANETKIT_SOURCES, ids=[r["case"] for r in PLANETKIT_SOURCES])
def test_planetkit_disconnect_source(cats, row) -> None:
    by_value = cats.source("planetkit", str(row["value"]))
    by_case = cats.source("planetkit", row["case"])
    assert by_value is not None, f"disconnect source {row['value']} is not in the catalog"
    assert by_case is not None, f"disconnect source {row['case']} does not resolve"
    assert by_value.name == by_case.name
    assert by_value.description


# --- LiveKit ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "row",
    LIVEKIT_C_SDK,
    ids=[r["constant"].removeprefix("LIVEKIT_FAILURE_REASON_") for r in LIVEKIT_C_SDK],
)
def test_livekit_c_sdk_reason(cats, row) -> None:
    r = cats.lookup("livekit", row["constant"], namespace="c_sdk")
    assert r.known, f"{row['constant']} is not in the c_sdk namespace"
    assert r.namespace == "c_sdk"
    seed = norm(r.seed_text.get("seed-002"))
    assert norm(row["title"]) in seed
    assert norm(row["text"]) in seed
    if row["protocol_equivalent"]:
        p = cats.lookup("livekit", row["protocol_equivalent"], namespace="protocol")
        assert p.known, f"protocol equivalent {row['protocol_equivalent']} is not in the catalog"
        assert p.namespace == "protocol"
        assert p.name == row["protocol_equivalent"]


# --- Azure Communication Services ---------------------------------------------------------------


@pytest.mark.parametrize("row", ACS, ids=[f"{r['code']}-{r['subcode']}" for r in ACS])
def test_acs_code_subcode(cats, row) -> None:
    r = cats.lookup("acs", row["code"], row["subcode"])
    assert r.known, f"ACS {row['code']}/{row['subcode']} is not in the catalog"
    assert r.matched == "exact"
    assert (r.code, r.subcode) == (row["code"], row["subcode"])
    assert norm(r.description) == norm(row["message"])
    assert norm(r.seed_text.get("seed-003")) == norm(row["message"])
    if row["advice"]:
        assert norm(r.advice) == norm(row["advice"])
    assert r.vendor_category == row["category"].replace("Unxpected", "Unexpected")


@pytest.mark.parametrize("row", ACS_CODE_ONLY, ids=[r["code"] for r in ACS_CODE_ONLY])
def test_acs_code_only(cats, row) -> None:
    r = cats.lookup("acs", row["code"])
    assert r.known, f"ACS code-only row {row['code']} is not in the catalog"
    assert r.subcode is None
    assert r.matched == "code"
    assert r.code == row["code"]
    assert norm(row["message"]) in norm(r.seed_text.get("seed-003"))
    # The row's second text (explanation / action) must be carried somewhere, word for word.
    carried = " | ".join(norm(t) for t in (r.seed_text.get("seed-003"), r.description, r.advice))
    assert norm(row["advice"]) in carried


# --- JsSIP --------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", JSSIP, ids=[r["constant"] for r in JSSIP])
def test_jssip_cause(cats, row) -> None:
    by_constant = cats.lookup("jssip", row["constant"])
    by_value = cats.lookup("jssip", row["value"])
    assert by_constant.known, f"JsSIP cause {row['constant']} is not in the catalog"
    assert by_value.known, f"JsSIP cause value {row['value']!r} does not resolve"
    assert key(by_value) == key(by_constant)
    assert by_constant.name == row["constant"]
    if row["text"]:
        assert norm(by_constant.seed_text.get("seed-004")) == norm(row["text"])


JSSIP_STATUSES = [(status, r["constant"]) for r in JSSIP for status in r["statuses"]]


@pytest.mark.parametrize(
    ("status", "constant"), JSSIP_STATUSES, ids=[f"{s}-{c}" for s, c in JSSIP_STATUSES]
)
def test_jssip_sip_status(cats, status, constant) -> None:
    r = cats.lookup("jssip", status)
    assert r.known, f"SIP status {status} does not resolve to a JsSIP cause"
    assert key(r) == key(cats.lookup("jssip", constant))
    assert r.name == constant
