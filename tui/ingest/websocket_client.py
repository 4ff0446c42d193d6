"""A reconnecting websocket client that yields every frame as a `RawMessage`.

`WebSocketSource` owns its reconnect loop instead of ``async for ws in connect(...)``, because the
library's loop resets its backoff after every successful handshake: a server that accepts and then
closes at once (1013, auth checked after the upgrade, a poison message over ``max_size``) was
measured at 479 handshakes in 2 s (shared/reliability.md §2.2). Here the backoff (exponential, full
jitter) is reset only after a connection stayed up for ``healthy_after`` seconds, delivered frames and
did not end with a "go away" code.

Also (reliability.md §2): HTTP 401/403 and TLS errors stop the source with a clear detail instead of
retrying forever; the bearer token is sent as a header and never appears in the status, repr, logs
or exceptions; ``compression=None`` (permessage-deflate costs ~3x CPU per frame, performance-notes
§3); short keepalive and close timeouts so a dead peer is noticed in seconds; a "stale" state when a
connected feed sends nothing for ``stale_after`` seconds; frame numbers continue across reconnects.
"""

from __future__ import annotations

import asyncio
import http
import logging
import random
import ssl
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any, Literal

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.frames import Close

from tui.ingest.raw import FeedStatus, RawMessage, StatusCallback, StatusTracker, printable
from tui.ingest.recording import RecordingWriter
from tui.ingest.redact import RedactingLogger, Secret, redact_url

log = logging.getLogger(__name__)

#: Close codes received from a server that mean "do not come straight back": policy violation,
#: internal error, try again later. 4000-4999 (application defined) are treated the same.
BACKOFF_CODES_RECEIVED = frozenset({1008, 1011, 1013})
#: Close codes the client sends that mean the data itself was refused: protocol error, invalid
#: UTF-8, message too big. Reconnecting fast would only meet the same data again.
BACKOFF_CODES_SENT = frozenset({1002, 1007, 1009})
MESSAGE_TOO_BIG = 1009


def describe_close(rcvd: Close | None, sent: Close | None, rcvd_then_sent: bool | None) -> str:
    """Who closed the connection, with code, meaning and (printable, bounded) reason."""
    def fmt(close: Close) -> str:
        return printable(str(close), 160)

    if rcvd is None and sent is None:
        return "connection lost: no close frame (1006)"
    if sent is not None and sent.code == 1011 and "keepalive ping timeout" in sent.reason:
        return "no answer to keepalive ping: peer dead or network down (1011)"
    if rcvd is not None and (sent is None or rcvd_then_sent):
        return f"closed by server: {fmt(rcvd)}"
    assert sent is not None
    return f"closed by client: {fmt(sent)}"


def classify_error(exc: BaseException) -> tuple[bool, str]:
    """(fatal, detail) for an exception raised while opening a connection.

    Fatal: authentication (401/403), other client errors (4xx), TLS failures, an invalid URI: trying
    again with the same settings would fail the same way. The rest is retried with backoff.
    """
    if isinstance(exc, InvalidStatus):
        code = exc.response.status_code
        try:
            phrase = http.HTTPStatus(code).phrase
        except ValueError:
            phrase = ""
        status = f"HTTP {code} {phrase}".rstrip()
        if code in (401, 403):
            return True, f"authentication failed: {status} (check the token)"
        if 400 <= code < 500 and code not in (408, 429):
            return True, f"server refused the connection: {status}"
        return False, f"server refused the connection: {status}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or exc.reason or "verify failed"
        return True, (f"TLS certificate verification failed: {printable(str(reason))} "
                      "(use --ca-file for a private CA)")
    if isinstance(exc, ssl.SSLError):
        return True, f"TLS error: {printable(str(exc.reason or exc))}"
    if isinstance(exc, InvalidURI):
        return True, f"invalid URL: {printable(exc.msg)}"
    if isinstance(exc, ConnectionRefusedError):
        return False, "connection refused"
    if isinstance(exc, TimeoutError):
        return False, "timed out opening the connection"
    if isinstance(exc, OSError):
        return False, f"network error: {printable(exc.strerror or str(exc) or type(exc).__name__)}"
    if isinstance(exc, InvalidHandshake):
        return False, f"handshake failed: {printable(str(exc))}"
    return True, f"{type(exc).__name__}: {printable(str(exc))}"


