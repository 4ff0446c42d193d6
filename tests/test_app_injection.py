"""Hostile text in every field reaches every pane literally: no markup, no click actions, no escapes.

reliability.md §1 measured that a `str` handed to most Textual widgets is parsed as markup (a `[/bold]`
crashes the app, `[@click=app.quit]` quits it when clicked, a screenshot action writes files) and that
ESC/OSC sequences pass through every widget. Here a capture whose every field holds such payloads is
replayed through the real app; then every pane's cells and rendered lines are inspected and clicked.
"""

from __future__ import annotations

import xml.dom.minidom
from pathlib import Path

import orjson
import pytest
from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget

from tests.app_helpers import START, make_app, replay_feed, settle
from tui.domain.sanitize import clean

PAYLOADS = [
    "[@click=app.quit]ACK[/]",
    "[bold]BOLD",
    "[/bold]",
    "[ bold red]SPOOF",
    "[$error]ERR",
    "[link=https://evil.example]lnk[/link]",
    "[@click=app.screenshot('pwn.svg','{tmp}')]SHOT[/]",
    "\x1b[31mRED\x1b[0m",
    "\x1b]0;PWNED-TITLE\x07",
    "\x1b]8;;https://evil.example\x1b\\osc8\x1b]8;;\x1b\\",
    "\x1b]52;c;cHduZWQ=\x07",
    "\u202eevil\u202c",
    "[ERROR] code=[42]",
    "ok\nsecret",
]


def hostile_capture(tmp_path: Path) -> Path:
    lines = []
    for i, p in enumerate(PAYLOADS):
        p = p.replace("{tmp}", str(tmp_path))
        # every field of the envelope holds the payload; the vendor is both known and hostile
        for vendor in ("planetkit", p):
            lines.append(orjson.dumps({
                "ts": START + i, "vendor": vendor, "code": p, "subcode": p, "call_id": p, "source": p,
                "message": p, "user_code": p, "call_type": p, "namespace": p, "extra": {p: p},
            }))
        lines.append(orjson.dumps({"ts": START + i, "vendor": "acs", "code": "500", "call_id": p}))
        lines.append(p.encode("utf-8", "surrogatepass"))  # the payload alone, as an invalid line
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def check_lines(widget: Widget) -> list[str]:
    """Render `widget` and return its lines; fail on any click action, link or raw ESC."""
    width, height = widget.size
    lines = []
    for strip in widget.render_lines(Region(0, 0, width, height)):
        text = []
        for segment in strip:
            style = segment.style
            assert "\x1b" not in segment.text and "\x9b" not in segment.text, repr(segment.text)
            if style is not None:
                assert not (style.meta or {}).get("@click"), (widget, segment)
                assert not style.link, (widget, segment)
            text.append(segment.text)
        lines.append("".join(text))
    return lines


def literal(value: object) -> bool:
    """A cell renders as a `Text` with no spans (so nothing in it was parsed as markup)."""
    text = value.__rich__() if hasattr(value, "__rich__") else value
    return isinstance(text, Text) and not text.spans and text.plain == getattr(value, "plain", text.plain)


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    return hostile_capture(tmp_path)


async def test_every_pane_shows_hostile_text_literally(hostile, tmp_path):
    app = make_app(replay_feed(hostile), tmp_path)
    async with app.run_test(size=(200, 60), notifications=True) as pilot:
        await settle(app, pilot)
        assert app.aggregate.events == 3 * len(PAYLOADS)
        assert app.aggregate.invalid >= len(PAYLOADS) - 2
        # recent table: every cell a Text whose plain text is the sanitized literal (clipped)
        recent = app.recent
        assert recent.row_count == 3 * len(PAYLOADS)
        call_ids = set()
        for i in range(recent.row_count):
            row = recent.get_row_at(i)
            assert all(literal(cell) for cell in row)
            call_ids.add(row[-1].plain)
        for p in PAYLOADS:
            expected = clean(p.replace("{tmp}", str(tmp_path)))
            expected = expected if len(expected) <= 40 else expected[:39] + "…"
            assert expected in call_ids
        assert "[@click=app.quit]ACK[/]" in call_ids and "[/bold]" in call_ids
        assert "\\x1b[31mRED\\x1b[0m" in call_ids  # ESC made visible, not sent
        # reason table: the unknown hostile codes are labels, literally
        for group_by in ("reason", "category", "outcome", "vendor", "source"):
            labels = {row.label for row in app.reasons.display_rows}
            assert labels
            for i in range(app.reasons.row_count):
                assert all(literal(cell) for cell in app.reasons.get_row_at(i))
            check_lines(app.reasons)
            await pilot.press("b")
        # every pane renders without a click action, a link or an escape
        for widget in (app.recent, app.reasons, app.status_bar, app.detail):
            check_lines(widget)
        for i in range(recent.row_count):  # the detail pane for every event
            recent.move_cursor(row=i)
            await pilot.pause()
            body = app.detail.query_one("#detail-body")
            check_lines(body)
        # the invalid messages, the filter box and the status bar with a hostile filter
        await pilot.press("i")
        await pilot.pause()
        for widget in app.screen.query("DataTable, Static"):
            check_lines(widget)
        await pilot.press("q")
        recent.move_cursor(row=0)
        await pilot.press("enter")  # the full-screen detail of a hostile event
        await pilot.pause()
        assert len(app.screen_stack) == 2
        for widget in app.screen.query("Static"):
            check_lines(widget)
        await pilot.press("escape")
        await pilot.press("slash")
        await pilot.press(*"[@click=app.quit]x[/]")
        await pilot.press("enter")
        app.refresh_view()
        await pilot.pause()
        assert "[@click=app.quit]x[/]" in "".join(check_lines(app.status_bar))
        check_lines(app.filter_box)
        # toasts (first-seen flags of hostile reasons, errors) are plain text too
        for toast in app.screen.query("Toast"):
            check_lines(toast)
        # the whole screen is well-formed XML as an SVG: a raw ESC would break it (reliability.md §1.4)
        xml.dom.minidom.parseString(app.export_screenshot())


async def test_clicking_everywhere_runs_no_injected_action(hostile, tmp_path):
    app = make_app(replay_feed(hostile), tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await pilot.press("g")  # the oldest rows hold the first payloads
        for widget in (app.recent, app.reasons, app.detail, app.status_bar):
            if app.screen.maximized is not None:  # a click on the highlighted row opens the detail
                await pilot.press("escape")
            region = widget.region.intersection(app.screen.region)
            for y in range(region.y, region.bottom, 4):
                for x in range(region.x, region.right, 17):
                    await pilot.click(offset=(x, y))
        await pilot.pause()
        assert app.is_running and not app._quitting
        assert not list(tmp_path.glob("*.svg")) and not list(Path.cwd().glob("pwn*.svg"))


async def test_injected_actions_are_refused(tmp_path):
    """Defence in depth: even a click action that got through could not run these."""
    app = make_app(replay_feed(hostile_capture(tmp_path)), tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.run_action(f"app.screenshot('pwn.svg', '{tmp_path}')")
        await pilot.pause()
        assert not (tmp_path / "pwn.svg").exists()
        assert app.check_action("screenshot", ()) is False
        assert app.check_action("toggle_pause", ()) is True
