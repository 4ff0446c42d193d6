"""`callwatch web`: serve the dashboard to browsers with textual-serve (a team on one incident, a projector).

    callwatch web replay incident.jsonl --speed 5
    callwatch web --host 0.0.0.0 --port 8000 --token "$SECRET" live wss://feed.example/ws --token "$FEED"

Web options come first; the rest is the dashboard command each browser session runs (`demo`, `live URL
...` or `replay FILE ...` with their own options; a bare file or ws:// URL means replay or live; nothing
means demo). Every browser tab gets its own dashboard process (`python -m tui <command>`), started by
textual-serve.

Security: loopback only by default. Binding any other address needs `--token` (every request must carry
`?token=...` or `Authorization: Bearer ...`; the browser then keeps an HttpOnly session cookie) or an
explicit `--public`. Independently of the token, the terminal websocket refuses cross-site origins (a
web page the operator visits must not be able to drive, or read, the dashboard on 127.0.0.1), and the
number of concurrent sessions is capped (each one is a process). The token is never printed or passed
to the dashboard processes.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import ipaddress
import os
import secrets
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROG = "callwatch web"
#: Dashboard subcommands a browser session may run.
MODES = ("demo", "live", "replay")
#: Options of `web` itself, to say so when someone puts one after the dashboard command.
_WEB_OPTIONS = ("--host", "--port", "--public", "--public-url", "--max-sessions", "--title")
COOKIE = "callwatch_web"
TOKEN_ENV = "CALLWATCH_WEB_TOKEN"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be 0..65535 (0 = any free port)")
    return value


def _sessions(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register `callwatch web`."""
    p = sub.add_parser(
        "web",
        parents=[common],
        help="serve the dashboard in a browser (textual-serve)",
        description="Serve the dashboard to web browsers: each browser session runs its own dashboard "
        "(`demo`, `live URL ...` or `replay FILE ...`, with the same options as those commands). Web "
        "options go before the dashboard command. Loopback only unless --token or --public.",
        epilog="examples: callwatch web replay incident.jsonl --speed 5 | callwatch web incident.jsonl | "
        "callwatch web --host 0.0.0.0 --token SECRET live wss://feed.example/ws | callwatch web demo",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback only)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0 = any free port)")
    access = p.add_argument_group("access (required for a non-loopback --host)")
    access.add_argument("--token", default=os.environ.get(TOKEN_ENV) or None,
                        help=f"require this token: ?token=... once (then a session cookie) or 'Authorization: "
                        f"Bearer ...' (also {TOKEN_ENV}; never printed)")
    access.add_argument("--public", action="store_true",
                        help="allow a non-loopback --host without a token (anyone who can reach it can watch)")
    p.add_argument("--public-url", metavar="URL",
                   help="the address browsers use, when behind a proxy (default: taken from each request)")
    p.add_argument("--max-sessions", type=_sessions, default=10, metavar="N",
                   help="most concurrent browser sessions, each a dashboard process (default 10)")
    p.add_argument("--title", help="browser tab title (default: callwatch and the source)")
    p.add_argument("dashboard", nargs=argparse.REMAINDER, metavar="[demo | live URL ... | replay FILE ...]",
                   help="the dashboard command each session runs, with its options (default: demo)")
    p.set_defaults(run=run)


# ------------------------------------------------------------------------------------------ checks


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    h = host.strip().strip("[]").lower()
    if h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def dashboard_argv(words: list[str]) -> list[str]:
    """The dashboard subcommand and its arguments: `[]` -> demo, a URL -> live, a file -> replay."""
    if not words:
        return ["demo"]
    if words[0] in MODES:
        return list(words)
    if words[0].lower().startswith(("ws://", "wss://")):
        return ["live", *words]
    return ["replay", *words]


