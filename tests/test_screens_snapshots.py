"""Snapshots of every screen at 80×24 and 160×48, from fixed data (deterministic: no clock, no feed).

Update only after reading the report: `pytest tests/test_screens_snapshots.py --snapshot-update`.
The catalog browser uses the real bundled catalogs, so a catalog change changes its snapshots.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Static

from tui.domain.catalog import load_catalogs
from tui.domain.mask import Masker
from tui.domain.model import CallEnd, InvalidMessage
from tui.screens.catalog_browser import CatalogScreen
from tui.screens.confirm_screen import ConfirmScreen
from tui.screens.detail_screen import EventDetailScreen
from tui.screens.help_screen import HelpScreen
from tui.screens.invalid_screen import InvalidScreen
from tui.screens.note_screen import NoteScreen

ROOT = Path(__file__).resolve().parents[1]
CATALOGS = load_catalogs()
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


class Host(App[None]):
    """Pushes one screen over a plain host screen."""

    TITLE = "callwatch screens"
    BINDINGS = [
        Binding("slash", "noop", "Filter"),
        Binding("p,space", "noop", "Pause"),
        Binding("x", "noop", "Export"),
        Binding("ctrl+c", "quit", "Quit", priority=True),
    ]

    def __init__(self, factory: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self.factory = factory

    def compose(self) -> ComposeResult:
        yield Static(Content("callwatch dashboard (host)"))

    def on_mount(self) -> None:
        self.push_screen(self.factory())

    def action_noop(self) -> None:
        pass


def _event() -> CallEnd:
    return CallEnd(
        seq=42,
        ts=1752489662.12,
        vendor="planetkit",
        code="1203",
        subcode=None,
        reason=CATALOGS.lookup("planetkit", "1203"),
        source="2",
        source_name="CALLER",
        call_id="6364e8b3-bdac-436e-9631-0bce2498ce0c",
        call_type="1:1",
        message="callee did not answer within 60 s",
        format="envelope",
        raw=(ROOT / "fixtures/envelope/basic.json").read_text().strip(),
    )


def _invalid() -> list[InvalidMessage]:
    return [
        InvalidMessage(3, 0.0, "bad_json", "Expecting ',' delimiter: line 1 column 18", '{"vendor": "acs" "code": 1}'),
        InvalidMessage(7, 0.0, "unknown_format", "not a call-end payload callwatch knows", '{"hello": "world"}'),
        InvalidMessage(8, 0.0, "too_deep", "nesting of 256 or more levels", "[[[[[[[[[[[[[[[[[[[[…[+9980 chars]"),
        InvalidMessage(11, 0.0, "not_utf8", "bytes that are not UTF-8", "\\xff\\xfe{\"code\": 1}"),
    ]


HELP_ROWS = [
    ("enter", "full-screen detail of the highlighted event", "Recent events"),
    ("e, E", "next / previous abnormal disconnect", "Recent events"),
    ("[, ]", "step back / forward when paused", "Replay"),
    ("{, }", "slower / faster", "Replay"),
]


async def _no_blink(pilot: Pilot[Any]) -> None:
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_catalog_browser(snap_compare, size):
    assert snap_compare(Host(lambda: CatalogScreen(CATALOGS)), terminal_size=size)


def test_catalog_browser_map(snap_compare):
    assert snap_compare(Host(lambda: CatalogScreen(CATALOGS)), press=["m"], terminal_size=(160, 48))


def test_catalog_browser_search(snap_compare):
    assert snap_compare(
        Host(lambda: CatalogScreen(CATALOGS, query="category:busy")), press=["down"], terminal_size=(160, 48)
    )


@pytest.mark.parametrize("size", SIZES)
def test_event_detail(snap_compare, size):
    assert snap_compare(Host(lambda: EventDetailScreen(_event(), CATALOGS)), terminal_size=size)


def test_event_detail_masked(snap_compare):
    assert snap_compare(
        Host(lambda: EventDetailScreen(_event(), CATALOGS, Masker(b"snapshot"))), terminal_size=(160, 48)
    )


def test_event_detail_hostile(snap_compare):
    bad = "[@click=app.quit]X[/] [bold]b[/bold] [/bold] \x1b[31mred\x1b]0;title\x07 [ bold red]spoof"
    event = CallEnd(
        seq=1, ts=0.0, vendor="[ bold red]spoof", code="[/bold]", subcode=None, reason=None,
        source="[@click=app.quit]X[/]", call_id="\x1b[31mred", message=bad, raw=bad,
    )
    assert snap_compare(Host(lambda: EventDetailScreen(event, CATALOGS)), terminal_size=(80, 24))


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, size):
    assert snap_compare(Host(lambda: HelpScreen(HELP_ROWS)), terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_invalid(snap_compare, size):
    assert snap_compare(Host(lambda: InvalidScreen(_invalid())), terminal_size=size)


def test_confirm(snap_compare):
    question = "Reset every counter? The feed goes on; counts, rates and flags start from zero."
    assert snap_compare(Host(lambda: ConfirmScreen(question, confirm="Reset", cancel="Cancel")), terminal_size=(80, 24))


def test_note(snap_compare):
    assert snap_compare(
        Host(lambda: NoteScreen("Bookmark note", initial="spike of 487 after deploy")),
        terminal_size=(80, 24),
        run_before=_no_blink,
    )


def test_snapshots_are_well_formed_xml():
    """A raw control character in the output (an unsanitized ESC) would make the SVG invalid XML."""
    import xml.etree.ElementTree as ET

    folder = Path(__file__).parent / "__snapshots__" / "test_screens_snapshots"
    files = sorted(folder.glob("*.svg"))
    assert len(files) >= 14
    for svg in files:
        ET.parse(svg)
