"""A headless Chromium driven over the DevTools protocol, and a pure-Python PNG check; with their own tests.

Used by the web-mode test (`test_web.py`) and the HTML report test (`test_report_html.py`). No browser
automation library: Chromium is launched with ``--remote-debugging-port=0``, the port is read from
``DevToolsActivePort`` in its profile directory, and the page target is driven with the `websockets`
library (Page.navigate, Runtime.evaluate, Page.captureScreenshot). Screenshots are decoded with zlib and
struct to check that they are not blank.

Chromium is Debian's ``chromium`` (``.ci/run`` installs it where it can); tests that need it skip with
a clear reason where it is missing.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import struct
import subprocess
import time
import urllib.request
import zlib
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The Chromium executable (CALLWATCH_CHROMIUM overrides), or None."""
    override = os.environ.get("CALLWATCH_CHROMIUM")
    if override:
        return override if Path(override).exists() or shutil.which(override) else None
    for name in CHROMIUM_CANDIDATES:
        path = name if os.path.isabs(name) and os.access(name, os.X_OK) else shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    """The Chromium path, or skip the test saying why."""
    path = find_chromium()
    if path is None:
        pytest.skip("no Chromium found (/usr/bin/chromium; .ci/run installs it with apt-get install -y chromium "
                    "when run as root): the browser tests need a real headless browser")
    return path


class CDPError(RuntimeError):
    """A DevTools command failed, or the browser did not come up."""


