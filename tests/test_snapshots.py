"""Snapshots of the main screen (pytest-textual-snapshot): layout, colours and symbols at two sizes.

Deterministic: a small fixed capture (tests/app_helpers.py) replayed at max speed and run to completion
before the shot, a fixed clock injected into the app, times rendered from event data in UTC, rows sorted
explicitly. Update only after reading the report: `pytest tests/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app_helpers import make_app, replay_feed, write_capture


async def finish_replay(pilot) -> None:  # noqa: ANN001
    """Run the replay to its end, apply one refresh tick, let the screen settle."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    pilot.app.refresh_view()
    await pilot.pause()


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    return write_capture(tmp_path / "calls.jsonl", 40, extra=[b"{not json"])


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_main_screen(snap_compare, capture, tmp_path, size):
    app = make_app(replay_feed(capture), tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=finish_replay)


def test_main_screen_light_theme(snap_compare, capture, tmp_path):
    app = make_app(replay_feed(capture), tmp_path, theme="textual-light")
    assert snap_compare(app, terminal_size=(160, 48), run_before=finish_replay)


def test_main_screen_by_outcome_session_window(snap_compare, capture, tmp_path):
    app = make_app(replay_feed(capture), tmp_path, group_by="outcome", window="session")
    assert snap_compare(app, terminal_size=(120, 30), run_before=finish_replay)
