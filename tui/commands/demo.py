"""`callwatch demo` (and `callwatch` with no arguments): the dashboard on a local feed of the demo capture.

An in-process feed server plays the bundled capture (looping) on a free loopback port and the dashboard
connects to it as a live client: the demo walks the same path as `callwatch live`.
"""

from __future__ import annotations

import argparse

from tui.commands.live import run_dashboard
from tui.settings import add_ui_arguments, parse_speed, settings_help


def _speed(text: str) -> float:
    from tui.settings import SettingsError

    try:
        return parse_speed(text, "--speed")
    except SettingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "demo", parents=[common], help="the dashboard on a local demo feed (the default command)",
        description="Start a local websocket feed of the bundled demo capture on a free loopback port and "
        "open the dashboard on it as a live client.",
        epilog=settings_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--speed", type=_speed, help="speed of the demo feed, 0.25..1000 (default 1)")
    add_ui_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return run_dashboard(args, "demo")
