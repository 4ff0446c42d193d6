"""Pilot tests of the dashboard: every key, asserting on widget and app state (not on pixels)."""

from __future__ import annotations

import math
from pathlib import Path

import orjson
import pytest
from textual.widgets import Input

from tests.app_helpers import FIXED_NOW, TEMPLATES, live_feed, make_app, replay_feed, settle, write_capture
from tui.domain.aggregate import Aggregate
from tui.widgets.reason_table import ReasonTable
from tui.widgets.recent_table import RecentTable
from tui.widgets.status_bar import status_content

SIZE = (160, 48)
N = 40


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    return write_capture(tmp_path / "calls.jsonl", N, extra=[b"{not json", b'"hello"'])


def outcomes(table: RecentTable) -> list[str]:
    return [e.outcome for e in table.events]


async def test_replay_counts_and_fills_every_pane(capture, tmp_path):
    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        totals = app.aggregate.totals()
        assert totals.events == N and totals.invalid == 2
        assert totals.unknown == N // len(TEMPLATES) and totals.no_reason == N // len(TEMPLATES)
        recent = app.recent
        assert recent.row_count == N == len(recent.events)
        # newest first, following the newest
        assert recent.events[0].call_id == f"call-{N - 1:05d}"
        assert recent.following and recent.cursor_row == 0
        assert app.detail.event is recent.events[0]
        reasons = app.reasons
        assert reasons.row_count == len(reasons.display_rows) == len(TEMPLATES)
        counts = [r.count for r in reasons.display_rows]
        assert counts == sorted(counts, reverse=True)
        view = app.status_bar.view
        assert view is not None and view.state == "finished" and view.totals == totals
        assert view.speed == "max" and view.position is not None
        text = status_content(view).plain
        for word in ("finished", "events 40", "unknown 5", "no reason 5", "invalid 2", "max"):
            assert word in text


async def test_bounded_rows_and_splice_consistency(tmp_path):
    capture = write_capture(tmp_path / "big.jsonl", 300)
    app = make_app(replay_feed(capture), tmp_path, recent_rows=50)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        recent = app.recent
        assert recent.row_count == 50
        # the public API agrees with the splice bookkeeping: row i is the i-th newest event
        for i in (0, 1, 25, 49):
            row = recent.get_row_at(i)
            assert row[-1].plain == f"call-{299 - i:05d}"
        assert [r.key for r in recent.ordered_rows] == list(recent._order)


async def test_fast_cells_render_exactly_like_datatable(tmp_path):
    """BoundedTable draws one-line cells itself; the result must equal DataTable's own rendering."""
    from textual.widgets import DataTable

    capture = write_capture(tmp_path / "c.jsonl", 30)
    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for table in (app.recent, app.reasons):
            base = table.rich_style
            for row in range(min(8, table.row_count)):
                for column in range(len(table.columns)):
                    for cursor in (False, True):
                        width = table.ordered_columns[column].get_render_width(table)
                        fast = table._render_cell(row, column, base, width, cursor=cursor)
                        table._cell_render_cache.clear()
                        slow = DataTable._render_cell(table, row, column, base, width, cursor=cursor)
                        assert ["".join(s.text for s in line) for line in fast] == \
                               ["".join(s.text for s in line) for line in slow]
                        assert [[s.style for s in line if s.text] for line in fast] == \
                               [[s.style for s in line if s.text] for line in slow], (table.id, row, column)


