"""Capture files: every format (plain and gzipped), stdin, recordings, oversize lines, errors."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from tui.ingest.capture import (
    CaptureError,
    aiter_capture,
    aiter_stream,
    capture_format,
    iter_capture,
    read_lines,
)
from tui.ingest.recording import RecordingWriter, unwrap_line

ROOT = Path(__file__).resolve().parents[1]

EVENTS = [{"id": i, "code": str(1000 + i)} for i in range(1, 6)]


def _write(path: Path, data: bytes) -> Path:
    if path.name.endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)
    return path


def _jsonl(events: list[dict]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


@pytest.mark.parametrize("name,fmt", [
    ("a.jsonl", "jsonl"), ("a.JSONL.gz", "jsonl"), ("a.ndjson", "jsonl"), ("a.log", "jsonl"),
    ("a.json", "json"), ("a.json.gz", "json"), ("a.yaml", "yaml"), ("a.yml.gz", "yaml"),
])
def test_capture_format_from_name(name, fmt):
    assert capture_format(name) == fmt


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_jsonl_lines_as_bytes_with_line_numbers(tmp_path, suffix):
    data = b'{"a":1}\n\n   \r\n{"a":2}\r\n{"a":3}'  # blank lines skipped, CRLF and no final newline
    messages = list(iter_capture(_write(tmp_path / f"c{suffix}", data)))
    assert [(m.seq, m.data) for m in messages] == [(1, b'{"a":1}'), (4, b'{"a":2}'), (5, b'{"a":3}')]
    assert all(m.recorded_at is None and m.oversize == 0 and m.received > 0 for m in messages)


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_json_array_elements_are_parsed_objects(tmp_path, suffix):
    path = _write(tmp_path / f"c{suffix}", json.dumps(EVENTS).encode())
    messages = list(iter_capture(path))
    assert [m.seq for m in messages] == [1, 2, 3, 4, 5]
    assert [m.data for m in messages] == EVENTS


def test_json_single_object_is_one_message(tmp_path):
    path = _write(tmp_path / "one.json", json.dumps(EVENTS[0]).encode())
    assert [(m.seq, m.data) for m in iter_capture(path)] == [(1, EVENTS[0])]


def test_json_that_is_really_json_lines_is_read_per_line(tmp_path):
    path = _write(tmp_path / "lines.json", _jsonl(EVENTS[:2]) + b"{broken\n")
    messages = list(iter_capture(path))
    assert [m.seq for m in messages] == [1, 2, 3]
    assert messages[2].data == b"{broken"


@pytest.mark.parametrize("suffix", [".yaml", ".yml.gz"])
def test_yaml_documents_are_parsed_objects(tmp_path, suffix):
    text = "id: 1\ncode: '0123'\n---\n---\nid: 2\ncode: 'NO'\n"  # the empty document is skipped
    messages = list(iter_capture(_write(tmp_path / f"c{suffix}", text.encode())))
    assert [(m.seq, m.data) for m in messages] == [(1, {"id": 1, "code": "0123"}), (3, {"id": 2, "code": "NO"})]


def test_yaml_loader_is_injected(tmp_path):
    seen = []

    def loader(text: str):
        seen.append(text)
        return [{"from": "injected"}]

    path = _write(tmp_path / "c.yaml", b"ignored: true\n")
    assert [m.data for m in iter_capture(path, yaml_loader=loader)] == [{"from": "injected"}]
    assert seen == ["ignored: true\n"]


def test_yaml_with_the_domain_hardened_loader_rejects_aliases(tmp_path):
    catalog_yaml = pytest.importorskip("tui.domain.catalog_yaml")
    path = _write(tmp_path / "c.yaml", b"a: 1\n---\nb: &x [1]\nc: *x\n")

    def loader(text: str):
        return catalog_yaml.safe_load_all_yaml(text, str(path))

    messages = iter_capture(path, yaml_loader=loader)
    assert next(messages).data == {"a": 1}
    with pytest.raises(CaptureError, match="YAML document 2"):
        next(messages)


def test_yaml_syntax_error_is_a_capture_error(tmp_path):
    path = _write(tmp_path / "bad.yaml", b"a: [1, 2\n")
    with pytest.raises(CaptureError, match="bad.yaml"):
        list(iter_capture(path))


def test_missing_file_is_a_capture_error(tmp_path):
    with pytest.raises(CaptureError, match="No such file"):
        list(iter_capture(tmp_path / "nope.jsonl"))


def test_truncated_gzip_is_a_capture_error_after_the_lines_it_had(tmp_path):
    whole = gzip.compress(_jsonl(EVENTS * 2000))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    got = []
    with pytest.raises(CaptureError, match="cut.jsonl.gz"):
        for message in iter_capture(path):
            got.append(message)
    assert got and got[0].data == json.dumps(EVENTS[0]).encode()


def test_oversize_line_is_one_flagged_message(tmp_path):
    big = b'{"pad":"' + b"x" * 5000 + b'"}'
    path = _write(tmp_path / "c.jsonl", b'{"a":1}\n' + big + b"\r\n" + b'{"a":2}\n' + big)
    messages = list(iter_capture(path, max_line=1000))
    assert [(m.seq, m.data, m.oversize) for m in messages] == [
        (1, b'{"a":1}', 0), (2, b"", len(big)), (3, b'{"a":2}', 0), (4, b"", len(big)),
    ]


def test_line_of_exactly_the_cap_is_kept():
    import io

    line = b"y" * 100
    assert list(read_lines(io.BytesIO(line + b"\n" + line), max_line=100)) == [(1, line, 0), (2, line, 0)]
    assert list(read_lines(io.BytesIO(line + b"z\n"), max_line=100)) == [(1, b"", 101)]


def test_jsonl_gz_memory_is_flat_in_file_size(tmp_path):
    line = json.dumps({"code": "x" * 200}).encode() + b"\n"
    path = tmp_path / "big.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        for _ in range(40):
            f.write(line * 1000)  # 40k lines, ~8 MB uncompressed
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_capture(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 40_000
    assert peak < 2_000_000, peak  # a few buffers, never the 8 MB file


def test_recording_round_trip(tmp_path):
    path = tmp_path / "rec.jsonl"
    with RecordingWriter(path) as rec:
        rec.write(1, 1700000000.25, '{"id": 1, "msg": "ünïcode \\n"}')
        rec.write(2, 1700000001.5, b"\x00\xffbinary")
        rec.write(3, 1700000002.0, "")
    messages = list(iter_capture(path))
    assert [(m.seq, m.data, m.recorded_at) for m in messages] == [
        (1, '{"id": 1, "msg": "ünïcode \\n"}', 1700000000.25),
        (2, b"\x00\xffbinary", 1700000001.5),
        (3, "", 1700000002.0),
    ]
    line = path.read_bytes().splitlines()[0]
    assert json.loads(line) == {"callwatch_recording": 1, "received": 1700000000.25, "frame": 1,
                                "raw": '{"id": 1, "msg": "ünïcode \\n"}'}


def test_recording_appends_and_damaged_last_line_passes_through(tmp_path):
    path = tmp_path / "rec.jsonl"
    with RecordingWriter(path) as rec:
        rec.write(1, 1.0, "a")
    with RecordingWriter(path) as rec:
        rec.write(1, 2.0, "b")
    with open(path, "ab") as f:
        f.write(b'{"callwatch_recording":1,"received":3.0,"fr')  # killed mid-line
    messages = list(iter_capture(path))
    assert [m.data for m in messages] == ["a", "b", b'{"callwatch_recording":1,"received":3.0,"fr']
    assert messages[2].recorded_at is None


def test_recording_elements_in_json_are_unwrapped(tmp_path):
    rec = {"callwatch_recording": 1, "received": 5.0, "frame": 1, "raw_b64": base64.b64encode(b"hi").decode()}
    path = _write(tmp_path / "r.json", json.dumps([rec, {"plain": 1}]).encode())
    assert [(m.data, m.recorded_at) for m in iter_capture(path)] == [(b"hi", 5.0), ({"plain": 1}, None)]


def test_unwrap_line_ignores_ordinary_lines():
    assert unwrap_line(b'{"id": 1}') is None
    assert unwrap_line(b'{"callwatch_recording":1,"received":1,"frame":1,"raw":"x"}') == ("x", 1)


def test_stdin_via_subprocess_pipe():
    code = (
        "from tui.ingest.capture import iter_capture\n"
        "for m in iter_capture('-'): print(m.seq, m.data.decode())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], input=b'{"a":1}\n\n{"a":2}\n', cwd=ROOT,
                            capture_output=True, timeout=30, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines() == ['1 {"a":1}', '3 {"a":2}']


async def test_stdin_lines_arrive_as_they_are_written():
    read_fd, write_fd = os.pipe()
    stream = os.fdopen(read_fd, "rb")
    writer = os.fdopen(write_fd, "wb", buffering=0)
    try:
        messages = aiter_capture("-", stdin=stream)
        writer.write(b'{"n":1}\n')
        first = await asyncio.wait_for(anext(messages), 5)  # before EOF: the line is live
        assert (first.seq, first.data) == (1, b'{"n":1}')
        writer.write(b'{"n":2}\n' + b"z" * 50 + b"\n")
        writer.close()
        rest = [m async for m in messages]
        assert [(m.seq, m.data) for m in rest] == [(2, b'{"n":2}'), (3, b"z" * 50)]
    finally:
        if not writer.closed:
            writer.close()
        stream.close()


async def test_stream_reader_bounds_its_buffer_and_keeps_order():
    read_fd, write_fd = os.pipe()
    stream = os.fdopen(read_fd, "rb")
    payload = b"".join(b'{"n":%d}\n' % i for i in range(1, 5001))

    def produce() -> None:
        with os.fdopen(write_fd, "wb") as w:
            w.write(payload)

    producer = asyncio.get_running_loop().run_in_executor(None, produce)
    try:
        seqs = [m.seq async for m in aiter_stream(stream, buffer_lines=16, max_line=64)]
    finally:
        await producer
        stream.close()
    assert seqs == list(range(1, 5001))


async def test_aiter_capture_reads_files_too(tmp_path):
    path = _write(tmp_path / "c.jsonl.gz", _jsonl(EVENTS))
    assert [m.seq async for m in aiter_capture(path)] == [1, 2, 3, 4, 5]
