"""`callwatch summary` end to end: the real CLI in a subprocess over capture files, stdin and a live feed."""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tui.ingest.feed_server import FeedServer
from tui.ingest.raw import RawMessage

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "CALLWATCH_CATALOGS": ""}

# The known capture: 7 events + 2 bad lines (lines 3 and 7), a blank line (5) skipped.
EVENTS = [
    {"ts": "2025-07-14T10:41:02Z", "vendor": "planetkit", "code": 1202, "source": "1", "call_id": "a"},
    {"ts": 1752489663, "vendor": "PlanetKit", "code": "BUSY", "source": "2"},
    None,  # line 3: bad JSON
    {"vendor": "acs", "code": 487, "subcode": 10004},
    "",  # line 5: blank
    {"vendor": "acs", "code": "487", "subcode": "10004"},
    [1],  # line 7: an array holding a number: one invalid element
    {"vendor": "livekit", "code": 99999},
    {"vendor": "acs", "code": None},
    {"vendor": "planetkit", "code": 1202, "source": "1"},
]
EXPECTED = {"received": 9, "events": 7, "invalid": 2, "unknown": 1, "no_reason": 1}


def jsonl_bytes(items: list) -> bytes:
    out = []
    for item in items:
        if item is None:
            out.append(b'{"vendor": "acs", "code": ')
        elif item == "":
            out.append(b"")
        else:
            out.append(orjson.dumps(item))
    return b"\n".join(out) + b"\n"


def run(*args: str, stdin: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "summary", *args], input=stdin.decode() if stdin is not None else None,
        capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=timeout,
    )


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "calls.jsonl"
    path.write_bytes(jsonl_bytes(EVENTS))
    return path


def check_counts(data: dict, expected: dict = EXPECTED) -> None:
    for key, value in expected.items():
        assert data[key] == value, key
    reasons = {(r["vendor"], r["code"], r["subcode"]): r for r in data["reasons"]}
    assert reasons[("planetkit", "1202", None)]["count"] == 3
    assert reasons[("planetkit", "1202", None)]["name"] == "BUSY"
    assert reasons[("acs", "487", "10004")]["count"] == 2
    assert reasons[("livekit", "99999", None)]["name"] is None
    assert reasons[("livekit", "99999", None)]["category"] == "unknown"
    assert sum(r["count"] for r in data["reasons"]) == data["events"]
    for table in ("by_category", "by_outcome", "by_vendor", "by_source"):
        assert sum(data[table].values()) == data["events"], table
    assert data["by_vendor"] == {"planetkit": 3, "acs": 3, "livekit": 1}
    assert data["by_source"]["CALLEE"] == 2 and data["by_source"]["CALLER"] == 1


