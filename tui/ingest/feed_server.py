"""A websocket server that plays a capture to its clients: ``callwatch serve`` and the demo use it.

`FeedServer` takes a factory of (already paced) message streams, typically a `Replay` per call:

- by default every client that connects gets its own stream from the start of the capture;
- with ``shared=True`` one timeline runs from `start` on and every connected client receives the
  same frames from the moment it joins, as from a real feed (stdin relay uses this);
- with ``token`` the opening handshake is refused with HTTP 401 unless the request carries
  ``Authorization: Bearer <token>`` (compared in constant time).

Messages go out as text frames (bytes that are not UTF-8, e.g. a recorded binary frame, as binary
frames; parsed objects from .json/.yaml captures re-encoded as JSON). Oversize capture lines are
skipped. When a client's stream ends the connection stays open and idle, like a quiet feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import http
import json
import logging
import ssl
from collections.abc import AsyncIterable, Callable
from types import TracebackType

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tui.ingest.raw import RawMessage
from tui.ingest.redact import RedactingLogger, Secret

log = logging.getLogger(__name__)

MessagesFactory = Callable[[], AsyncIterable[RawMessage]]


def to_frame(raw: RawMessage) -> str | bytes | None:
    """The websocket frame for a message: str = text frame, bytes = binary frame, None = skip."""
    data = raw.data
    if raw.oversize:
        return None
    if isinstance(data, str):
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data
    try:
        return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):  # e.g. an integer beyond 64 bits from a YAML capture
        return json.dumps(data, default=str, ensure_ascii=False)


class FeedServer:
    """Serve a capture over websockets on ``host:port`` (0 = any free port; see `port` after `start`)."""

    def __init__(self, messages_factory: MessagesFactory, host: str = "127.0.0.1", port: int = 0, *,
                 token: str | None = None, shared: bool = False, ssl_context: ssl.SSLContext | None = None,
                 client_queue: int = 10_000) -> None:
        self._factory = messages_factory
        self.host = host
        self.port = port
        self.shared = shared
        self._token = Secret(token) if token else None
        self._expected = f"Bearer {token}".encode() if token else None
        self._ssl = ssl_context
        self._client_queue = client_queue
        self._server: Server | None = None
        self._timeline: asyncio.Task[None] | None = None
        self._queues: dict[ServerConnection, asyncio.Queue[str | bytes]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0
        """Clients connected so far (handshakes accepted)."""
        self.sent = 0
        """Frames sent, over all clients."""
        self.skipped = 0
        """Messages not sent (oversize capture lines)."""

    def __repr__(self) -> str:
        return f"FeedServer({self.url!r}, shared={self.shared}, token={'***' if self._expected else None})"

    @property
    def url(self) -> str:
        """``ws://host:port`` (``wss://`` with TLS)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'wss' if self._ssl else 'ws'}://{host}:{self.port}"

    @property
    def clients(self) -> int:
        """Clients connected now."""
        return len(self._server.connections) if self._server is not None else 0

    async def start(self) -> int:
        """Bind and start serving (and, if shared, start the timeline); return the bound port."""
        self._server = await serve(
            self._handler, self.host, self.port, process_request=self._check_token, compression=None,
            ssl=self._ssl, logger=RedactingLogger(logging.getLogger("websockets.server"), self._token),
        )
        self.port = self._server.sockets[0].getsockname()[1]
        if self.shared:
            self._timeline = asyncio.get_running_loop().create_task(self._run_timeline())
        return self.port

    def close(self) -> None:
        """Stop accepting clients, close connections (1001 going away) and stop the timeline."""
        if self._timeline is not None:
            self._timeline.cancel()
        if self._server is not None:
            self._server.close()

    async def wait_closed(self) -> None:
        """Wait until `close` has finished."""
        if self._server is not None:
            await self._server.wait_closed()
        if self._timeline is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._timeline

    async def __aenter__(self) -> FeedServer:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.close()
        await self.wait_closed()

    def _check_token(self, connection: ServerConnection, request: Request) -> Response | None:
        if self._expected is None:
            return None
        values = request.headers.get_all("Authorization")
        given = values[0].encode("utf-8", "surrogateescape") if len(values) == 1 else b""
        if hmac.compare_digest(given, self._expected):
            return None
        response = connection.respond(http.HTTPStatus.UNAUTHORIZED, "missing or wrong bearer token\n")
        response.headers["WWW-Authenticate"] = 'Bearer realm="callwatch"'
        return response

    async def _handler(self, ws: ServerConnection) -> None:
        self.connections += 1
        sender = asyncio.get_running_loop().create_task(
            self._send_queue(ws) if self.shared else self._send_own(ws))
        try:
            await ws.wait_closed()
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    async def _send_own(self, ws: ServerConnection) -> None:
        """A client's own stream from the start of the capture."""
        source = self._factory()
        try:
            async for raw in source:
                frame = to_frame(raw)
                if frame is None:
                    self.skipped += 1
                    continue
                await ws.send(frame)
                self.sent += 1
        except ConnectionClosed:
            return
        except Exception as exc:
            log.error("capture failed for %s: %s", ws.remote_address, exc)
            await ws.close(1011, "capture error")
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _send_queue(self, ws: ServerConnection) -> None:
        """A client's view of the shared timeline: frames from its own bounded queue."""
        queue: asyncio.Queue[str | bytes] = asyncio.Queue(self._client_queue)
        self._queues[ws] = queue
        try:
            while True:
                frame = await queue.get()
                await ws.send(frame)
                self.sent += 1
        except ConnectionClosed:
            pass
        finally:
            self._queues.pop(ws, None)

    async def _run_timeline(self) -> None:
        """The shared timeline: one stream, each frame copied to every connected client's queue."""
        try:
            async for raw in self._factory():
                frame = to_frame(raw)
                if frame is None:
                    self.skipped += 1
                    continue
                for ws, queue in list(self._queues.items()):
                    try:
                        queue.put_nowait(frame)
                    except asyncio.QueueFull:
                        # Never buffer without bound for a client that does not read.
                        self._queues.pop(ws, None)
                        task = asyncio.get_running_loop().create_task(ws.close(1013, "client too slow"))
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
        except Exception as exc:
            log.error("shared capture failed: %s", exc)
