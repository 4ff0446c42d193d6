"""`callwatch explain` end to end: the real CLI in a subprocess, JSON Lines and human output."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "CALLWATCH_CATALOGS": ""}

LINES = [
    orjson.dumps({"ts": "2025-07-14T10:41:02Z", "vendor": "planetkit", "code": 1202, "source": "1", "call_id": "c-1"}),
    b"{broken",
    b"",
    orjson.dumps([{"vendor": "acs", "code": 487, "subcode": 10004}, {"vendor": "livekit", "code": 99999}, 7]),
    orjson.dumps({"vendor": "acs", "code": None, "message": "[bold red]SPOOF\x1b[2J"}),
]
FIELDS = {"line", "vendor", "code", "subcode", "known", "name", "category", "outcome", "source", "call_id", "ts",
          "description", "advice"}


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", "explain", *args], input=stdin.decode() if stdin else None,
                          capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=60)


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "calls.jsonl"
    path.write_bytes(b"\n".join(LINES) + b"\n")
    return path


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_json_one_object_per_event_and_invalid_message(capture):
    result = run(str(capture), "--json")
    assert result.returncode == 0, result.stderr
    recs = records(result.stdout)
    assert [r["line"] for r in recs] == [1, 2, 4, 4, 4, 5]
    first = recs[0]
    assert FIELDS <= set(first)
    assert (first["vendor"], first["code"], first["known"], first["name"]) == ("planetkit", "1202", True, "BUSY")
    assert (first["category"], first["outcome"], first["source"], first["call_id"]) == (
        "busy", "expected_error", "1", "c-1")
    assert first["ts"] == "2025-07-14T10:41:02.000Z"
    assert first["description"] and first["advice"]
    assert recs[1]["error"].startswith("bad_json:") and set(recs[1]) >= {"line", "error"}
    acs, unknown, bad = recs[2], recs[3], recs[4]
    assert (acs["vendor"], acs["code"], acs["subcode"], acs["name"]) == ("acs", "487", "10004", "RING_TIMEOUT")
    assert acs["ts"] is None  # the payload had no time: not presented as one
    assert (unknown["known"], unknown["name"], unknown["category"]) == (False, None, "unknown")
    assert "No catalog entry" in unknown["description"]
    assert bad["error"].startswith("not_an_object:")
    none = recs[5]
    assert (none["code"], none["known"], none["category"], none["outcome"]) == (None, False, "no_reason", "no_reason")


def test_human_output(capture):
    result = run(str(capture))
    assert result.returncode == 0
    out = result.stdout
    assert "line 1  planetkit 1202 -> BUSY  [busy, expected_error]" in out
    assert "ended by CALLEE (1)" in out and "call c-1" in out and "at 2025-07-14T10:41:02.000Z" in out
    assert "advice: " in out
    assert "line 2  invalid: bad_json" in out
    assert "line 4  livekit 99999 -> unknown code" in out
    assert "line 5  acs - -> no reason delivered" in out
    assert out.strip().splitlines()[-1].endswith("6 received (4 events, 2 invalid; 1 unknown, 1 without a reason) "
                                                  "from 4 messages")


def test_hostile_text_is_made_visible(capture):
    out = run(str(capture)).stdout + run(str(capture), "--json").stdout
    assert "\x1b" not in out
    assert "[bold red]SPOOF\\x1b[2J" in out  # kept literally, the escape shown, not interpreted


@pytest.mark.parametrize("name", ["calls.jsonl.gz", "calls.json", "calls.yaml"])
def test_other_formats(tmp_path, name):
    events = [{"vendor": "jssip", "code": "Busy"}, {"vendor": "livekit", "code": "CLIENT_INITIATED"}]
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(b"\n".join(orjson.dumps(e) for e in events) + b"\n"))
    elif name.endswith(".json"):
        path.write_bytes(orjson.dumps(events))
    else:
        path.write_text("vendor: jssip\ncode: Busy\n---\nvendor: livekit\ncode: CLIENT_INITIATED\n")
    recs = records(run(str(path), "--json").stdout)
    assert [(r["line"], r["name"]) for r in recs] == [(1, "BUSY"), (2, "CLIENT_INITIATED")]


def test_stdin(capture):
    recs = records(run("-", "--json", stdin=capture.read_bytes()).stdout)
    assert len(recs) == 6


def test_count_limits_output(capture):
    recs = records(run(str(capture), "--json", "--count", "2").stdout)
    assert [r["line"] for r in recs] == [1, 2]


def test_missing_file_exit_2(tmp_path):
    result = run(str(tmp_path / "missing.jsonl"), "--json")
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "missing.jsonl" in result.stderr