def test_json_schema_and_counts(capture):
    result = run(str(capture), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("received", "events", "invalid", "unknown", "no_reason", "reasons", "by_category", "by_outcome",
                "by_vendor", "by_source", "invalid_by_cause"):
        assert key in data
    for row in data["reasons"]:
        assert {"vendor", "code", "subcode", "name", "category", "outcome", "count"} <= set(row)
    check_counts(data)
    assert data["messages"] == 9
    assert data["invalid_by_cause"] == {"bad_json": 1, "not_an_object": 1}
    counts = [(-r["count"], r["label"]) for r in data["reasons"]]
    assert counts == sorted(counts)


def test_bad_lines_reported_with_line_numbers(capture):
    result = run(str(capture), "--json")
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("callwatch summary: line 3: bad_json:")
    assert lines[1].startswith("callwatch summary: line 7: not_an_object:")


def test_many_bad_lines_first_20_then_a_count(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join([b"junk"] * 25 + [orjson.dumps({"vendor": "acs", "code": 0, "subcode": 0})]) + b"\n")
    result = run(str(path), "--json")
    assert result.returncode == 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 21
    assert lines[19].startswith("callwatch summary: line 20: bad_json")
    assert lines[20] == "callwatch summary: ... 5 more invalid"
    data = json.loads(result.stdout)
    assert (data["invalid"], data["events"]) == (25, 1)


def write_json_array(path: Path) -> None:
    items = [e for e in EVENTS if isinstance(e, dict)] + [1, "x"]
    path.write_bytes(orjson.dumps(items))


def write_yaml(path: Path) -> None:
    docs = []
    for e in EVENTS:
        if isinstance(e, dict):
            docs.append("\n".join(f"{k}: {json.dumps(v)}" for k, v in e.items()))
    docs += ["- 1", "just text"]
    path.write_text("---\n" + "\n---\n".join(docs) + "\n")


@pytest.mark.parametrize("name", ["calls.jsonl", "calls.jsonl.gz", "calls.json", "calls.json.gz", "calls.yaml",
                                  "calls.yml.gz", "calls.ndjson"])
def test_every_capture_format(tmp_path, name):
    path = tmp_path / name
    if ".json." in name or name.endswith(".json"):
        write_json_array(tmp_path / "plain")
    elif ".y" in name:
        write_yaml(tmp_path / "plain")
    else:
        (tmp_path / "plain").write_bytes(jsonl_bytes(EVENTS))
    data = (tmp_path / "plain").read_bytes()
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    result = run(str(path), "--json")
    assert result.returncode == 0, result.stderr
    check_counts(json.loads(result.stdout))


def test_stdin(capture):
    result = run("-", "--json", stdin=capture.read_bytes())
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    check_counts(data)
    assert data["source"] == "<stdin>"
    assert "line 3: bad_json" in result.stderr


def test_bulk_and_per_message_paths_agree(capture):
    fast = json.loads(run(str(capture), "--json").stdout)
    slow = json.loads(run(str(capture), "--json", "--count", "1000").stdout)
    assert fast == slow


def test_count_stops_early(capture):
    data = json.loads(run(str(capture), "--json", "--count", "3").stdout)
    assert data["received"] == 3 and data["events"] == 2 and data["invalid"] == 1


def test_default_table(capture):
    result = run(str(capture))
    assert result.returncode == 0
    out = result.stdout
    assert "received 9 (7 events, 2 invalid)" in out
    header = next(line for line in out.splitlines() if line.startswith("COUNT"))
    assert header.split() == ["COUNT", "SHARE", "VENDOR", "CODE", "REASON", "CATEGORY", "OUTCOME"]
    rows = out.split(header, 1)[1].strip().splitlines()
    assert rows[0].split()[:5] == ["3", "42.9%", "planetkit", "1202", "BUSY"]
    assert "? 99999" in out and "(no reason delivered)" in out


def test_csv(capture):
    result = run(str(capture), "--csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["vendor", "namespace", "code", "subcode", "name", "category", "outcome", "count"]
    assert rows[1][0] == "planetkit" and rows[1][2] == "1202" and rows[1][-1] == "3"
    assert sum(int(r[-1]) for r in rows[1:]) == 7
    by = list(csv.reader(io.StringIO(run(str(capture), "--csv", "--by", "vendor").stdout)))
    assert by == [["vendor", "count"], ["acs", "3"], ["planetkit", "3"], ["livekit", "1"]]


def test_csv_neutralises_formulas(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_bytes(orjson.dumps({"vendor": "livekit", "code": "=HYPERLINK(\"x\")"}) + b"\n"
                     + orjson.dumps({"vendor": "planetkit", "code": -1}) + b"\n")
    rows = list(csv.reader(io.StringIO(run(str(path), "--csv").stdout)))
    codes = {r[2] for r in rows[1:]}
    assert "'=HYPERLINK(\"x\")" in codes and "-1" in codes


def test_markdown(capture):
    out = run(str(capture), "--markdown", "--by", "outcome").stdout
    lines = out.strip().splitlines()
    assert lines[2] == "| COUNT | SHARE | OUTCOME |"
    assert lines[3] == "|---:|---:|---|"
    assert len(lines) == 4 + len(json.loads(run(str(capture), "--json").stdout)["by_outcome"])


@pytest.mark.parametrize("by", ["category", "outcome", "vendor", "source"])
def test_by_and_top(capture, by):
    data = json.loads(run(str(capture), "--json", "--by", by, "--top", "2").stdout)
    assert data["by"] == by and len(data["rows"]) == 2
    full = data[f"by_{by}"]
    assert [r["count"] for r in data["rows"]] == sorted(full.values(), reverse=True)[:2]
    text = run(str(capture), "--by", by, "--top", "1").stdout
    assert "more rows (--top 1)" in text


def test_top_limits_reasons(capture):
    data = json.loads(run(str(capture), "--json", "--top", "1").stdout)
    assert len(data["reasons"]) == 1 and data["distinct_reasons"] == 4


def test_missing_file_exit_2(tmp_path):
    result = run(str(tmp_path / "nope.jsonl"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"callwatch summary: {tmp_path / 'nope.jsonl'}: no such file"]


def test_unreadable_gzip_exit_2(tmp_path):
    path = tmp_path / "broken.jsonl.gz"
    path.write_bytes(b"not gzip at all")
    result = run(str(path))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "broken.jsonl.gz" in result.stderr


def test_directory_exit_2(tmp_path):
    result = run(str(tmp_path))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_bad_url_exit_2():
    result = run("ws://:99/feed", "--duration", "2")
    assert result.returncode == 2
    assert result.stderr.startswith("callwatch summary: bad URL")


def test_refused_connection_exit_2():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run(f"ws://127.0.0.1:{port}/feed?token=SECRET", "--duration", "20")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "connection refused" in lines[0]
    assert "SECRET" not in result.stderr


async def frames(n: int):
    for i in range(n):
        yield RawMessage(i + 1, orjson.dumps({"vendor": "acs", "code": 487, "subcode": 10004}), 0.0)
    yield RawMessage(n + 1, b"junk", 0.0)


async def run_async(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui", "summary", *args, cwd=ROOT, env=ENV,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_live_feed_with_token_and_count():
    async with FeedServer(lambda: frames(5), token="s3cret") as server:
        code, out, err = await run_async(server.url, "--token", "s3cret", "--count", "6", "--duration", "30",
                                          "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["events"], data["invalid"], data["received"]) == (5, 1, 6)
    assert data["reasons"][0]["name"] == "RING_TIMEOUT"
    assert "frame 6: bad_json" in err and "s3cret" not in err + out


async def test_live_feed_duration_and_auth_failure():
    async with FeedServer(lambda: frames(3), token="right") as server:
        code, out, err = await run_async(server.url, "--duration", "2", "--json", "--header", "X-Test: 1")
        assert code == 2 and "authentication failed" in err
        code, out, err = await run_async(server.url, "--token", "right", "--duration", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["received"] == 4


def test_stdin_that_stays_open_stops_after_duration():
    proc = subprocess.Popen([sys.executable, "-m", "tui", "summary", "-", "--duration", "1", "--json"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=ENV)
    try:
        assert proc.stdin is not None
        proc.stdin.write(orjson.dumps({"vendor": "acs", "code": 0, "subcode": 0}) + b"\n")
        proc.stdin.flush()  # and keep the pipe open: the feed is "live"
        assert proc.wait(timeout=30) == 0  # stdin is still open: only --duration ends it
        out = proc.stdout.read()  # type: ignore[union-attr]
    finally:
        proc.kill()
        proc.wait()
    assert json.loads(out)["events"] == 1


@pytest.mark.parametrize("command", ["summary", "explain", "report"])
def test_insecure_and_ca_file_exclude_each_other(command):
    result = subprocess.run([sys.executable, "-m", "tui", command, "ws://127.0.0.1:9", "--insecure",
                             "--ca-file", "ca.pem"], capture_output=True, text=True)
    assert result.returncode == 2 and "not allowed with argument" in result.stderr
