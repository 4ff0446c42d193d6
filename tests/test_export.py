"""Exports: CSV (formula injection neutralised), JSON, Markdown (| escaped), file naming and writing."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.domain.aggregate import Aggregate
from tui.domain.catalog import load_catalogs
from tui.domain.export import (
    EVENT_COLUMNS,
    REASON_COLUMNS,
    csv_cell,
    export_events,
    export_reasons,
    format_time,
    markdown_cell,
    safe_json_dumps,
    write_export,
)
from tui.domain.mask import Masker
from tui.domain.model import CallEnd

CATALOGS = load_catalogs()


def _event(vendor="acs", code="487", subcode="10003", **kw) -> CallEnd:
    kw.setdefault("seq", 7)
    kw.setdefault("ts", 1752489729.3387)
    return CallEnd(vendor=vendor, code=code, subcode=subcode,
                   reason=None if code is None else CATALOGS.lookup(vendor, code, subcode), **kw)


EVENTS = [
    _event(call_id="c5a7e1d3", source="Participant", source_name="PARTICIPANT", message="ok"),
    _event("planetkit", "-1", None, call_id="=HYPERLINK(\"http://evil\",\"x\")", message="+cmd|' /C calc'!A0"),
    _event("jssip", None, None, call_id="@SUM(1+1)", message="a | b\nc"),
]


@pytest.mark.parametrize(
    "value, cell",
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=x", "'\t=x"),
        ("\r=x", "'\r=x"),
        ("-1", "-1"),  # a plain number cannot run: PlanetKit's code -1 stays a number
        ("+44", "+44"),
        ("-1.5e3", "-1.5e3"),
        ("normal", "normal"),
        ("a=b", "a=b"),
        (None, ""),
        (True, "true"),
        (486, "486"),
    ],
)
def test_csv_cell(value, cell):
    assert csv_cell(value) == cell


def test_format_time_is_utc_and_never_raises():
    assert format_time(1752489729.3387) == "2025-07-14T10:42:09.338Z"
    assert format_time(None) == ""
    assert format_time(1e300) == ""
    assert format_time(float("nan")) == ""


def test_csv_events():
    text = export_events(EVENTS, "csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(EVENT_COLUMNS)
    assert len(rows) == 1 + len(EVENTS)
    first = dict(zip(rows[0], rows[1]))
    assert first["vendor"] == "acs" and first["code"] == "487" and first["subcode"] == "10003"
    assert first["time"] == "2025-07-14T10:42:09.338Z"
    assert first["known"] == "true" and first["name"] == EVENTS[0].reason.name
    second = dict(zip(rows[0], rows[2]))
    assert second["code"] == "-1"
    assert second["call_id"].startswith("'=HYPERLINK")
    assert second["message"].startswith("'+cmd")
    third = dict(zip(rows[0], rows[3]))
    assert third["call_id"] == "'@SUM(1+1)"
    assert third["outcome"] == "no_reason" and third["name"] == ""
    assert third["message"] == "a | b\nc"  # the csv module quotes the embedded newline
    # No cell of any row starts a formula.
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "@")) or cell in ("+44",)
            assert not cell.startswith("-") or cell == "-1"


def test_json_events():
    data = json.loads(export_events(EVENTS, "json"))
    assert isinstance(data, list) and len(data) == 3
    assert list(data[0]) == list(EVENT_COLUMNS)
    assert data[0]["seq"] == 7 and data[0]["known"] is True
    assert data[1]["call_id"] == '=HYPERLINK("http://evil","x")'  # JSON keeps values exactly
    assert data[2]["code"] is None and data[2]["name"] is None


def test_markdown_events():
    text = export_events(EVENTS, "markdown")
    lines = text.splitlines()
    assert lines[0] == "| " + " | ".join(EVENT_COLUMNS) + " |"
    assert lines[1].count("---") == len(EVENT_COLUMNS)
    assert len(lines) == 2 + len(EVENTS)
    # Every row has exactly as many cell separators as the header: escaped pipes do not split cells.
    for line in lines[2:]:
        assert line.replace("\\|", "").count("|") == len(EVENT_COLUMNS) + 1
    assert "a \\| b c" in lines[4]


@pytest.mark.parametrize(
    "value, cell",
    [
        ("a|b", "a\\|b"),
        ("[x](javascript:alert(1))", "\\[x\\](javascript:alert(1))"),
        ("<script>", "\\<script\\>"),
        ("`code`", "\\`code\\`"),
        ("*bold*", "\\*bold\\*"),
        ("back\\slash", "back\\\\slash"),
        ("line\nbreak", "line break"),
        ("CALL_ENDED_BY_X", "CALL_ENDED_BY_X"),
    ],
)
def test_markdown_cell(value, cell):
    assert markdown_cell(value) == cell


def _rows():
    agg = Aggregate()
    for ev in EVENTS + [EVENTS[0]]:
        agg.add(ev)
    return agg.drain().reasons


@pytest.mark.parametrize("fmt", ["csv", "json", "markdown"])
def test_export_reasons(fmt):
    rows = _rows()
    text = export_reasons(rows, fmt)
    if fmt == "json":
        data = json.loads(text)
        assert [d["count"] for d in data] == [2, 1, 1]
        assert data[0]["vendor"] == "acs" and data[0]["known"] is True
        assert list(data[0]) == list(REASON_COLUMNS)
        assert any(d["name"] == "(no reason delivered)" for d in data)
    elif fmt == "csv":
        table = list(csv.reader(io.StringIO(text)))
        assert table[0] == list(REASON_COLUMNS)
        assert [r[0] for r in table[1:]] == ["2", "1", "1"]
    else:
        assert text.splitlines()[0].startswith("| count | vendor | name")
        assert len(text.splitlines()) == 2 + 3


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown export format"):
        export_events(EVENTS, "xlsx")
    with pytest.raises(ValueError):
        export_reasons([], "html")


def test_empty_exports():
    assert export_events([], "json").strip() == "[]"
    assert export_events([], "csv").strip() == ",".join(EVENT_COLUMNS)
    assert len(export_reasons([], "markdown").splitlines()) == 2


def test_masked_export():
    m = Masker(b"k")
    text = export_events(EVENTS, "json", masker=m)
    assert "c5a7e1d3" not in text and "HYPERLINK" not in text
    data = json.loads(text)
    assert data[0]["call_id"] == m.call_id("c5a7e1d3")
    assert data[0]["source"] == "Participant"  # a catalogued role is not personal


def test_json_export_is_display_safe():
    ev = _event(message="\u202eevil\x85", call_id="\ud800")
    text = export_events([ev], "json")
    assert "\u202e" not in text and "\x85" not in text
    text.encode("utf-8")  # lone surrogate escaped
    assert json.loads(text)[0]["message"] == "\u202eevil\x85"


def test_safe_json_dumps_round_trips():
    value = {"a": ["é", "日本", "\u2066x", "\x7f", {"n": 1.5}]}
    out = safe_json_dumps(value, indent=2)
    assert json.loads(out) == value
    assert "日本" in out and "\u2066" not in out


def test_write_export_names_and_never_overwrites(tmp_path):
    now = 1752489729.0
    target = tmp_path / "sub" / "dir"
    p1 = write_export("a", target, "events", "csv", now=now)
    p2 = write_export("b", target, "events", "csv", now=now)
    p3 = write_export("c", target, "events", "markdown", now=now)
    assert p1.name == "events-20250714-104209.csv"
    assert p2.name == "events-20250714-104209-2.csv"
    assert p3.name == "events-20250714-104209.md"
    assert (p1.read_text(), p2.read_text(), p3.read_text()) == ("a", "b", "c")


def test_write_export_sanitises_the_stem(tmp_path):
    p = write_export("x", tmp_path, "../../etc/passwd", "json", now=0)
    assert p.parent == tmp_path
    assert p.name == "etc_passwd-19700101-000000.json"
    p = write_export("x", tmp_path, "", "json", now=0)
    assert p.name.startswith("callwatch-")


def test_write_export_survives_surrogates(tmp_path):
    p = write_export("bad \ud800 char", tmp_path, "s", "json", now=0)
    assert p.read_bytes() == b"bad \\ud800 char"


def test_write_export_rejects_unknown_format(tmp_path):
    with pytest.raises(ValueError):
        write_export("x", tmp_path, "s", "pdf")
    assert os.listdir(tmp_path) == []


text_values = st.text(alphabet=st.characters(codec=None), max_size=40) | st.none()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(text_values, text_values, text_values), max_size=5))
def test_exports_never_break_on_hostile_values(values):
    events = [
        _event("acs", code, None, call_id=call_id, message=message, source=call_id)
        for code, call_id, message in values
    ]
    for fmt in ("csv", "json", "markdown"):
        text = export_events(events, fmt)
        text.encode("utf-8", errors="backslashreplace")
    data = json.loads(export_events(events, "json"))
    assert len(data) == len(events)
    rows = list(csv.reader(io.StringIO(export_events(events, "csv"))))
    assert len(rows) == len(events) + 1
    for row in rows[1:]:
        for cell in row:
            assert cell == "" or not cell.startswith(("=", "@", "\t", "\r")), cell
    md = export_events(events, "markdown").split("\n")
    for line in md[2:-1]:
        assert line.replace("\\\\", "").replace("\\|", "").count("|") == len(EVENT_COLUMNS) + 1