def _check_dashboard(argv: list[str], catalog_dirs: list[Path]) -> str | None:
    """Parse the dashboard command with the real parser (so every option is checked now, not in each
    browser session); return a problem for the user, or None."""
    from tui.cli import build_parser

    stray = [w for w in argv[1:] if w.split("=", 1)[0] in _WEB_OPTIONS]
    parser = build_parser()
    try:
        ns = parser.parse_args([*argv])
    except SystemExit as exc:
        if exc.code not in (0, None):
            hint = f" (web options such as {stray[0]} go before the dashboard command)" if stray else ""
            return f"the dashboard command `{shlex.join(argv)}` is not valid{hint}"
        return "--help is not a dashboard"
    if getattr(ns, "command", None) not in MODES:
        return f"{argv[0]!r} is not a dashboard command (use demo, live or replay)"
    for name in ("capture", "source", "file", "path", "url"):
        value = getattr(ns, name, None)
        if isinstance(value, (str, Path)):
            text = os.fspath(value)
            if text == "-":
                return "standard input cannot be served: every browser session starts its own dashboard"
            if "://" not in text and not Path(text).exists():
                return f"{text}: no such file"
    return None


def session_command(argv: list[str], catalog_dirs: list[Path]) -> str:
    """The shell command textual-serve runs per browser session (every word quoted)."""
    words = [sys.executable, "-m", "tui", argv[0]]
    for d in catalog_dirs:
        words += ["--catalog-dir", os.fspath(Path(d).resolve())]
    return shlex.join(words + argv[1:])


def _default_title(argv: list[str]) -> str:
    if argv[0] == "demo":
        return "callwatch demo"
    target = next((w for w in argv[1:] if not w.startswith("-")), "")
    if "://" in target:
        parts = urlsplit(target)
        target = f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"
    else:
        target = Path(target).name
    return f"callwatch {argv[0]} {target}".strip()


# ------------------------------------------------------------------------------------------ server


