"""Bookmarks: saved beside the capture, atomic, merged between sessions, tolerant of any file content."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tui.domain.aggregate import Aggregate
from tui.domain.bookmarks import (
    MAX_FILE_BYTES,
    Bookmark,
    BookmarkError,
    BookmarkStore,
    bookmarks_path,
)
from tui.domain.catalog import load_catalogs
from tui.domain.model import CallEnd
from tui.domain.pipeline import Pipeline
from tui.ingest.raw import RawMessage


def events(*lines: dict) -> list[CallEnd]:
    """Real events: each dict is one capture line run through the pipeline."""
    aggregate = Aggregate(horizon_s=0)
    pipeline = Pipeline(load_catalogs(), aggregate)
    for seq, line in enumerate(lines, 1):
        pipeline.feed(RawMessage(seq, json.dumps(line), 1000.0, None))
    return list(aggregate.recent)


@pytest.fixture()
def two_events() -> list[CallEnd]:
    return events({"ts": 1752487200, "vendor": "planetkit", "code": "1203", "call_id": "c1"},
                  {"ts": 1752487260, "vendor": "acs", "code": 410, "subcode": 3101, "call_id": "c2"})


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


@pytest.mark.parametrize(("source", "expected"), [
    ("calls.jsonl", "calls.jsonl.bookmarks.json"),
    ("dir/today.jsonl.gz", "dir/today.jsonl.gz.bookmarks.json"),
    ("-", None),
    ("wss://feed.example/ws", None),
    ("", None),
])
def test_bookmarks_path(source, expected):
    got = bookmarks_path(source)
    assert (None if got is None else got.as_posix()) == expected


def test_add_save_load_roundtrip(tmp_path, two_events):
    path = tmp_path / "cap.jsonl.bookmarks.json"
    store = BookmarkStore(path, clock=Clock())
    assert store.bookmarks == () and store.error is None and not path.exists()
    a = store.add(two_events[1], "the drop everyone saw")
    b = store.add(two_events[0])
    store.save()
    doc = json.loads(path.read_text())
    assert doc["callwatch_bookmarks"] == 1
    first = doc["bookmarks"][0]  # sorted by event time: the planetkit event comes first
    assert set(first) >= {"seq", "ts", "vendor", "code", "name", "note", "created"}
    assert (first["seq"], first["vendor"], first["code"], first["name"]) == (1, "planetkit", "1203", "NOANSWER")
    again = BookmarkStore(path)
    assert again.error is None
    assert again.bookmarks == (b, a)
    assert a.subcode == "3101" and a.name == "CALL_DROPPED_NETWORK_FAILURE" and a.note == "the drop everyone saw"
    assert again.find(2) == a and again.find(2, "planetkit") is None and again.find(99) is None
    # No temporary file is left behind, and no lock file litters the capture's directory.
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_note_is_sanitized(tmp_path, two_events):
    store = BookmarkStore(tmp_path / "b.json")
    mark = store.add(two_events[0], "line1\nline2 \x1b[31mred\u202e" + "x" * 2000)
    assert "\x1b" not in mark.note and "\n" not in mark.note and "\u202e" not in mark.note
    assert len(mark.note) <= 500


def test_in_memory_store(two_events):
    store = BookmarkStore(None)
    store.add(two_events[0], "live feed, no recording")
    store.save()  # nothing to write: no error
    assert len(store) == 1 and store.path is None


@pytest.mark.parametrize("content", [
    b"{not json",
    b"\xff\xfe garbage",
    b'{"bookmarks": 5}',
    b'"just a string"',
    b"",
])
def test_corrupt_file_is_reported_kept_and_never_overwritten(tmp_path, two_events, content):
    path = tmp_path / "cap.jsonl.bookmarks.json"
    path.write_bytes(content)
    store = BookmarkStore(path)  # never raises
    assert store.bookmarks == ()
    assert store.error is not None and path.name in store.error
    store.add(two_events[0], "after the corruption")
    store.save()
    assert (tmp_path / (path.name + ".corrupt")).read_bytes() == content  # the old bytes are kept
    fresh = BookmarkStore(path)
    assert fresh.error is None and [b.note for b in fresh.bookmarks] == ["after the corruption"]


def test_bad_entries_are_skipped_and_counted(tmp_path):
    path = tmp_path / "b.json"
    good = {"seq": 3, "ts": 1752487200.5, "vendor": "jssip", "code": "Busy", "name": "BUSY", "note": "ok",
            "created": 1.0}
    path.write_text(json.dumps([
        good,
        {"seq": "3", "ts": 1, "vendor": "x"},        # seq not a number
        {"seq": 1, "ts": "soon", "vendor": "x"},           # ts not a number
        {"seq": 1, "ts": 1},                          # no vendor
        "a string",
        {**good, "note": "\x1b]52;c;SGVsbG8=\x07 clipboard", "code": {"nested": True}},  # code not text
        {**good, "seq": 4, "vendor": "\u202eevil", "note": "\x1b[2J"},
    ]))
    store = BookmarkStore(path)
    assert [b.seq for b in store.bookmarks] == [3, 4]
    assert store.error is not None and "5 bad bookmark(s) skipped" in store.error
    hostile = store.find(4)
    assert hostile is not None and "\u202e" not in hostile.vendor and "\x1b" not in hostile.note


def test_huge_file_is_not_read(tmp_path):
    path = tmp_path / "b.json"
    path.write_bytes(b"[" + b" " * (MAX_FILE_BYTES + 10) + b"]")
    store = BookmarkStore(path)
    assert store.bookmarks == () and "larger than" in (store.error or "")


def test_two_sessions_merge_instead_of_overwriting(tmp_path, two_events):
    """Two dashboards (two browser tabs of `callwatch web`) bookmark the same capture."""
    path = tmp_path / "cap.jsonl.bookmarks.json"
    clock = Clock()
    one, two = BookmarkStore(path, clock=clock), BookmarkStore(path, clock=clock)
    mine = one.add(two_events[0], "from tab one")
    one.save()
    two.add(two_events[1], "from tab two")
    two.save()
    assert {b.note for b in BookmarkStore(path).bookmarks} == {"from tab one", "from tab two"}
    # A removal is kept through the merge; the other session's bookmark stays.
    one.load()
    assert one.remove(mine) and not one.remove(mine)
    one.save()
    assert [b.note for b in BookmarkStore(path).bookmarks] == ["from tab two"]


def test_save_failure_raises_bookmark_error_and_keeps_the_bookmarks(tmp_path, two_events):
    store = BookmarkStore(tmp_path / "no-such-dir" / "b.json")
    store.add(two_events[0], "kept in memory")
    with pytest.raises(BookmarkError, match="cannot save bookmarks"):
        store.save()
    assert [b.note for b in store.bookmarks] == ["kept in memory"]


def test_save_keeps_the_file_mode(tmp_path, two_events):
    path = tmp_path / "b.json"
    path.write_text('{"callwatch_bookmarks": 1, "bookmarks": []}')
    os.chmod(path, 0o640)
    store = BookmarkStore(path)
    store.add(two_events[0])
    store.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_from_dict_round_trip_and_validation():
    mark = Bookmark(seq=7, ts=1.5, vendor="acs", code="0", name="X", note="n", created=2.0, subcode="487")
    assert Bookmark.from_dict(mark.to_dict()) == mark
    for bad in ({"seq": True, "ts": 1, "vendor": "a"}, {"seq": -1, "ts": 1, "vendor": "a"},
                {"seq": 1, "ts": float("inf"), "vendor": "a"}, {"seq": 1, "ts": 1, "vendor": ""}):
        with pytest.raises(ValueError):
            Bookmark.from_dict(bad)


def test_bookmark_file_beside_a_recording(tmp_path, two_events):
    """`live --record rec.jsonl` then `replay rec.jsonl`: both use rec.jsonl.bookmarks.json."""
    rec = tmp_path / "rec.jsonl"
    rec.write_text("")
    path = bookmarks_path(rec)
    assert path == Path(str(rec) + ".bookmarks.json")
    store = BookmarkStore(path)
    store.add(two_events[0], "seen live")
    store.save()
    assert BookmarkStore(bookmarks_path(str(rec))).bookmarks[0].note == "seen live"
