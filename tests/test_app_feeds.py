"""The dashboard on its real sources: the demo (a local feed server + live client), a live feed with a
token, standard input, and the command line's refusals."""

from __future__ import annotations

import asyncio
import io
import math
from pathlib import Path

import pytest

from tests.app_helpers import FIXED_NOW, event_line, make_app, write_capture
from tui.app import create_app
from tui.cli import main as cli_main
from tui.domain.decode import event_time
from tui.feeds import DemoSource, Feed, build_feed, capture_factory, demo_capture
from tui.ingest.feed_server import FeedServer
from tui.ingest.replay import Replay
from tui.settings import Settings

SIZE = (120, 36)


async def wait_for(predicate, timeout: float = 15.0) -> None:  # noqa: ANN001
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_demo_walks_the_real_path_end_to_end(tmp_path):
    """`callwatch` / `make demo`: a FeedServer on a free loopback port plays the demo capture and the
    dashboard reads it as a live websocket client."""
    feed = build_feed(Settings(command="demo", speed=50.0))
    assert isinstance(feed.source, DemoSource) and feed.kind == "demo"
    assert feed.source.capture == demo_capture()
    app = create_app(Settings(command="demo"), feed=feed, export_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.aggregate.events >= 3)
        server = feed.source.server
        assert server is not None and server.port > 0 and server.host == "127.0.0.1"
        await wait_for(lambda: app.recent.row_count > 0)
        await pilot.pause()
        view = app.status_bar.view
        assert view.kind == "demo" and view.state == "live"
        assert view.origin.startswith("ws://127.0.0.1:")
        assert app.live and app.feed.replay is None


async def test_live_feed_with_token_and_header(tmp_path):
    capture = write_capture(tmp_path / "c.jsonl", 12)
    factory = capture_factory(str(capture))
    server = FeedServer(lambda: Replay(factory, event_time, speed=math.inf).messages(), token="s3cret")
    await server.start()
    try:
        settings = Settings(command="live", url=server.url, token="s3cret", headers=(("X-Trace", "1"),))
        app = create_app(settings, clock=lambda: FIXED_NOW, export_dir=tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: app.aggregate.events == 12)
            app.refresh_view()
            await pilot.pause()
            assert app.recent.row_count == 12
            assert "s3cret" not in repr(app.feed.source) and "s3cret" not in app.status_bar.view.origin
        bad = create_app(Settings(command="live", url=server.url, token="wrong"), export_dir=tmp_path)
        async with bad.run_test(size=SIZE, notifications=True) as pilot:
            await wait_for(lambda: bad.feed.source.status.state == "stopped")
            bad.refresh_view()
            await pilot.pause()
            assert bad.status_bar.view.state == "stopped" and "401" in bad.status_bar.view.detail
            assert bad.is_running
    finally:
        server.close()
        await server.wait_closed()


async def test_replay_standard_input(tmp_path):
    data = b"\n".join(event_line(i) for i in range(7)) + b"\n{oops\n"
    feed = build_feed(Settings(command="replay", capture="-", speed=math.inf), stdin=io.BytesIO(data))
    assert feed.capture is None  # standard input cannot be re-read: no step back
    app = make_app(feed, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        app.refresh_view()
        await pilot.pause()
        assert app.aggregate.events == 7 and app.aggregate.invalid == 1
        assert app.status_bar.view.origin == "stdin"


def test_replay_loop_setting_reaches_the_replay(tmp_path):
    capture = write_capture(tmp_path / "c.jsonl", 3)
    feed = build_feed(Settings(command="replay", capture=str(capture), speed=2.0, loop=True))
    assert isinstance(feed.replay, Replay) and feed.replay.loop and feed.replay.speed == 2.0
    assert isinstance(feed, Feed) and feed.capture is not None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["replay", "/nonexistent/x.jsonl"], "no such capture file"),
        (["live", "http://example.invalid/"], "not a ws:// or wss:// URL"),
        (["replay", "x.jsonl", "--speed", "0.01"], "speed must be between"),
    ],
)
def test_cli_refusals_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) if "--speed" in argv else _nothing():
        status = cli_main(argv)
        assert status == 2
    assert message in capsys.readouterr().err


def test_cli_bad_config_file_exits_2(tmp_path, monkeypatch, capsys):
    config = tmp_path / "config.yaml"
    config.write_text("windw: 5m\n")
    monkeypatch.setenv("CALLWATCH_CONFIG", str(config))
    capture = write_capture(tmp_path / "c.jsonl", 1)
    assert cli_main(["replay", str(capture)]) == 2
    err = capsys.readouterr().err
    assert "unknown setting 'windw'" in err and str(config) in err


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


def test_default_command_is_the_demo(monkeypatch):
    """`callwatch` with no arguments runs the demo (cli.py turns it into `callwatch demo`)."""
    seen = {}

    def fake_run(args, command, stdin=None):  # noqa: ANN001
        seen["command"] = command
        return 0

    monkeypatch.setattr("tui.commands.live.run_dashboard", fake_run)
    monkeypatch.setattr("tui.commands.demo.run_dashboard", fake_run)
    assert cli_main([]) == 0
    assert seen["command"] == "demo"


def test_demo_capture_exists():
    path = demo_capture()
    assert Path(path).is_file() and path.name in ("demo.jsonl", "stream.jsonl")
