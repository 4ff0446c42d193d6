"""The `callwatch` command line: argparse only; every subcommand is a thin call into the layers.

Subcommands live in `tui/commands/<name>.py`, each with `add_parser(subparsers)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from tui import __version__

#: Subcommand modules under tui/commands, in the order `--help` lists them.
COMMANDS = [
    "demo",
    "live",
    "replay",
    "lookup",
    "catalogs",
    "summary",
    "explain",
    "serve",
    "report",
    "web",
]


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand registered, or just `only` (start-up cost: the command modules
    import websockets, textual and friends, and `callwatch lookup` should not pay for `callwatch web`)."""
    parser = argparse.ArgumentParser(
        prog="callwatch",
        description="Watch why real-time calls end: PlanetKit, LiveKit, Azure Communication Services, JsSIP.",
        epilog="With no subcommand, callwatch runs the demo (a local feed server and the dashboard).",
    )
    parser.add_argument("--version", action="version", version=f"callwatch {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--catalog-dir",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="extra catalog directory or file adding/overriding entries (repeatable; also CALLWATCH_CATALOGS)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS if only is None else [only]:
        importlib.import_module(f"tui.commands.{name}").add_parser(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `callwatch` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        args = build_parser("demo").parse_args(["demo", *argv])
        if args.command is None:
            parser.print_help()
            return 2
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `callwatch explain big.jsonl | head`: the reader left; not an error worth a traceback.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