def make_server(command: str, *, host: str, port: int, title: str, token: str | None,
                max_sessions: int = 10, public_url: str | None = None) -> Any:
    """A textual-serve `Server` with callwatch's access rules. Imported lazily: textual-serve is an extra."""
    from aiohttp import web
    from textual_serve.server import Server

    class WebServer(Server):  # type: ignore[misc]
        """textual-serve's Server plus a token check, a same-origin websocket rule, a session cap, URLs
        taken from each request (so 0.0.0.0 and --port 0 work), and a start-up line naming the URL."""

        def __init__(self) -> None:
            super().__init__(command, host=host, port=port, title=title, public_url=public_url)
            self.fixed_public_url = public_url
            self.token = token
            self.session_secret = secrets.token_urlsafe(32)
            self.max_sessions = max_sessions
            self.sessions = 0
            self.url: str | None = None
            self.ready: asyncio.Event | None = None

        # -------------------------------------------------------------- access

        def _authorized(self, request: web.Request) -> tuple[bool, bool]:
            """(allowed, by a token just presented: set the session cookie)."""
            if self.token is None:
                return True, False
            expected = self.token.encode()
            given = request.query.get("token")
            if given is not None and hmac.compare_digest(given.encode(), expected):
                return True, True
            auth = request.headers.get("Authorization", "")
            scheme, _, value = auth.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), expected):
                return True, True
            cookie = request.cookies.get(COOKIE)
            if cookie is not None and hmac.compare_digest(cookie.encode(), self.session_secret.encode()):
                return True, False
            return False, False

        @web.middleware
        async def guard(self, request: web.Request,
                        handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
            allowed, fresh = self._authorized(request)
            if not allowed:
                return web.Response(status=401, text="callwatch web: a token is required (?token=... or "
                                    "'Authorization: Bearer ...')\n", headers={"WWW-Authenticate": "Bearer"})
            if request.path == "/ws":
                origin = request.headers.get("Origin")
                if origin is not None and urlsplit(origin).netloc.lower() != request.host.lower():
                    return web.Response(status=403, text="callwatch web: cross-origin websocket refused\n")
                if self.sessions >= self.max_sessions:
                    return web.Response(status=503, text=f"callwatch web: {self.max_sessions} sessions "
                                        "already open (--max-sessions)\n")
            if fresh and request.method == "GET" and request.path == "/" and "token" in request.query:
                # Keep the token out of the address bar, history and screenshots: cookie, then redirect.
                rest = [(k, v) for k, v in request.query.items() if k != "token"]
                target = request.rel_url.with_query(rest) if rest else request.rel_url.with_query(None)
                response: web.StreamResponse = web.Response(status=302, headers={"Location": str(target)})
            else:
                response = await handler(request)
            if fresh:
                response.set_cookie(COOKIE, self.session_secret, httponly=True, samesite="Strict", path="/")
            response.headers.setdefault("Referrer-Policy", "no-referrer")
            response.headers.setdefault("X-Frame-Options", "DENY")
            return response

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(self.guard)
            return app

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            self.sessions += 1
            try:
                return await super().handle_websocket(request)  # type: ignore[no-any-return]
            finally:
                self.sessions -= 1

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            # textual-serve builds the page's websocket URL from host:port as configured, which is wrong
            # for 0.0.0.0, port 0 or a name the browser did not use: use the address this request came to.
            if self.fixed_public_url is None:
                self.public_url = f"{request.scheme}://{request.host}"
            return await super().handle_index(request)  # type: ignore[no-any-return]

        async def on_startup(self, app: web.Application) -> None:
            pass  # textual-serve prints its logo and the command (which may hold a feed token)

        # -------------------------------------------------------------- running

        async def run(self) -> None:
            """Serve until SIGINT/SIGTERM; print the URL (first stdout line, flushed) once listening."""
            app = await self._make_app()
            runner = web.AppRunner(app, handle_signals=False, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            bound = runner.addresses[0]
            shown_host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
            if ":" in shown_host:
                shown_host = f"[{shown_host}]"
            self.url = self.fixed_public_url or f"http://{shown_host}:{bound[1]}/"
            print(f"{PROG}: serving {self.title} on {self.url}", flush=True)
            if self.token is not None:
                print(f"{PROG}: open {self.url}?token=<the token> once; the browser then keeps a session cookie",
                      flush=True)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.add_signal_handler(sig, stop.set)
                except (NotImplementedError, RuntimeError):
                    pass
            try:
                await stop.wait()
            finally:
                await runner.cleanup()

    return WebServer()


def run(args: argparse.Namespace) -> int:
    """Check the options and the dashboard command, then serve until interrupted."""
    if not is_loopback(args.host) and args.token is None and not args.public:
        print(f"{PROG}: refusing to listen on {args.host} without --token: anyone who can reach it could "
              "watch (and control) the dashboard. Add --token SECRET (or set CALLWATCH_WEB_TOKEN), or --public "
              "if that is really intended.", file=sys.stderr)
        return 2
    if args.token is not None and len(args.token) < 8:
        print(f"{PROG}: --token is too short (use at least 8 characters, e.g. from `openssl rand -hex 16`)",
              file=sys.stderr)
        return 2
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        print(f"{PROG}: textual-serve is not installed: pip install 'callwatch[web]'", file=sys.stderr)
        return 2
    from tui.cli import COMMANDS

    words = list(args.dashboard)
    if words and words[0] not in MODES and words[0] in COMMANDS and not Path(words[0]).exists():
        print(f"{PROG}: {words[0]!r} is not a dashboard command (use demo, live or replay)", file=sys.stderr)
        return 2
    argv = dashboard_argv(words)
    problem = _check_dashboard(argv, args.catalog_dir)
    if problem is not None:
        print(f"{PROG}: {problem}", file=sys.stderr)
        return 2
    command = session_command(argv, args.catalog_dir)
    server = make_server(command, host=args.host, port=args.port, title=args.title or _default_title(argv),
                         token=args.token, max_sessions=args.max_sessions, public_url=args.public_url)
    try:
        asyncio.run(server.run())
    except OSError as exc:
        print(f"{PROG}: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