async def test_pause_and_step_forward_and_back(capture, tmp_path):
    app = make_app(replay_feed(capture, speed=1.0, paused=True), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        replay = app.feed.replay
        assert replay.paused and app.aggregate.messages == 0
        for _ in range(3):
            await pilot.press("right_square_bracket")
            await settle(app, pilot)
        assert app.aggregate.messages == 3 and app.recent.row_count == 3
        await pilot.press("left_square_bracket")
        await pilot.pause()
        while app._refeeding:
            await pilot.pause(0.01)
        await settle(app, pilot)
        assert app.aggregate.messages == 2 and app.recent.row_count == 2
        assert app.recent.events[0].call_id == "call-00001"
        # the step back does not re-deliver what was re-fed: the next step is message 3 again
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert app.aggregate.messages == 4
        assert [e.call_id for e in app.recent.events] == ["call-00003", "call-00002", "call-00001", "call-00000"]
        # p resumes (space too), then pauses again
        await pilot.press("p")
        assert not replay.paused and not app.status_bar.view.paused
        await pilot.press("space")
        assert replay.paused
        await settle(app, pilot)
        assert app.status_bar.view.paused and "PAUSED" in status_content(app.status_bar.view).plain


async def test_step_requires_pause(capture, tmp_path):
    app = make_app(replay_feed(capture, speed=1.0), tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert any("pause first" in n.message for n in app._notifications)


async def test_speed_keys(capture, tmp_path):
    app = make_app(replay_feed(capture, speed=2.0, paused=True), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        replay = app.feed.replay
        await pilot.press("right_curly_bracket")
        assert replay.speed == 4.0
        await pilot.press("left_curly_bracket", "left_curly_bracket", "left_curly_bracket")
        assert replay.speed == 0.5
        for _ in range(5):
            await pilot.press("left_curly_bracket")
        assert replay.speed == 0.25  # clamped
        await pilot.press("backspace")
        assert replay.speed == 1.0
        for _ in range(11):
            await pilot.press("right_curly_bracket")
        assert replay.speed == math.inf  # past 1000× is "max"
        await pilot.press("left_curly_bracket")
        assert replay.speed == 1000.0
        await settle(app, pilot)
        assert app.status_bar.view.speed == "1000×"


async def test_live_pause_freezes_display_and_counts_new(tmp_path):
    from tests.app_helpers import event_line

    feed, source = live_feed([event_line(i) for i in range(5)])
    app = make_app(feed, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.recent.row_count == 5
        await pilot.press("p")
        assert app.paused
        for i in range(5, 12):
            source.more.put_nowait(event_line(i))
        await settle(app, pilot)
        assert app.aggregate.events == 12  # counting goes on
        assert app.recent.row_count == 5  # the display is frozen
        view = app.status_bar.view
        assert view.paused and view.new_while_paused == 7
        assert "PAUSED · 7 new" in status_content(view).plain
        await pilot.press("space")
        await settle(app, pilot)
        assert not app.paused and app.recent.row_count == 12


def test_pause_badge_per_kind():
    from tui.widgets.status_bar import StatusView

    replay = status_content(StatusView("replay", "c.jsonl", "paused", paused=True)).plain
    assert replay.startswith(" PAUSED ") and "new" not in replay and "⏸" not in replay
    for kind in ("live", "demo"):  # the demo is a live client: counting goes on while paused
        text = status_content(StatusView(kind, "ws://h", "live", paused=True, new_while_paused=1234)).plain
        assert "PAUSED · 1,234 new" in text and "● live" in text


async def test_navigation_follow_oldest_newest_and_abnormal(capture, tmp_path):
    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        recent = app.recent
        await pilot.press("g")
        assert recent.cursor_row == N - 1 and not recent.following
        assert app.detail.event is recent.events[-1]
        await pilot.press("G")
        assert recent.cursor_row == 0 and recent.following
        # e: next abnormal (down = older); every template but the two successes is abnormal
        start = recent.current_event()
        await pilot.press("e")
        moved = recent.current_event()
        assert moved is not start and moved.outcome != "success"
        assert all(e.outcome == "success" for e in recent.events[1:recent.cursor_row])
        row = recent.cursor_row
        await pilot.press("e")
        assert recent.cursor_row > row and recent.current_event().outcome != "success"
        await pilot.press("E")
        assert recent.cursor_row == row
        await pilot.pause()
        assert app.detail.event is recent.current_event()


async def test_not_following_keeps_the_operators_row(tmp_path):
    from tests.app_helpers import event_line

    feed, source = live_feed([event_line(i) for i in range(10)])
    app = make_app(feed, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        recent = app.recent
        await pilot.press("down", "down")
        chosen = recent.current_event()
        assert not recent.following
        for i in range(10, 15):
            source.more.put_nowait(event_line(i))
        await settle(app, pilot)
        assert recent.row_count == 15
        assert recent.current_event() is chosen  # new rows went on top; the cursor kept its event
        await pilot.press("G")
        await settle(app, pilot)
        assert recent.following and recent.current_event().call_id == "call-00014"


async def test_window_and_grouping_cycle(capture, tmp_path):
    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        reasons = app.reasons
        seen = []
        for _ in range(4):
            seen.append(reasons.window)
            await pilot.press("w")
        assert seen == ["5m", "15m", "session", "1m"]
        assert reasons.window == "5m"
        assert "change" in reasons.columns and "total" in reasons.columns
        groups = []
        for _ in range(5):
            await pilot.press("b")
            groups.append((reasons.group_by, reasons.row_count))
        assert [g for g, _ in groups] == ["category", "outcome", "vendor", "source", "reason"]
        rows = dict(groups)
        assert rows["vendor"] == 4 and rows["outcome"] == 6 and rows["reason"] == len(TEMPLATES)
        await pilot.press("w", "w")
        assert reasons.window == "session"
        assert "change" not in reasons.columns
        assert sum(r.count for r in reasons.display_rows) == N
        assert "window session" in str(reasons.border_title)


async def test_reason_table_updates_cells_in_place(tmp_path):
    """A second batch changes counts with update_cell and reorders with one splice; never clear()."""
    from tests.app_helpers import event_line

    feed, source = live_feed([event_line(i) for i in range(8)])
    app = make_app(feed, tmp_path, window="session")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.reasons
        cleared = []
        table.clear = lambda *a, **k: cleared.append(1)  # type: ignore[method-assign]
        keys_before = set(table._order)
        for _ in range(3):
            source.more.put_nowait(event_line(2))  # acs 410/3100 three more times
        await settle(app, pilot)
        assert not cleared
        assert set(table._order) == keys_before
        top = table.display_rows[0]
        assert (top.label, top.count) == ("CALL_SETUP_NETWORK_FAILURE", 4)
        assert table.get_row_at(0)[table.get_column_index("count")].plain == "4"


async def test_filter_key_terms_and_escape(capture, tmp_path):
    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash")
        box = app.query_one("#filter", Input)
        assert box.display and box.has_focus
        await pilot.press(*"vendor:acs")
        await pilot.pause()
        assert {e.vendor for e in app.recent.events} == {"acs"}
        assert {r.vendor for r in app.reasons.display_rows} == {"acs"}
        await pilot.press("enter")
        assert app.recent.has_focus
        assert app.status_bar.view.filter_text == "vendor:acs"
        await pilot.press("slash", "ctrl+a")
        box.value = "!outcome:success category:network"
        await pilot.pause()
        assert app.recent.events and all(e.outcome != "success" and e.category == "network"
                                          for e in app.recent.events)
        box.value = "bogus:field"
        await pilot.pause()
        assert app.filter.error and app.recent.row_count == N  # a bad filter hides nothing
        await settle(app, pilot)
        assert app.status_bar.view.filter_error
        await pilot.press("escape")
        assert not box.display and app.filter.text == "" and app.recent.row_count == N


async def test_enter_opens_detail_and_escape_or_q_goes_back(capture, tmp_path):
    from tui.screens.detail_screen import EventDetailScreen

    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "enter")
        await pilot.pause()
        event = app.recent.current_event()
        assert isinstance(app.screen, EventDetailScreen) and app.screen.event is event
        await pilot.press("escape")
        assert len(app.screen_stack) == 1 and app.is_running
        await pilot.press("tab", "tab")  # the detail pane: Enter opens the same screen
        assert app.focused is app.detail
        await pilot.press("enter")
        assert isinstance(app.screen, EventDetailScreen)
        await pilot.press("q")
        assert len(app.screen_stack) == 1 and app.is_running


async def test_enter_on_a_count_row_filters_the_events_to_it(capture, tmp_path):
    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("tab")
        assert app.focused is app.reasons
        row = app.reasons.current_row()
        await pilot.press("enter")
        await pilot.pause()
        assert app.filter.active and app.recent.events
        assert all(e.vendor == row.vendor and e.reason_name == row.label for e in app.recent.events)
        await pilot.press("escape")
        assert app.recent.row_count == N
        for _ in range(2):  # by outcome
            await pilot.press("b")
        app.reasons.focus()
        await pilot.press("enter")
        await pilot.pause()
        outcome = app.reasons.current_row().label
        assert {e.outcome for e in app.recent.events} == {outcome}


async def test_tab_cycles_panes(capture, tmp_path):
    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        focused = [app.focused.id]
        for _ in range(3):
            await pilot.press("tab")
            focused.append(app.focused.id)
        assert focused == ["recent", "reasons", "detail", "recent"]


async def test_invalid_view(capture, tmp_path):
    from tui.screens.invalid_screen import InvalidScreen

    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, InvalidScreen)
        table = app.screen.query_one("DataTable")
        assert table.row_count == 2
        await pilot.press("q")
        assert len(app.screen_stack) == 1 and app.is_running


async def test_export_writes_file_named_in_notification(capture, tmp_path):
    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("x")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        exported = [m for m in messages if "exported to" in m]
        assert exported
        path = Path(exported[-1].split("exported to ", 1)[1].strip())
        assert path.is_file() and path.parent == tmp_path
        assert path.stat().st_size > 0


async def test_reset_needs_confirmation(capture, tmp_path):
    from tui.screens.confirm_screen import ConfirmScreen

    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("R")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # declined: nothing happens
        assert len(app.screen_stack) == 1 and app.aggregate.events == N
        await pilot.press("R")
        await pilot.press("enter")  # the cancel button has the focus: Enter alone never resets
        assert app.aggregate.events == N
        await pilot.press("R", "y")
        await settle(app, pilot)
        assert app.aggregate.events == 0 and app.recent.row_count == 0 and app.reasons.row_count == 0
        assert app.status_bar.view.totals.events == 0


async def test_help_catalog_and_palette_commands(capture, tmp_path):
    from tui.screens.catalog_browser import CatalogScreen
    from tui.screens.help_screen import HelpScreen

    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            keys = {row[0] for row in app.screen.rows}
            assert "Enter" in keys and "g  G" in keys and "e  E" in keys
            await pilot.press("escape")
            assert len(app.screen_stack) == 1
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)
        await pilot.press("escape")
        assert len(app.screen_stack) == 1
        titles = {c.title for c in app.get_system_commands(app.screen)}
        from tui.app import COMMANDS

        assert {t for t, _, _ in COMMANDS} <= titles
        # every key action has a palette command
        actions = {a for _, _, a in COMMANDS}
        for binding in app.BINDINGS:
            action = binding.action  # type: ignore[union-attr]
            if action not in ("back_or_quit", "escape"):
                assert action in actions, action


async def test_palette_command_runs_the_action(capture, tmp_path):
    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "Cycle window")
        await command.callback()
        assert app.window == "15m"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"cycle group", "enter")
        await pilot.pause(0.2)
        assert app.group_by == "category"