class Chromium:
    """One headless Chromium with one page, as an async context manager.

    Args:
        executable: the browser binary.
        profile: an empty directory for --user-data-dir (DevToolsActivePort appears there).
        width, height: the page viewport in CSS pixels.
    """

    def __init__(self, executable: str, profile: Path, width: int = 1280, height: int = 800) -> None:
        self.executable = executable
        self.profile = profile
        self.width = width
        self.height = height
        self.process: subprocess.Popen[bytes] | None = None
        self._ws: Any = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None
        #: Console messages and exceptions of the page (for failure messages).
        self.console: list[str] = []
        #: Every DevTools event received (method and params), e.g. Network.requestWillBeSent.
        self.events: list[dict[str, Any]] = []

    async def __aenter__(self) -> Chromium:
        try:
            return await self._start()
        except BaseException:
            await self.__aexit__(None, None, None)  # never leave a browser behind
            raise

    async def _start(self) -> Chromium:
        import websockets

        self.profile.mkdir(parents=True, exist_ok=True)
        port_file = self.profile / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)  # a reused profile: never read the previous browser's port
        self._log = open(self.profile.parent / f"{self.profile.name}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [self.executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
             f"--window-size={self.width},{self.height}",
             f"--user-data-dir={self.profile}", "--remote-debugging-port=0", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        port = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CDPError(f"chromium exited with {self.process.returncode}: {self.log_tail()}")
            try:
                first = port_file.read_text().splitlines()[0]
                port = int(first)
                break
            except (OSError, IndexError, ValueError):
                await asyncio.sleep(0.05)
        if port is None:
            raise CDPError(f"no DevToolsActivePort after 60 s: {self.log_tail()}")
        page_url = await self._page_target(port, deadline)
        self._ws = await websockets.connect(page_url, max_size=None, ping_interval=None, open_timeout=30)
        self._reader = asyncio.create_task(self._read())
        await self.send("Page.enable")
        await self.send("Runtime.enable")
        await self.send("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height,
                        deviceScaleFactor=1, mobile=False)
        return self

    async def _page_target(self, port: int, deadline: float) -> str:
        def targets() -> list[dict[str, Any]]:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:  # noqa: S310
                return json.loads(r.read())  # type: ignore[no-any-return]

        while time.monotonic() < deadline:
            try:
                for t in await asyncio.to_thread(targets):
                    if t.get("type") == "page" and t.get("webSocketDebuggerUrl"):
                        return str(t["webSocketDebuggerUrl"])
            except OSError:
                pass
            await asyncio.sleep(0.1)
        raise CDPError("no page target")

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._ws is not None:
            try:
                await self._ws.close()
            except Exception:  # noqa: BLE001 - the browser may already be gone
                pass
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, 10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait, 10)
        if getattr(self, "_log", None) is not None:
            self._log.close()

    def log_tail(self, n: int = 2000) -> str:
        try:
            return (self.profile.parent / f"{self.profile.name}.log").read_bytes()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    async def _read(self) -> None:
        try:
            async for message in self._ws:
                data = json.loads(message)
                if "id" in data:
                    future = self._pending.pop(data["id"], None)
                    if future is not None and not future.done():
                        future.set_result(data)
                    continue
                if len(self.events) < 10_000:
                    self.events.append(data)
                if data.get("method") == "Runtime.consoleAPICalled":
                    args = data["params"].get("args", [])
                    self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in args))
                elif data.get("method") == "Runtime.exceptionThrown":
                    self.console.append("exception: " + json.dumps(data["params"].get("exceptionDetails", {}))[:500])
        except Exception as exc:  # noqa: BLE001 - hand the failure to every waiting command
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(CDPError(f"devtools connection lost: {exc!r}"))

    async def send(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        """Run one DevTools command; return its result, or raise CDPError."""
        ident = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        await self._ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        reply = await asyncio.wait_for(future, timeout)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error']}")
        return reply.get("result", {})  # type: ignore[no-any-return]

    async def add_script(self, source: str) -> None:
        """Run `source` in every document before its own scripts."""
        await self.send("Page.addScriptToEvaluateOnNewDocument", source=source)

    async def navigate(self, url: str) -> None:
        result = await self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise CDPError(f"navigate {url}: {result['errorText']}")

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise CDPError(f"evaluate: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    async def wait_for(self, expression: str, timeout: float = 60, interval: float = 0.25) -> Any:
        """Poll `expression` until it is truthy; return its value, or raise CDPError on timeout."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(interval)
        raise CDPError(f"timed out waiting for {expression!r} (last value {value!r}); console: {self.console[-10:]}")

    async def screenshot(self) -> bytes:
        """A PNG of the viewport."""
        result = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        return base64.b64decode(result["data"])


# ------------------------------------------------------------------------------------------ PNG


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, bytes per pixel, rows of unfiltered pixel bytes) of an 8-bit RGB/RGBA PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos = 8
    header = None
    idat = []
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise ValueError(f"bad CRC in {kind!r}")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        raise ValueError("no IHDR")
    width, height, depth, colour, _comp, _filt, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    i = 0
    for _ in range(height):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        if f == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 0xFF
        elif f == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif f == 3:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + ((left + prev[x]) >> 1)) & 0xFF
        elif f == 4:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                upleft = prev[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + _paeth(left, prev[x], upleft)) & 0xFF
        elif f != 0:
            raise ValueError(f"bad filter type {f}")
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def png_colours(data: bytes) -> tuple[int, int, int]:
    """(width, height, number of distinct pixel colours) of a PNG."""
    width, height, bpp, rows = decode_png(data)
    colours: set[bytes] = set()
    for row in rows:
        colours.update(row[x:x + bpp] for x in range(0, len(row), bpp))
    return width, height, len(colours)


def encode_png(width: int, height: int, pixel: Any) -> bytes:
    """A small RGB PNG (filter 0) from `pixel(x, y) -> (r, g, b)`: for testing the decoder."""
    raw = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# ------------------------------------------------------------------------------------------ tests


def test_png_decoder_counts_colours():
    blank = encode_png(8, 4, lambda x, y: (255, 255, 255))
    assert png_colours(blank) == (8, 4, 1)
    stripes = encode_png(8, 4, lambda x, y: (x * 30, y * 60, 7))
    assert png_colours(stripes) == (8, 4, 32)
    with pytest.raises(ValueError):
        png_colours(b"GIF89a")


async def test_chromium_renders_and_screenshots(tmp_path):
    """The harness itself on a page with known content: filters Sub/Up/Avg/Paeth all get exercised."""
    exe = require_chromium()
    page = tmp_path / "page.html"
    page.write_text("<!doctype html><title>t</title><body style='margin:0'>"
                    "<div style='height:200px;background:linear-gradient(90deg,#f00,#00f)'></div>"
                    "<p id=p>hello callwatch</p></body>")
    async with Chromium(exe, tmp_path / "profile", 400, 300) as browser:
        await browser.navigate(page.as_uri())
        assert await browser.wait_for("document.getElementById('p') && document.getElementById('p').innerText") \
            == "hello callwatch"
        png = await browser.screenshot()
    (tmp_path / "page.png").write_bytes(png)
    width, height, colours = png_colours(png)
    assert (width, height) == (400, 300)
    assert colours > 50, colours
