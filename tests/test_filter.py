"""The filter language: parsing, matching events and reason rows, and never raising on any text."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tui.domain.aggregate import Aggregate
from tui.domain.catalog import load_catalogs
from tui.domain.filter import FIELDS, Filter, FilterError, parse_filter
from tui.domain.model import CallEnd

CATALOGS = load_catalogs()


def _event(vendor, code, subcode=None, **kw) -> CallEnd:
    reason = None if code is None else CATALOGS.lookup(vendor, code, subcode)
    kw.setdefault("seq", 1)
    kw.setdefault("ts", 1752489391.0)
    return CallEnd(vendor=vendor, code=code, subcode=subcode, reason=reason, **kw)


EVENTS = {
    # PlanetKit 1203 (no answer), ended by the callee.
    "pk": _event("planetkit", "1203", source="2", source_name="CALLER", call_id="6364e8b3-bdac",
                 message="callee did not answer within 60 s"),
    # ACS 487/10003: call canceled / answered elsewhere family.
    "acs": _event("acs", "487", "10003", source="Participant", source_name="PARTICIPANT",
                  call_id="c5a7e1d3-92b4", format="acs.eventgrid"),
    "jssip": _event("jssip", "Busy", source="remote", source_name="remote", call_id="abc-123",
                    message="486 Busy Here", format="jssip"),
    "lk": _event("livekit", "CLIENT_INITIATED", call_id="RM_hycB", format="livekit.webhook"),
    "unknown": _event("acs", "999", "77", call_id="zzz"),
    "noreason": _event("acs", None, call_id="nr-1"),
    "minus": _event("planetkit", "-1", call_id="pk-minus"),
}


def _names(flt: Filter) -> set[str]:
    return {name for name, ev in EVENTS.items() if flt.matches(ev)}


ALL = set(EVENTS)


def test_sample_events_are_what_the_table_assumes():
    assert EVENTS["pk"].known and EVENTS["acs"].known and EVENTS["jssip"].known and EVENTS["lk"].known
    assert EVENTS["jssip"].category == "busy"
    assert not EVENTS["unknown"].known and EVENTS["unknown"].category == "unknown"
    assert EVENTS["noreason"].reason is None and EVENTS["noreason"].outcome == "no_reason"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", ALL),
        ("   ", ALL),
        ("vendor:acs", {"acs", "unknown", "noreason"}),
        ("VENDOR:ACS", {"acs", "unknown", "noreason"}),
        ("vendor:acs vendor:jssip", {"acs", "unknown", "noreason", "jssip"}),
        ("!vendor:acs", {"pk", "jssip", "lk", "minus"}),
        ("!vendor:acs !vendor:jssip", {"pk", "lk", "minus"}),
        ("category:busy", {"jssip"}),
        ("cat:busy", {"jssip"}),
        ("!outcome:success", ALL - {e for e, ev in EVENTS.items() if ev.outcome == "success"}),
        ("outcome:no_reason", {"noreason"}),
        ("code:487", {"acs"}),
        ("code:487/10003", {"acs"}),
        ("code:48", set()),  # codes compare exactly...
        ("code:4*", {"acs"}),  # ...unless wildcarded
        ("subcode:10003", {"acs"}),
        ("code:-1", {"minus"}),
        ("-1", {"minus", "noreason", "jssip"}),  # a leading '-' is not a negation (nr-1, abc-123)
        ("name:busy", {"jssip"}),
        ("name:client-initiated", {"lk"}),  # separators and case ignored for names
        ("name:'client initiated'", {"lk"}),
        ("source:remote", {"jssip"}),
        ("source:caller", {"pk"}),  # catalogued source name
        ("src:participant", {"acs"}),
        ("call:abc", {"jssip"}),
        ("id:ABC", {"jssip"}),
        ("known:no", {n for n, e in EVENTS.items() if not e.known}),
        ("known:true", {n for n, e in EVENTS.items() if e.known}),
        ("format:livekit", {"lk"}),
        ("message:'busy here'", {"jssip"}),
        ('msg:"did not answer"', {"pk"}),
        ("busy", {"jssip"}),
        ("BUSY", {"jssip"}),
        ("!busy", ALL - {"jssip"}),
        ("acs 487", {"acs"}),  # free words AND
        ("vendor:acs !known:true", {"unknown", "noreason"}),
        ('"did not answer"', {"pk"}),
        ('"sip:nothing"', set()),  # a quoted word with a colon is free text, not a field
        ("6364e8b3", {"pk"}),  # call id
        ("? 999/77", {"unknown"}),  # two free words; the unknown label is "? 999/77"
        ("999/77", {"unknown"}),
        ("vendor:acs code:487 vendor:jssip", {"acs"}),
        ("vendor:*ss*", {"jssip"}),
        ('vendor:"unterminated', set()),  # an unclosed quote runs to the end, no error
    ],
)
def test_event_matching(text, expected):
    flt = parse_filter(text)
    assert flt.error is None, flt.error
    assert _names(flt) == expected


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("colour:red", "unknown field 'colour:'"),
        ("vendor:", "'vendor:' needs a value"),
        ("vendor:acs bogus:1", "unknown field 'bogus:'"),
        ("known:maybe", "known:"),
        ("! acs", "'!' needs"),
        ("http://example", "unknown field 'http:'"),
    ],
)
def test_errors_are_reported_not_raised_and_hide_nothing(text, fragment):
    flt = parse_filter(text)
    assert flt.error is not None and fragment in flt.error
    assert "invalid filter" in flt.describe()
    assert _names(flt) == ALL
    with pytest.raises(FilterError):
        flt.check()


def test_unknown_field_error_lists_the_fields():
    err = parse_filter("foo:bar").error
    assert err is not None
    for name in FIELDS:
        assert name in err


@pytest.mark.parametrize(
    "text, described",
    [
        ("", "all events"),
        ("vendor:acs vendor:jssip !outcome:success busy", 'vendor: acs or jssip, not outcome: success, text "busy"'),
        ("!busy", 'without "busy"'),
        ("name:'user busy'", 'name: "user busy"'),
        ("known:yes", "known: true"),
    ],
)
def test_describe(text, described):
    assert parse_filter(text).describe() == described


def _rows():
    agg = Aggregate()
    for ev in EVENTS.values():
        agg.add(ev)
    return {r.vendor + ":" + r.label: r for r in agg.drain().reasons}


@pytest.mark.parametrize(
    "text, expected_vendors",
    [
        ("", {"planetkit", "acs", "jssip", "livekit"}),
        ("vendor:acs", {"acs"}),
        ("category:busy", {"jssip"}),
        ("!outcome:success vendor:jssip", {"jssip"}),
        ("call:abc", {"planetkit", "acs", "jssip", "livekit"}),  # rows have no call id: not restricting
        ("source:remote vendor:livekit", {"livekit"}),
        ("known:false vendor:acs", {"acs"}),
        ("name:client_initiated", {"livekit"}),
        ("code:487/10003", {"acs"}),
        ("livekit", {"livekit"}),
    ],
)
def test_row_matching(text, expected_vendors):
    rows = _rows()
    flt = parse_filter(text)
    assert {r.vendor for r in rows.values() if flt.matches_row(r)} == expected_vendors


def test_row_known_and_label():
    rows = _rows()
    flt = parse_filter("known:false")
    labels = {r.label for r in rows.values() if flt.matches_row(r)}
    assert "? 999/77" in labels and "(no reason delivered)" in labels
    assert all(not rows[k].known for k in rows if rows[k].label in labels)


def test_long_text_and_many_terms_are_capped():
    flt = parse_filter("x " * 5000)
    assert flt.error is not None and "too many terms" in flt.error
    assert len(flt.text) <= 2000


def test_non_string_input():
    assert parse_filter(None).describe() == "all events"
    assert parse_filter(42).terms[0].value == "42"


NASTY = [
    "[@click=app.quit]X[/]",
    "[/bold]",
    "\x1b[31mred\x1b]0;title\x07",
    '"',
    "'",
    "!",
    "!!",
    ":",
    "a:",
    "::::",
    "vendor:\"",
    "code:*",
    "code:**[?",
    "\ud800",
    "name:(",
    "\\",
]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=200))
@example("vendor:acs !outcome:success code:487 name:busy source:remote call:abc known:false")
def test_never_raises_on_any_text(text):
    for t in [text, *NASTY]:
        flt = parse_filter(t)
        flt.describe()
        for ev in EVENTS.values():
            assert isinstance(flt.matches(ev), bool)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", "!"]),
            st.sampled_from(["", *FIELDS, "cat:", "bogus"]),
            st.text(alphabet="ab*?[]:\"' 0123/-_", max_size=8),
        ),
        max_size=6,
    )
)
def test_never_raises_on_term_soup(parts):
    text = " ".join(neg + (f"{fld}:" if fld else "") + val for neg, fld, val in parts)
    flt = parse_filter(text)
    flt.describe()
    for ev in EVENTS.values():
        flt.matches(ev)
