"""`callwatch web`: the dashboard in a real browser, and the access rules around it.

The browser test starts `callwatch web` on a capture, opens the page in headless Chromium (see
`test_web_browser.Chromium`), and waits until the terminal shows the reasons pane with the capture's
counts. textual-serve draws the terminal with xterm.js on a canvas (WebGL or 2D), so there is no
terminal text in the DOM: a script installed before the page's own wraps `WebSocket` and keeps the
terminal output the server sends; the test reads that text (escape sequences removed). Then it takes
a screenshot and checks that it is not blank.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tui.commands.web import dashboard_argv, is_loopback, session_command

try:
    from tests.test_report import DEMO, cli, write_capture
    from tests.test_web_browser import Chromium, png_colours, require_chromium
except ImportError:  # pytest's rootdir import mode without the checkout on sys.path
    from test_report import DEMO, cli, write_capture  # type: ignore[no-redef]
    from test_web_browser import Chromium, png_colours, require_chromium  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "correct-horse-battery-staple"

pytest.importorskip("textual_serve", reason="textual-serve (the 'web' extra) is not installed")

#: Keeps a copy of the terminal output the server sends (binary websocket frames), as text.
TAP = r"""
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  window.__terminal = {text: "", frames: 0};
  function Tapped(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    ws.addEventListener("message", (event) => {
      if (typeof event.data === "string") return;
      const tap = window.__terminal;
      tap.frames += 1;
      tap.text += decoder.decode(new Uint8Array(event.data), {stream: true});
      if (tap.text.length > 4000000) tap.text = tap.text.slice(-2000000);
    });
    return ws;
  }
  Tapped.prototype = Native.prototype;
  for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Tapped[k] = Native[k];
  window.WebSocket = Tapped;
  // The terminal text without escape sequences (CSI, OSC, other ESC x), for polling from the test.
  window.__screenText = () => window.__terminal.text
    .replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, "")
    .replace(/\x1b\[[0-?]*[ -\/]*[@-~]/g, "")
    .replace(/\x1b[@-Z\\-_]/g, "");
})();
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _descendants(pid: int) -> set[int]:
    """Every process under `pid` (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.parent.name))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@contextlib.contextmanager
def web(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run `callwatch web --port 0 ARGS`; yield (process, base URL). On exit: stop it, and check that
    every dashboard process it started has ended too."""
    proc = subprocess.Popen([sys.executable, "-m", "tui", "web", "--port", "0", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)
    sessions: set[int] = set()
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        match = re.search(r"http://\S+", line)
        if match is None:
            proc.kill()
            pytest.fail(f"no URL from callwatch web: {line!r} {proc.communicate(timeout=10)}")
        yield proc, match.group(0)
        sessions = _descendants(proc.pid)
    finally:
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "correct-horse" not in out + err  # the token is never printed
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(p) for p in sessions):
        time.sleep(0.1)
    assert not [p for p in sessions if _alive(p)], "dashboard processes outlived callwatch web"


def _get(url: str, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> Path:
    """The demo capture when it is in the checkout, else the report tests' generated one."""
    if DEMO.exists():
        return DEMO
    path = tmp_path_factory.mktemp("web") / "incident.jsonl"
    write_capture(path)
    return path


# ------------------------------------------------------------------------------------------ units


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.3.4.5", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.10", False), ("example.com", False), ("localhost.evil.com", False),
])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(("words", "argv"), [
    ([], ["demo"]),
    (["demo", "--speed", "5"], ["demo", "--speed", "5"]),
    (["calls.jsonl", "--speed", "5"], ["replay", "calls.jsonl", "--speed", "5"]),
    (["wss://feed.example/ws"], ["live", "wss://feed.example/ws"]),
    (["live", "ws://h/ws", "--token", "feed"], ["live", "ws://h/ws", "--token", "feed"]),
])
def test_dashboard_argv(words, argv):
    assert dashboard_argv(words) == argv


def test_session_command_quotes_every_word(tmp_path):
    odd = tmp_path / "a b; rm -rf ~ $(x) `y`.jsonl"
    command = session_command(["replay", str(odd), "--speed", "5"], [tmp_path / "my cats"])
    assert shlex.split(command) == [sys.executable, "-m", "tui", "replay", "--catalog-dir",
                                    str((tmp_path / "my cats").resolve()), str(odd), "--speed", "5"]