async def test_mask_flag_and_toggle(capture, tmp_path):
    app = make_app(replay_feed(capture), tmp_path, mask=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        shown = {app.recent.get_row_at(i)[-1].plain for i in range(app.recent.row_count)}
        assert not any(s.startswith("call-000") for s in shown) and len(shown) == N
        assert app.status_bar.view.masked
        assert "call-00039" not in str(app.detail.query_one("#detail-body").render())
        await app.run_action("toggle_mask")
        await pilot.pause()
        shown = {app.recent.get_row_at(i)[-1].plain for i in range(app.recent.row_count)}
        assert "call-00039" in shown


async def test_mouse_click_highlights_a_row_and_stops_following(capture, tmp_path):
    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        recent = app.recent
        assert await pilot.click(RecentTable, offset=(10, 6))
        await pilot.pause()
        assert recent.cursor_row > 0 and not recent.following
        assert app.detail.event is recent.current_event()
        assert await pilot.click(ReasonTable, offset=(10, 3))
        await pilot.pause()
        assert app.reasons.has_focus


async def test_q_backs_out_then_quits_and_ctrl_c_quits(capture, tmp_path):
    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", "x")
        await pilot.press("q")  # typed into the filter box
        assert app.filter_box.value == "xq"
        await pilot.press("escape")
        await pilot.press("i")
        await pilot.press("q")  # closes the invalid view
        assert app.is_running and len(app.screen_stack) == 1 and not app._quitting
        await pilot.press("q")
    assert app._quitting and app.return_code == 0
    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+c")
    assert app._quitting


@pytest.mark.parametrize("theme", ["textual-light", "textual-dark"])
async def test_themes(capture, tmp_path, theme):
    app = make_app(replay_feed(capture), tmp_path, theme=theme)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.theme == theme
        assert app.recent.row_count == N


async def test_feed_failure_is_shown_and_app_stays_usable(tmp_path):
    from tests.app_helpers import event_line

    feed, _source = live_feed([event_line(i) for i in range(3)], fail=RuntimeError("disk [bold]full[/bold]"))
    app = make_app(feed, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.pause(0.1)
        app.refresh_view()
        assert app.ingest_error and "disk [bold]full[/bold]" in app.ingest_error
        assert "feed failed" in status_content(app.status_bar.view).plain
        assert any("disk [bold]full[/bold]" in n.message for n in app._notifications)
        await pilot.press("w", "b", "g")
        assert app.is_running and app.recent.row_count == 3


async def test_reconnecting_state_is_shown_with_reason_and_countdown(tmp_path):
    feed, source = live_feed([])
    app = make_app(feed, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        source.set_state("reconnecting", "closed by server: 1011 [@click=app.quit]x", retry_in=5.0)
        app.refresh_view()
        text = status_content(app.status_bar.view).plain
        assert "reconnecting in" in text and "1011 [@click=app.quit]x" in text
        source.set_state("stale", "connected, but no frame for 15 s")
        app.refresh_view()
        assert "stale: connected, but no frame" in status_content(app.status_bar.view).plain
        assert app.status_bar.has_class("-offline")


async def test_spike_and_first_seen_are_marked_and_announced_once(tmp_path):
    """Enough history for the aggregate's warm-up, then a new reason and a burst of it."""
    lines = []
    t0 = 1752480000.0
    for s in range(0, 1000, 2):  # 1000 s of a steady background
        lines.append(orjson.dumps({"ts": t0 + s, "vendor": "livekit", "code": "CLIENT_INITIATED"}))
    for k in range(30):  # then a burst of a reason never seen before
        lines.append(orjson.dumps({"ts": t0 + 1000 + k * 0.5, "vendor": "acs", "code": "500"}))
    lines.append(orjson.dumps({"ts": t0 + 1100, "vendor": "livekit", "code": "CLIENT_INITIATED"}))
    capture = tmp_path / "spike.jsonl"
    capture.write_bytes(b"\n".join(lines) + b"\n")
    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        kinds = [f.kind for f in app.aggregate.flags]
        assert "first_seen" in kinds
        messages = [n.message for n in app._notifications]
        assert sum("first seen" in m and "INFRASTRUCTURE_ERROR_500" in m for m in messages) == 1
        if "spike" in kinds:
            assert sum("spike" in m for m in messages) == 1
        flags = {app.reasons.get_row_at(i)[0].plain for i in range(app.reasons.row_count)}
        assert flags & {"★", "▲"}


async def test_gc_thresholds_raised_while_running_and_restored(capture, tmp_path):
    import gc

    from tui.app import GC_THRESHOLD

    before = gc.get_threshold()
    app = make_app(replay_feed(capture), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert gc.get_threshold() == GC_THRESHOLD
        assert not app.tune_gc  # tests never freeze (many apps share the process)
    assert gc.get_threshold() == before


def test_aggregate_is_the_domain_one(capture, tmp_path):
    app = make_app(replay_feed(capture), tmp_path)
    assert isinstance(app.aggregate, Aggregate)
    assert app.aggregate._clock is None  # replay: event time only
    feed, _ = live_feed([])
    live = make_app(feed, tmp_path)
    assert live.aggregate._clock is not None and live.aggregate._clock() == FIXED_NOW


async def test_bookmark_key_saves_beside_the_capture_and_reaches_the_report(capture, tmp_path):
    from tui.domain.bookmarks import BookmarkStore, bookmarks_path

    app = make_app(replay_feed(capture), tmp_path, capture=str(capture))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        marked = app.recent.current_event()
        await pilot.press("m")
        await pilot.pause()
        for ch in "[bold]lost audio":
            await pilot.press(ch if ch != " " else "space")
        await pilot.press("enter")
        await pilot.pause()
        saved = BookmarkStore(bookmarks_path(capture)).bookmarks
        assert [(b.seq, b.note) for b in saved] == [(marked.seq, "[bold]lost audio")]
        # Escape cancels without a bookmark.
        await pilot.press("m")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert len(BookmarkStore(bookmarks_path(capture)).bookmarks) == 1
        app.action_export_report()
        await pilot.pause()
        written = [n.message for n in app._notifications if "incident report written to" in n.message]
        assert written
        report = Path(written[-1].split("written to ", 1)[1].strip())
        html = report.read_text()
        assert report.parent == tmp_path and "lost audio" in html and "[bold]lost audio" in html.replace(
            "&#x5b;", "[").replace("&#91;", "[")


async def test_bookmark_without_a_capture_file_stays_in_memory(tmp_path):
    line = orjson.dumps({"ts": FIXED_NOW, "vendor": "planetkit", "code": "1001", "call_id": "c-1"})
    feed, _source = live_feed([line])
    app = make_app(feed, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("m")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert any("in memory" in n.message for n in app._notifications)
        assert list(tmp_path.glob("*.bookmarks.json")) == []
