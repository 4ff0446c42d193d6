"""The fault suite (benchmarks/soak.py) in its short form: `make test` runs every case.

Each test runs one case against the real dashboard (built by `create_app`, headless in `App.run_test`)
and real `callwatch serve` subprocesses on loopback, and fails if any asserted check of that case fails;
the whole table is printed (shown with ``-s`` or on failure). Speed figures (stalls, key latency,
frames/s) are in the table as information, never asserted: the CI box is shared.

Budget on 2 cores: soak 30 s + about 45 s for the rest. The pty check of the poison case is in
tests/test_pty_escapes.py.
"""

from __future__ import annotations

import pytest

from benchmarks import soak
from benchmarks.faults import captures as cap
from benchmarks.faults.harness import Segments, terminal_bytes, unsafe_segments


def assert_rows(rows: list[soak.Row]) -> None:
    table = soak.render_table(rows)
    print("\n" + table)
    failed = [r for r in rows if r.status == "FAIL"]
    assert rows and not failed, "failed checks:\n" + table


@pytest.mark.slow
async def test_soak_30_seconds_at_5000_events_per_second(tmp_path):
    assert_rows(await soak.case_soak(tmp_path, seconds=30, rate=5000))


async def test_kill_restart_resumes_and_counts_exactly(tmp_path):
    assert_rows(await soak.case_kill(tmp_path, kills=3, every=2.0, rate=5000))


async def test_freeze_shows_stale_then_recovers(tmp_path):
    assert_rows(await soak.case_freeze(tmp_path))


async def test_flood_of_100000_events_in_one_second(tmp_path):
    rows = await soak.case_flood(tmp_path)
    assert_rows(rows)
    assert any(r.check.startswith("every key press") and r.status == "pass" for r in rows)


async def test_poison_mix_is_counted_and_never_rendered_raw(tmp_path):
    assert_rows(await soak.case_poison(tmp_path, pty=False))


async def test_bad_catalogs_are_refused_with_file_and_line(tmp_path):
    assert_rows(await soak.case_catalogs(tmp_path))


# -- the instruments themselves: a check that cannot fail proves nothing ---------------------------


def test_segments_show_loss_repeat_and_restart():
    seen = Segments()
    for i in [1, 2, 3, 5, 6, 6, 1, 2]:
        seen.add(i)
    assert seen.as_tuples() == [(1, 3), (5, 6), (6, 6), (1, 2)]
    assert seen.total == 8 and seen.last == 2


async def test_render_checks_catch_an_unsanitized_widget():
    """Negative control for the poison case's in-process checks: raw text in a Static is caught."""
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Raw(App[None]):
        def compose(self) -> ComposeResult:
            yield Static(cap.HOSTILE[9], markup=False)  # ESC[31m... unsanitized
            yield Static("[@click=app.bell]CLICK[/] [link='https://evil.example']L[/link]")

    app = Raw()
    async with app.run_test(size=(60, 6)):
        problems = unsafe_segments(app)
        assert any("@click" in p for p in problems)
        assert any("link" in p for p in problems)
        assert any("control characters" in p for p in problems)
        assert cap.INJECTED[0] in terminal_bytes(app)


def test_table_renders_every_row():
    rows = [soak.Row("kill", "outages | shown", "3 of 3", "pass"), soak.Row("kill", "x", "1", "FAIL")]
    assert "outages \\| shown" in soak.render_table(rows, markdown=True)
    assert soak.render_table(rows).count("\n") == 3