class WebSocketSource:
    """A feed read from a websocket URL, reconnecting with backoff. A source: `messages`, `status`.

    ``token`` is sent as ``Authorization: Bearer <token>``; ``headers`` are extra (name, value)
    pairs. ``ca_file`` trusts a private CA for ``wss://``; ``insecure`` disables certificate checks.
    ``record_to`` appends every frame to a callwatch recording (one flushed line per frame).
    ``proxy`` is websockets' setting: True uses the environment's proxy, None connects directly.
    """

    def __init__(self, url: str, *, token: str | None = None, headers: Iterable[tuple[str, str]] = (),
                 ca_file: Path | str | None = None, insecure: bool = False, max_size: int = 1 << 20,
                 ping_interval: float = 5.0, ping_timeout: float = 5.0, close_timeout: float = 2.0,
                 open_timeout: float = 10.0, stale_after: float = 15.0, backoff_initial: float = 0.5,
                 backoff_max: float = 30.0, backoff_factor: float = 2.0, healthy_after: float = 5.0,
                 record_to: Path | str | None = None, proxy: str | Literal[True] | None = True,
                 on_status: StatusCallback | None = None, rng: random.Random | None = None) -> None:
        self.url = url
        self.origin = redact_url(url)
        self._token = Secret(token) if token else None
        self._headers = tuple(headers)
        self.ca_file = Path(ca_file) if ca_file is not None else None
        self.insecure = insecure
        self.max_size = max_size
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.close_timeout = close_timeout
        self.open_timeout = open_timeout
        self.stale_after = stale_after
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.backoff_factor = backoff_factor
        self.healthy_after = healthy_after
        self.record_to = Path(record_to) if record_to is not None else None
        self.proxy = proxy
        self.handshakes = 0
        """Successful opening handshakes so far."""
        self._rng = rng or random.Random()
        self._seq = 0
        self._last_frame = 0.0
        self._stopping = False
        self._stop_event: asyncio.Event | None = None
        self._ws: ClientConnection | None = None
        self._status = StatusTracker(self.origin, "connecting", on_status=on_status)
        self._status.detail = f"connecting to {self.origin}"
        self._logger = RedactingLogger(logging.getLogger("websockets.client"), self._token)

    def __repr__(self) -> str:
        token = ", token=***" if self._token is not None else ""
        return f"WebSocketSource({self.origin!r}{token}, state={self._status.state!r})"

    @property
    def status(self) -> FeedStatus:
        """The current state; ``messages`` and ``oversize`` are live counters."""
        return self._status.snapshot()

    @property
    def on_status(self) -> StatusCallback | None:
        """Called with a new `FeedStatus` on every state change (not per message)."""
        return self._status.on_status

    @on_status.setter
    def on_status(self, callback: StatusCallback | None) -> None:
        self._status.on_status = callback

    def stop(self) -> None:
        """End `messages`: close the current connection or cut the backoff wait short."""
        self._stopping = True
        if self._stop_event is not None:
            self._stop_event.set()
        if self._ws is not None:
            asyncio.get_running_loop().create_task(self._ws.close(1000, "client stopping"))

    def backoff_delay(self, attempt: int) -> float:
        """Full-jitter exponential backoff: uniform in [0, min(max, initial × factor^attempt)]."""
        cap = min(self.backoff_max, self.backoff_initial * self.backoff_factor ** min(attempt, 64))
        return self._rng.uniform(0.0, cap)

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self.url.lower().startswith("wss:"):
            return None
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    async def _connect(self) -> ClientConnection:
        headers = list(self._headers)
        if self._token is not None:
            headers.append(("Authorization", f"Bearer {self._token.reveal()}"))
        options: dict[str, Any] = {}
        context = self._ssl_context()
        if context is not None:
            options["ssl"] = context
        return await connect(
            self.url, additional_headers=headers, compression=None, max_size=self.max_size,
            ping_interval=self.ping_interval, ping_timeout=self.ping_timeout,
            close_timeout=self.close_timeout, open_timeout=self.open_timeout, proxy=self.proxy,
            logger=self._logger, **options,
        )

    async def _sleep(self, delay: float) -> None:
        assert self._stop_event is not None
        try:
            await asyncio.wait_for(self._stop_event.wait(), delay)
        except TimeoutError:
            pass

    async def _watch_stale(self) -> None:
        tracker = self._status
        interval = min(1.0, self.stale_after / 4)
        while True:
            await asyncio.sleep(interval)
            if tracker.state == "live" and time.time() - self._last_frame >= self.stale_after:
                tracker.set_state("stale", f"connected, but no frame for {self.stale_after:g} s")

    async def messages(self) -> AsyncIterator[RawMessage]:
        """Connect, yield every frame (text as str, binary as bytes), reconnect until stopped.

        Ends (state "stopped", with the reason in ``detail``) on a fatal error, on `stop`, or when
        the consumer closes the iterator. Frame numbers (``seq``) continue across reconnects.
        """
        tracker = self._status
        self._stop_event = asyncio.Event()
        recorder = RecordingWriter(self.record_to) if self.record_to is not None else None
        attempt = 0  # failures since the last healthy connection
        why = ""
        try:
            while not self._stopping:
                if why:
                    tracker.set_state("reconnecting", f"{why}; connecting again")
                else:
                    tracker.set_state("connecting", f"connecting to {self.origin}")
                try:
                    ws = await self._connect()
                except Exception as exc:
                    fatal, why = classify_error(exc)
                    log.info("%s: %s", self.origin, why)
                    if fatal:
                        tracker.set_state("stopped", why)
                        return
                    delay = self.backoff_delay(attempt)
                    attempt += 1
                    tracker.set_state("reconnecting", why, retry_in=delay)
                    await self._sleep(delay)
                    continue
                self.handshakes += 1
                self._ws = ws
                opened = self._last_frame = time.time()
                frames = 0
                tracker.set_state("live", "connected" + (f" after: {why}" if why else ""))
                watchdog = asyncio.get_running_loop().create_task(self._watch_stale())
                try:
                    try:
                        async for data in ws:
                            now = time.time()
                            self._seq += 1
                            frames += 1
                            self._last_frame = now
                            tracker.messages += 1
                            if tracker.state == "stale":
                                tracker.set_state("live", "frames arriving again")
                            if recorder is not None:
                                recorder.write(self._seq, now, data)
                            yield RawMessage(self._seq, data, now)
                    except ConnectionClosed:
                        pass
                finally:
                    watchdog.cancel()
                    self._ws = None
                    await ws.close()
                if self._stopping:
                    break
                protocol = ws.protocol
                rcvd, sent = protocol.close_rcvd, protocol.close_sent
                why = describe_close(rcvd, sent, protocol.close_rcvd_then_sent)
                go_away = (rcvd is not None and (rcvd.code in BACKOFF_CODES_RECEIVED or 4000 <= rcvd.code < 5000)
                           or sent is not None and sent.code in BACKOFF_CODES_SENT)
                if sent is not None and sent.code == MESSAGE_TOO_BIG:
                    tracker.oversize += 1
                    why = (f"a message was larger than max_size ({self.max_size} bytes): closed with 1009 "
                           f"({tracker.oversize} so far)")
                if frames and time.time() - opened >= self.healthy_after and not go_away:
                    attempt = 0
                delay = self.backoff_delay(attempt)
                attempt += 1
                tracker.outages += 1
                log.info("%s: %s", self.origin, why)
                tracker.set_state("reconnecting", why, retry_in=delay)
                await self._sleep(delay)
            tracker.set_state("stopped", "stopped")
        except GeneratorExit:
            tracker.set_state("stopped", "closed by the application")
            raise
        except asyncio.CancelledError:
            tracker.set_state("stopped", "cancelled by the application")
            raise
        except Exception as exc:  # e.g. the recording's disk is full: say so, then let the caller see it
            tracker.set_state("stopped", f"{type(exc).__name__}: {printable(str(exc))}")
            raise
        finally:
            if recorder is not None:
                recorder.close()
