"""`callwatch serve CAPTURE`: play a capture as a local websocket feed (for the demo, tests, trials).

    callwatch serve fixtures/demo.jsonl --port 0 --speed 10 --loop
    serving fixtures/demo.jsonl on ws://127.0.0.1:41234

The first line printed (flushed) names the URL, so a script can read the port chosen with --port 0.
Each client gets the capture from its start, paced by event time × speed, unless --shared (one timeline
for all clients, like a real feed). CAPTURE "-" relays stdin lines to every client as they arrive.
Runs until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import signal
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path

from tui.ingest.capture import STDIN, YamlLoader, aiter_capture, iter_capture
from tui.ingest.feed_server import FeedServer
from tui.ingest.raw import RawMessage
from tui.ingest.replay import Replay, TimestampOf, check_speed


def parse_speed(text: str) -> float:
    """``--speed`` values: a factor in [0.25, 1000], or ``max``/``inf`` for as fast as possible."""
    if text.strip().lower() in ("max", "inf", "infinity"):
        return math.inf
    try:
        return check_speed(float(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser | None = None) -> None:
    """Register ``callwatch serve``."""
    p = sub.add_parser(
        "serve",
        parents=[common] if common is not None else [],
        help="serve a capture as a local websocket feed",
        description="Serve a capture file (.jsonl, .json, .yaml, optionally .gz, or a callwatch recording) "
        "as a websocket feed, paced by the events' own timestamps. Each client gets the capture from "
        "its start unless --shared. CAPTURE '-' relays standard input lines to all clients.",
        epilog="example: callwatch serve fixtures/demo.jsonl --port 8765 --speed 5 --loop, then "
        "callwatch live ws://127.0.0.1:8765",
    )
    p.add_argument("capture", help="capture file, or - for standard input")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free port)")
    p.add_argument("--speed", type=parse_speed, default=1.0,
                   help="replay speed factor 0.25..1000, or max (default 1)")
    p.add_argument("--loop", action="store_true", help="start the capture again when it ends")
    p.add_argument("--token", help="require 'Authorization: Bearer TOKEN' from clients (else HTTP 401)")
    p.add_argument("--shared", action="store_true",
                   help="one timeline for all clients, as a real feed (default: each client from the start)")
    p.set_defaults(run=run)


def _timestamp_of() -> TimestampOf | None:
    """The domain's event-time helper, when present (else the replay paces evenly)."""
    try:
        from tui.domain.decode import event_time
    except ImportError:
        return None
    return event_time


def _yaml_loader(path: str) -> YamlLoader | None:
    """The domain's hardened YAML loader, when present (else capture's default yaml.safe_load_all)."""
    try:
        from tui.domain.catalog_yaml import safe_load_all_yaml
    except ImportError:
        return None

    def load(text: str) -> Iterable[object]:
        return safe_load_all_yaml(text, path)

    return load


def messages_factory(capture: str, *, speed: float, loop: bool,
                     timestamp_of: TimestampOf | None,
                     yaml_loader: YamlLoader | None) -> Callable[[], AsyncIterator[RawMessage]]:
    """A factory of paced message streams for `FeedServer` (stdin: the lines as they arrive)."""
    if capture == STDIN:
        return lambda: aiter_capture(STDIN)

    def source() -> Iterable[RawMessage]:
        return iter_capture(capture, yaml_loader=yaml_loader)

    def paced() -> AsyncIterator[RawMessage]:
        return Replay(source, timestamp_of, speed=speed, loop=loop, origin=capture).messages()

    return paced


async def serve(args: argparse.Namespace) -> int:
    """Run the server until SIGINT/SIGTERM; print the URL line first."""
    capture: str = args.capture
    shared = bool(args.shared) or capture == STDIN  # stdin can be read once: one timeline for all
    factory = messages_factory(capture, speed=args.speed, loop=args.loop, timestamp_of=_timestamp_of(),
                               yaml_loader=_yaml_loader(capture))
    server = FeedServer(factory, args.host, args.port, token=args.token, shared=shared)
    try:
        await server.start()
    except OSError as exc:
        print(f"callwatch serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"serving {capture} on {server.url}", flush=True)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
    return 0


def run(args: argparse.Namespace) -> int:
    """Entry point of ``callwatch serve``."""
    if args.capture != STDIN and not Path(args.capture).is_file():
        print(f"callwatch serve: no such capture file: {args.capture}", file=sys.stderr)
        return 2
    return asyncio.run(serve(args))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command alone (``python -m tui.commands.serve``), without the full CLI."""
    parser = argparse.ArgumentParser(prog="callwatch")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["serve", *(sys.argv[1:] if argv is None else argv)])
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
