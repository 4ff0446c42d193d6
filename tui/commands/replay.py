"""`callwatch replay CAPTURE`: the dashboard on a capture, paced by its own timestamps.

Pause (p), step ([ ]), speed ({ } Backspace) and loop; `-` replays standard input as it arrives.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import BinaryIO

from tui.commands.demo import _speed
from tui.commands.live import run_dashboard
from tui.settings import add_ui_arguments, settings_help


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "replay", parents=[common], help="the dashboard on a capture file (or - for stdin)",
        description="Replay a capture (.jsonl/.ndjson, .json, .yaml, optionally .gz, or a callwatch "
        "recording) in the dashboard, paced by the events' timestamps × speed.",
        epilog="examples: callwatch replay calls.jsonl --speed 10 | callwatch replay today.jsonl.gz --speed max "
        "| tail -f calls.jsonl | callwatch replay -\n\n" + settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("capture", metavar="CAPTURE", help="capture file, or - for standard input")
    p.add_argument("--speed", type=_speed, help="speed factor 0.25..1000, or max (default 1)")
    p.add_argument("--loop", action="store_true", default=None, help="start again at the end")
    add_ui_arguments(p)
    p.set_defaults(run=run)


def take_stdin() -> BinaryIO:
    """For `replay -`: keep the piped data on a new descriptor and give fd 0 back to the terminal,
    because Textual reads the keyboard from fd 0. Raises OSError when there is no terminal."""
    data = os.fdopen(os.dup(0), "rb", buffering=0)
    tty = os.open("/dev/tty", os.O_RDONLY)
    os.dup2(tty, 0)
    os.close(tty)
    return data  # type: ignore[return-value]


def run(args: argparse.Namespace) -> int:
    stdin = None
    if args.capture == "-":
        if sys.stdin.isatty():
            print("callwatch replay -: standard input is a terminal; pipe a capture in "
                  "(e.g. tail -f calls.jsonl | callwatch replay -)", file=sys.stderr)
            return 2
        try:
            stdin = take_stdin()
        except OSError as exc:
            print(f"callwatch replay -: no terminal for the keyboard: {exc.strerror or exc}", file=sys.stderr)
            return 2
    elif not Path(args.capture).is_file():
        print(f"callwatch replay: no such capture file: {args.capture}", file=sys.stderr)
        return 2
    return run_dashboard(args, "replay", stdin=stdin)
