"""A real FeedServer / websockets server and a real WebSocketSource on 127.0.0.1 (no mocks).

Covers: order and frame numbers, server restart on the same port (in process: 1001; as a killed
subprocess: 1006), the accept-then-close hot loop, 401, TLS (no CA / CA file / insecure), oversize
frames, stale feeds, dead peers, recordings, the token never shown, shared timelines and
`callwatch serve` run as a real subprocess (also relaying stdin).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve

from tui.ingest.capture import iter_capture
from tui.ingest.feed_server import FeedServer, to_frame
from tui.ingest.raw import FeedStatus, RawMessage
from tui.ingest.redact import redact_url
from tui.ingest.websocket_client import WebSocketSource, describe_close

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "s3cr3t-t0ken-value"
FAST = {"backoff_initial": 0.05, "backoff_max": 0.3, "proxy": None, "open_timeout": 2.0}


def _frames(ids: range | list[int]) -> list[RawMessage]:
    return [RawMessage(n, json.dumps({"id": n}), 0.0) for n in ids]


def feed(messages: list[RawMessage], *, then_wait: bool = False,
         gap: float = 0.0) -> Callable[[], AsyncIterator[RawMessage]]:
    """A messages factory: the given messages, then (optionally) nothing until cancelled."""
    async def stream() -> AsyncIterator[RawMessage]:
        for raw in messages:
            yield raw
            if gap:
                await asyncio.sleep(gap)
        if then_wait:
            await asyncio.Event().wait()

    return stream


class Client:
    """Runs a WebSocketSource in a task, keeping every message and every published status."""

    def __init__(self, source: WebSocketSource) -> None:
        self.source = source
        self.got: list[RawMessage] = []
        self.statuses: list[FeedStatus] = []
        source.on_status = self.statuses.append
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        async with aclosing(self.source.messages()) as messages:
            async for raw in messages:
                self.got.append(raw)

    async def until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.task.done():
                self.task.result()
                raise AssertionError(f"source ended early: {self.source.status}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; status {self.source.status}; got {len(self.got)}")
            await asyncio.sleep(0.01)

    def ids(self) -> list[int]:
        return [json.loads(raw.data)["id"] for raw in self.got]  # type: ignore[arg-type]

    def states(self) -> list[str]:
        return [s.state for s in self.statuses]

    async def close(self) -> None:
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass


async def test_receives_every_message_in_order_with_frame_numbers():
    async with FeedServer(feed(_frames(range(1, 301))), port=0) as server:
        client = Client(WebSocketSource(server.url, **FAST))
        await client.until(lambda: len(client.got) == 300)
        assert client.ids() == list(range(1, 301))
        assert [raw.seq for raw in client.got] == list(range(1, 301))
        assert all(isinstance(raw.data, str) and raw.recorded_at is None for raw in client.got)
        status = client.source.status
        assert (status.state, status.messages, status.outages, status.origin) == ("live", 300, 0, server.url)
        await client.close()
    assert client.source.status.state == "stopped"


async def test_server_restarted_on_the_same_port_resumes_without_duplicates():
    first = FeedServer(feed(_frames(range(1, 51)), then_wait=True))
    port = await first.start()
    client = Client(WebSocketSource(f"ws://127.0.0.1:{port}", **FAST))
    await client.until(lambda: len(client.got) == 50)
    first.close()
    await first.wait_closed()
    await client.until(lambda: client.source.status.state == "reconnecting")
    second = FeedServer(feed(_frames(range(51, 101)), then_wait=True), port=port)
    await second.start()
    try:
        await client.until(lambda: len(client.got) == 100)
    finally:
        await client.close()
        second.close()
        await second.wait_closed()
    assert client.ids() == list(range(1, 101))
    assert [raw.seq for raw in client.got] == list(range(1, 101))  # continuous across reconnects
    states = client.states()
    first_live = states.index("live")
    reconnecting = states.index("reconnecting", first_live)
    assert "live" in states[reconnecting:]
    lost = client.statuses[reconnecting]
    assert lost.retry_in is not None and lost.retry_in >= 0
    assert "1001" in lost.detail and "server" in lost.detail
    assert client.statuses[-1].outages == 1


async def test_accept_then_close_server_does_not_loop_hot():
    handshakes = 0

    async def slam(ws: ServerConnection) -> None:
        nonlocal handshakes
        handshakes += 1
        await ws.close(1013, "try again later")

    async with serve(slam, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        client = Client(WebSocketSource(f"ws://127.0.0.1:{port}", proxy=None))  # default backoff
        await asyncio.sleep(2.0)
        await client.close()
    assert 1 <= handshakes < 10, handshakes
    assert client.source.handshakes == handshakes
    retries = [s for s in client.statuses if s.state == "reconnecting" and s.retry_in is not None]
    assert retries and all("1013" in s.detail for s in retries)


def test_backoff_delays_are_full_jitter_under_exponential_caps():
    source = WebSocketSource("ws://127.0.0.1:9", backoff_initial=0.5, backoff_max=30, backoff_factor=2)
    caps = [0.5, 1, 2, 4, 8, 16, 30, 30]
    for attempt, cap in enumerate(caps):
        assert all(0 <= source.backoff_delay(attempt) <= cap for _ in range(50))


async def test_wrong_token_stops_with_http_401_and_no_retry(caplog):
    caplog.set_level(logging.DEBUG)
    async with FeedServer(feed(_frames([1])), token=TOKEN) as server:
        source = WebSocketSource(server.url, token="wrong-" + TOKEN, **FAST)
        client = Client(source)
        await asyncio.wait_for(client.task, 5)  # it ends by itself: no retry loop
        assert server.connections == 0
    status = source.status
    assert status.state == "stopped"
    assert "authentication failed" in status.detail and "401" in status.detail
    assert source.handshakes == 0
    assert client.states() == ["connecting", "stopped"]
    assert TOKEN not in caplog.text


async def test_right_token_connects_and_the_token_is_never_shown(caplog):
    caplog.set_level(logging.DEBUG)
    url = None
    async with FeedServer(feed(_frames([1, 2])), token=TOKEN) as server:
        url = server.url
        source = WebSocketSource(server.url + "/feed?token=" + TOKEN, token=TOKEN, **FAST)
        client = Client(source)
        await client.until(lambda: len(client.got) == 2)
        assert "Authorization" in caplog.text  # the handshake was logged at debug level...
        await client.close()
    shown = [repr(source), str(source.status), *map(str, client.statuses), caplog.text]
    assert all(TOKEN not in text for text in shown)  # ...without the token
    assert source.status.origin == url + "/feed?token=***"
    assert "***" in repr(source)


def test_redact_url_and_describe_close():
    assert redact_url("wss://user:pw@h:1/p?token=abc&x") == "wss://h:1/p?token=***&x"
    assert describe_close(None, None, None) == "connection lost: no close frame (1006)"


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 (openssl CLI; `cryptography` is not installed)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("neither the cryptography package nor the openssl command is available to make a cert")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


@pytest.fixture
async def tls_server(tls_cert) -> AsyncIterator[FeedServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_cert)
    async with FeedServer(feed(_frames([1, 2, 3])), ssl_context=context) as server:
        yield server


async def test_tls_without_the_ca_stops_with_a_certificate_error(tls_server):
    assert tls_server.url.startswith("wss://")
    source = WebSocketSource(tls_server.url, **FAST)
    client = Client(source)
    await asyncio.wait_for(client.task, 5)
    assert source.status.state == "stopped"
    assert "certificate verification failed" in source.status.detail


async def test_tls_with_the_ca_file_connects(tls_server, tls_cert):
    client = Client(WebSocketSource(tls_server.url, ca_file=tls_cert[0], **FAST))
    await client.until(lambda: len(client.got) == 3)
    await client.close()
    assert client.ids() == [1, 2, 3]


async def test_tls_insecure_connects(tls_server):
    client = Client(WebSocketSource(tls_server.url, insecure=True, **FAST))
    await client.until(lambda: len(client.got) == 3)
    await client.close()


async def test_oversize_frame_is_counted_reported_and_retried_with_backoff():
    big = RawMessage(2, json.dumps({"id": 2, "pad": "x" * 4000}), 0.0)
    async with FeedServer(feed([*_frames([1]), big, *_frames([3])], then_wait=True)) as server:
        client = Client(WebSocketSource(server.url, max_size=1024, **FAST))
        await client.until(lambda: client.source.status.oversize >= 2)
        await client.close()
    assert client.ids()[:2] == [1, 1]  # each new connection replays from the start; id 3 never comes
    too_big = [s for s in client.statuses if s.state == "reconnecting" and s.retry_in is not None]
    assert too_big[0].oversize == 1
    assert "max_size (1024 bytes)" in too_big[0].detail and "1009" in too_big[0].detail


async def test_quiet_feed_goes_stale_then_live_again():
    gate = asyncio.Event()

    async def stream() -> AsyncIterator[RawMessage]:
        yield _frames([1])[0]
        await gate.wait()
        yield _frames([2])[0]
        await asyncio.Event().wait()

    async with FeedServer(stream) as server:
        client = Client(WebSocketSource(server.url, stale_after=0.3, **FAST))
        await client.until(lambda: client.source.status.state == "stale")
        assert "no frame for 0.3 s" in client.source.status.detail
        gate.set()
        await client.until(lambda: len(client.got) == 2 and client.source.status.state == "live")
        await client.close()
    assert client.states()[-3:-1] == ["stale", "live"]


async def test_record_to_writes_a_recording_that_replays_the_same_frames(tmp_path):
    frames = [RawMessage(1, '{"id": 1, "t": "ünï"}', 0.0), RawMessage(2, b"\xff\x00binary", 0.0),
              RawMessage(3, '{"id": 3}', 0.0)]
    path = tmp_path / "rec.jsonl"
    async with FeedServer(feed(frames, then_wait=True)) as server:
        client = Client(WebSocketSource(server.url, record_to=path, **FAST))
        await client.until(lambda: len(client.got) == 3)
        assert len(path.read_bytes().splitlines()) == 3  # flushed per frame, before the source ends
        await client.close()
    assert [raw.data for raw in client.got] == ['{"id": 1, "t": "ünï"}', b"\xff\x00binary", '{"id": 3}']
    replayed = list(iter_capture(path))
    assert [raw.data for raw in replayed] == [raw.data for raw in client.got]
    assert [raw.recorded_at for raw in replayed] == [raw.received for raw in client.got]


async def test_shared_timeline_gives_late_clients_only_what_follows():
    gate = asyncio.Event()

    async def stream() -> AsyncIterator[RawMessage]:
        for raw in _frames(range(1, 4)):
            yield raw
        await gate.wait()
        for raw in _frames(range(4, 7)):
            yield raw
        await asyncio.Event().wait()

    async with FeedServer(stream, shared=True) as server:
        early = Client(WebSocketSource(server.url, **FAST))
        await early.until(lambda: server.clients == 1)
        await asyncio.sleep(0.05)
        late = Client(WebSocketSource(server.url, **FAST))
        await late.until(lambda: server.clients == 2)
        gate.set()
        await late.until(lambda: len(late.got) == 3)
        await early.until(lambda: len(early.got) >= 3)
        await early.close()
        await late.close()
    assert late.ids() == [4, 5, 6]
    assert early.ids()[-3:] == [4, 5, 6]


async def test_stop_ends_the_messages():
    async with FeedServer(feed(_frames([1]), then_wait=True)) as server:
        client = Client(WebSocketSource(server.url, **FAST))
        await client.until(lambda: len(client.got) == 1)
        client.source.stop()
        await asyncio.wait_for(client.task, 5)
    assert client.source.status.state == "stopped"


def test_to_frame_encodings():
    assert to_frame(RawMessage(1, b'{"a": 1}', 0.0)) == '{"a": 1}'
    assert to_frame(RawMessage(1, b"\xff", 0.0)) == b"\xff"
    assert json.loads(to_frame(RawMessage(1, {"a": [1, 2], 3: None}, 0.0))) == {"a": [1, 2], "3": None}
    assert to_frame(RawMessage(1, {"big": 10**30}, 0.0)) == '{"big": 1000000000000000000000000000000}'
    assert to_frame(RawMessage(1, b"", 0.0, oversize=99)) is None


# -- `callwatch serve` as a real subprocess --------------------------------------------------------


def _start_serve(*args: str, stdin: int | None = None) -> tuple[subprocess.Popen[bytes], int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tui", "serve", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=stdin)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if not line.startswith("serving "):
        proc.kill()
        raise AssertionError(f"no 'serving' line: {line!r} {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
    return proc, int(line.rsplit(":", 1)[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@pytest.fixture
def capture_file(tmp_path) -> Path:
    path = tmp_path / "capture.jsonl"
    path.write_text("".join(json.dumps({"id": n}) + "\n" for n in range(1, 21)))
    return path


async def test_serve_subprocess_killed_and_restarted(capture_file):
    proc, port = _start_serve(str(capture_file), "--port", "0", "--speed", "max", "--token", TOKEN)
    restarted = None
    try:
        assert proc.stdout is not None
        client = Client(WebSocketSource(f"ws://127.0.0.1:{port}", token=TOKEN, **FAST))
        await client.until(lambda: len(client.got) == 20)
        proc.kill()  # SIGKILL: no close frame
        proc.wait(5)
        await client.until(lambda: client.source.status.state == "reconnecting")
        assert "1006" in client.source.status.detail
        restarted, _ = _start_serve(str(capture_file), "--port", str(port), "--speed", "max", "--token", TOKEN)
        await client.until(lambda: len(client.got) == 40)
        await client.close()
    finally:
        _stop(proc)
        if restarted is not None:
            _stop(restarted)
    assert client.ids() == list(range(1, 21)) * 2  # a new connection gets the capture from its start
    assert [raw.seq for raw in client.got] == list(range(1, 41))
    assert client.states().count("live") == 2


async def test_serve_subprocess_frozen_peer_is_detected(capture_file):
    proc, port = _start_serve(str(capture_file), "--port", "0", "--speed", "max")
    try:
        client = Client(WebSocketSource(f"ws://127.0.0.1:{port}", ping_interval=0.2, ping_timeout=0.3,
                                        close_timeout=0.3, **FAST))
        await client.until(lambda: len(client.got) == 20)
        proc.send_signal(signal.SIGSTOP)
        await client.until(lambda: client.source.status.state == "reconnecting", timeout=5)
        assert "keepalive" in client.source.status.detail
        proc.send_signal(signal.SIGCONT)
        await client.until(lambda: len(client.got) == 40, timeout=5)
        await client.close()
    finally:
        _stop(proc)


async def test_serve_subprocess_relays_stdin():
    proc, port = _start_serve("-", "--port", "0", stdin=subprocess.PIPE)
    try:
        assert proc.stdin is not None
        client = Client(WebSocketSource(f"ws://127.0.0.1:{port}", **FAST))
        await client.until(lambda: client.source.status.state == "live")
        await asyncio.sleep(0.1)  # the server registers the client after the handshake
        for n in (1, 2, 3):
            proc.stdin.write(json.dumps({"id": n}).encode() + b"\n")
            proc.stdin.flush()
        await client.until(lambda: len(client.got) == 3)
        await client.close()
    finally:
        _stop(proc)
    assert client.ids() == [1, 2, 3]


def test_serve_rejects_a_missing_capture(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tui", "serve", str(tmp_path / "nope.jsonl")], cwd=ROOT,
                            capture_output=True, timeout=30, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    assert b"no such capture file" in result.stderr