# ------------------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(("args", "message"), [
    (["--host", "0.0.0.0", "demo"], "refusing to listen on 0.0.0.0 without --token"),
    (["--host", "example.com", "demo"], "--public"),
    (["--token", "short", "demo"], "too short"),
    (["replay", "no-such-file.jsonl"], "no-such-file.jsonl: no such file"),
    (["replay", "-"], "standard input cannot be served"),
    (["{capture}", "--port", "9000"], "web options such as --port go before the dashboard command"),
    (["replay", "{capture}", "--no-such-option"], "is not valid"),
    (["serve", "{capture}"], "not a dashboard command"),
])
def test_refusals_exit_2(capture, args, message):
    args = [a.replace("{capture}", str(capture)) for a in args]
    result = subprocess.run([sys.executable, "-m", "tui", "web", *args], capture_output=True, text=True,
                            env=_env(), cwd=ROOT, timeout=60)
    assert result.returncode == 2, result
    assert message in result.stderr


# ------------------------------------------------------------------------------------------ access


def test_token_cookie_origin_and_session_rules(capture):
    with web("--token", TOKEN, "--max-sessions", "1", "replay", str(capture)) as (_proc, url):
        host = urlsplit(url).netloc
        assert _get(url, "/").status == 401
        assert _get(url, "/?token=wrong-token-value").status == 401
        assert _get(url, "/static/js/textual.js").status == 401  # everything is behind the token
        assert _get(url, "/ws").status == 401
        assert _get(url, "/", {"Authorization": "Bearer wrong"}).status == 401
        # The token once: a session cookie, and a redirect that drops the token from the address bar.
        first = _get(url, f"/?token={TOKEN}&fontsize=14")
        assert first.status == 302 and first.getheader("Location") == "/?fontsize=14"
        cookie = first.getheader("Set-Cookie") or ""
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
        session = cookie.split(";", 1)[0]
        page = _get(url, "/?fontsize=14", {"Cookie": session})
        assert page.status == 200 and page.getheader("Referrer-Policy") == "no-referrer"
        assert _get(url, "/static/js/textual.js", {"Cookie": session}).status == 200
        assert _get(url, "/", {"Authorization": f"Bearer {TOKEN}"}).status == 200
        # A page on another site must not open the terminal websocket (it could read and drive it).
        evil = _get(url, "/ws", {"Cookie": session, "Origin": "http://evil.example"})
        assert evil.status == 403
        assert _get(url, "/ws", {"Cookie": session, "Origin": f"http://{host}.evil.example"}).status == 403


def test_page_points_the_browser_at_the_address_it_used(capture):
    """--port 0 and 0.0.0.0 must not end up in the page: the websocket URL follows the request."""
    with web("replay", str(capture)) as (_proc, url):
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.request("GET", "/", headers={"Host": f"localhost:{parts.port}"})
        body = conn.getresponse().read().decode()
        conn.close()
        assert f'data-session-websocket-url="ws://localhost:{parts.port}/ws"' in body
        assert "callwatch replay" in body  # the title names the command, not the machine's python path
        assert sys.executable not in body


# ------------------------------------------------------------------------------------------ browser


@pytest.mark.parametrize("token", [None, TOKEN], ids=["loopback", "token"])
async def test_dashboard_in_chromium(tmp_path, capture, token):
    """The real thing: `callwatch web` serving a replay, a browser showing the reasons pane with the same
    numbers `callwatch summary` prints for the capture, and a screenshot that is not blank."""
    exe = require_chromium()
    summary = json.loads(cli("summary", str(capture), "--json").stdout)
    top = summary["reasons"][0]
    total = summary["events"]
    args = ["--token", TOKEN] if token else []
    with web(*args, "replay", str(capture), "--speed", "max") as (_proc, url):
        async with Chromium(exe, tmp_path / "profile", 1280, 800) as browser:
            await browser.add_script(TAP)
            await browser.navigate(url + (f"?token={TOKEN}" if token else ""))
            # The reasons pane, its top reason, and the session total once the replay has finished.
            check = (f"(() => {{ const t = window.__screenText ? window.__screenText() : '';"
                     f" return t.includes('Reasons') && t.includes({json.dumps(top['label'])})"
                     f" && (t.includes('{total:,}') || t.includes('{total}')); }})()")
            try:
                await browser.wait_for(check, timeout=90)
            except Exception:
                (tmp_path / "terminal.txt").write_text(await browser.evaluate("window.__screenText()") or "")
                (tmp_path / "failed.png").write_bytes(await browser.screenshot())
                raise
            assert await browser.evaluate("location.search") == ""  # the token left the address bar
            await browser.evaluate("new Promise(r => setTimeout(r, 500))")  # let the canvas catch up
            png = await browser.screenshot()
    shot = tmp_path / "web-dashboard.png"
    shot.write_bytes(png)
    width, height, colours = png_colours(png)
    assert (width, height) == (1280, 800)
    assert colours > 100, f"screenshot looks blank ({colours} colours): {shot}"
