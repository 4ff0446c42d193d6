"""`callwatch live URL`: the dashboard on a websocket feed (reconnecting, with the state always shown)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import BinaryIO

from tui.settings import SettingsError, add_ui_arguments, flags_from_args, resolve, settings_help


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "live", parents=[common], help="the dashboard on a live ws:// or wss:// feed",
        description="Connect to a websocket feed of call-end events and show why calls end, live. "
        "The connection is retried with backoff; its state is always on screen.",
        epilog="example: callwatch live wss://feed.example/ws --token \"$TOKEN\" --record today.jsonl\n\n"
        + settings_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url", metavar="URL", help="ws:// or wss:// feed URL")
    p.add_argument("--token", help="bearer token (prefer CALLWATCH_TOKEN: flags are visible in ps)")
    p.add_argument("--header", action="append", metavar="NAME:VALUE", help="extra handshake header (repeatable)")
    p.add_argument("--ca-file", type=Path, metavar="PEM", help="trust this CA bundle for wss://")
    p.add_argument("--insecure", action="store_true", default=None, help="wss:// without certificate checks")
    p.add_argument("--record", type=Path, metavar="FILE", help="append every frame to this recording")
    add_ui_arguments(p)
    p.set_defaults(run=run)


def run_dashboard(args: argparse.Namespace, command: str, stdin: BinaryIO | None = None) -> int:
    """Resolve the settings (flags > env > file > defaults), build the app and run it.

    `stdin`: the data stream of `replay -` (the terminal has been given back to fd 0 for the keys)."""
    try:
        settings = resolve(flags_from_args(args, command))
    except SettingsError as exc:
        print(f"callwatch {command}: {exc}", file=sys.stderr)
        return 2
    from tui.app import create_app
    from tui.feeds import build_feed

    try:
        app = create_app(settings, feed=build_feed(settings, stdin=stdin), tune_gc=True)
    except (ValueError, FileNotFoundError) as exc:
        print(f"callwatch {command}: {exc}", file=sys.stderr)
        return 2
    app.run()
    return int(app.return_code or 0)


def run(args: argparse.Namespace) -> int:
    if not args.url.lower().startswith(("ws://", "wss://")):
        print(f"callwatch live: not a ws:// or wss:// URL: {args.url}", file=sys.stderr)
        return 2
    return run_dashboard(args, "live")
