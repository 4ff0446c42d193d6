"""Pilot tests of the screens in a small host app: keys, search, tabs, results, and hostile text.

Every screen must show feed and catalog text literally: markup (`[@click=app.quit]`, `[/bold]`,
`[ bold red]`) stays text, nothing becomes clickable, and no ESC byte reaches the terminal.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Static, TabbedContent

from tui.domain.catalog import build_catalogs, load_catalogs
from tui.domain.mask import Masker
from tui.domain.model import CallEnd, InvalidMessage
from tui.screens.catalog_browser import CatalogScreen, parse_catalog_query
from tui.screens.confirm_screen import ConfirmScreen
from tui.screens.detail_screen import EventDetailScreen, pretty_raw, render_event_detail
from tui.screens.help_screen import TEXTUAL_GROUP, HelpScreen, binding_rows, merge_rows
from tui.screens.invalid_screen import InvalidScreen
from tui.screens.note_screen import NoteScreen

CATALOGS = load_catalogs()
ROOT = Path(__file__).resolve().parents[1]

#: Hostile strings every text field gets in the injection tests.
INJECTION = [
    "[@click=app.quit]X[/]",
    "[bold]b[/bold]",
    "[/bold]",
    "\x1b[31mred\x1b]0;title\x07",
    "[ bold red]spoof",
    "[ @click=app.quit]ACK[/]",
    "[link=https://evil.example]x[/link]",
    "[$error]var",
    "[ERROR] code=[42]",
    "bidi\u202eevil",
]


class Host(App[None]):
    """A minimal app that pushes one screen on mount and records what it returns."""

    TITLE = "host"
    BINDINGS = [Binding("x", "noop", "Export view"), Binding("ctrl+c", "quit", "Quit", priority=True)]

    def __init__(self, factory: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self.factory = factory
        self.results: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Static(Content("host screen"), id="host")

    def on_mount(self) -> None:
        self.push_screen(self.factory(), self.results.append)

    def action_noop(self) -> None:
        pass


def _lines(widget: Widget) -> list[tuple[str, list[Any]]]:
    """The rendered lines of a widget: (text, segments)."""
    width, height = widget.size
    out = []
    for strip in widget.render_lines(Region(0, 0, width, height)):
        segments = list(strip)
        out.append(("".join(seg.text for seg in segments), segments))
    return out


def _screen_text(screen: Screen[Any]) -> str:
    return "\n".join(text for w in screen.query("*") if w.display and w.size.area for text, _ in _lines(w))


def _assert_inert(screen: Screen[Any]) -> None:
    """No ESC/BEL, no clickable action meta, no link anywhere on screen."""
    for widget in screen.query("*"):
        if not widget.size.area:
            continue
        for text, segments in _lines(widget):
            assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, text
            for seg in segments:
                style = seg.style
                if style is None:
                    continue
                meta = style.meta or {}
                assert "@click" not in meta, (text, meta)
                assert not style.link, (text, style.link)


def test_hostile_strings_are_still_hostile():
    """The corpus must exercise real parsers: markup is parsed, escapes would reach the terminal."""
    assert Content.from_markup("[bold]b[/bold]").plain == "b"
    assert Content.from_markup(INJECTION[0]).plain == "X"
    with pytest.raises(Exception):
        Content.from_markup("[/bold]")


class _MarkupScreen(Screen[None]):
    """A deliberately unsafe screen: the checks below must catch it (negative control)."""

    def compose(self) -> ComposeResult:
        yield Static("[@click=app.quit]CLICK ME[/]", id="unsafe")


async def test_negative_control_the_checks_catch_markup():
    app = Host(_MarkupScreen)
    async with app.run_test() as pilot:
        await pilot.pause()
        with pytest.raises(AssertionError):
            _assert_inert(app.screen)
        await pilot.click("#unsafe", offset=(2, 0))
        await pilot.pause()
        assert app.return_code is not None or not app.is_running  # the click quit the app


# ---------------------------------------------------------------------------------------- catalog


async def test_catalog_lists_every_entry_and_searches():
    app = Host(lambda: CatalogScreen(CATALOGS))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CatalogScreen)
        table = screen.query_one("#catalog-table", DataTable)
        total = sum(len(CATALOGS.entries(v)) for v in CATALOGS.vendors)
        assert table.row_count == total == len(screen.shown)
        assert screen.focused is table

        await pilot.press("slash")
        assert isinstance(screen.focused, Input)
        await pilot.press(*"busy")
        await pilot.pause()
        assert 0 < table.row_count < total
        for i in screen.shown:
            assert "busy" in screen._haystacks[i]
        names = {screen.entries[i].name for i in screen.shown}
        assert "USER_BUSY" in names or any("BUSY" in n for n in names)

        # Field terms, and the detail follows the highlighted row.
        search = screen.query_one("#catalog-search", Input)
        search.value = "vendor:jssip"
        await pilot.pause()
        assert {screen.entries[i].vendor for i in screen.shown} == {"jssip"}
        await pilot.press("enter")  # back to the table
        assert screen.focused is table
        first = screen.highlighted_entry
        await pilot.press("down")
        await pilot.pause()
        second = screen.highlighted_entry
        assert first is not None and second is not None and first != second
        detail = _screen_text(screen)
        assert second.name in detail

        search.value = "zzzz-no-such-thing"
        await pilot.pause()
        assert table.row_count == 0
        assert "No entry matches" in _screen_text(screen)

        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]
        assert not isinstance(app.screen, CatalogScreen)


async def test_catalog_search_by_code_alias_and_description():
    app = Host(lambda: CatalogScreen(CATALOGS, query="code:487"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.shown and all(screen.entries[i].code == "487" for i in screen.shown)
        screen.query_one("#catalog-search", Input).value = "code:487/10003"
        await pilot.pause()
        assert [(screen.entries[i].vendor, screen.entries[i].subcode) for i in screen.shown] == [("acs", "10003")]
        entry = next(e for v in CATALOGS.vendors for e in CATALOGS.entries(v) if e.aliases)
        screen.query_one("#catalog-search", Input).value = f'"{entry.aliases[0]}"'
        await pilot.pause()
        assert entry in [screen.entries[i] for i in screen.shown]


@pytest.mark.parametrize(
    "text, words, fields",
    [
        ("busy", ("busy",), ()),
        ("vendor:acs Busy", ("busy",), (("vendor", ("acs",)),)),
        ('cat:network "ice failed"', ("ice failed",), (("category", ("network",)),)),
        ("sip:486", ("sip:486",), ()),  # unknown field: just text
        ("vendor:acs vendor:jssip", (), (("vendor", ("acs", "jssip")),)),
        ("", (), ()),
        ('"', (), ()),
    ],
)
def test_parse_catalog_query(text, words, fields):
    q = parse_catalog_query(text)
    assert q.words == words and q.fields == fields


async def test_catalog_tabs_and_map():
    app = Host(lambda: CatalogScreen(CATALOGS))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        tabs = screen.query_one(TabbedContent)
        await pilot.press("m")
        await pilot.pause()
        assert tabs.active == "map"
        grid = screen.query_one("#catalog-map", DataTable)
        assert screen.focused is grid
        rows = screen.map_rows()
        assert grid.row_count == len(rows) > 10
        # Category rows in taxonomy order, one column per vendor.
        order = list(CATALOGS.taxonomy.categories)
        assert [c for c, _ in rows] == sorted((c for c, _ in rows), key=order.index)
        assert len(grid.columns) == 1 + len(CATALOGS.vendors)
        busy = dict(rows)["busy"]
        for vendor, names in zip(CATALOGS.vendors, busy):
            expected = {
                e.name for e in CATALOGS.entries(vendor) if e.category == "busy" and e.namespace != "code_class"
            }
            assert {n.removesuffix(" (deprecated)") for n in names} == expected
        # Enter on a category row lists its entries on the entries tab.
        grid.move_cursor(row=[c for c, _ in rows].index("busy"))
        await pilot.press("enter")
        await pilot.pause()
        assert tabs.active == "entries"
        assert screen.query_one("#catalog-search", Input).value == "category:busy"
        assert {screen.entries[i].category for i in screen.shown} == {"busy"}
        await pilot.press("e")
        assert tabs.active == "entries"


async def test_catalog_works_without_an_app_feed_in_a_tiny_host():
    app = Host(lambda: CatalogScreen(CATALOGS))
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        await pilot.press("down", "down", "m", "down", "e", "slash", "a", "escape")
        await pilot.pause()
        assert app.results == [None]


def _hostile_catalog(tmp_path: Path) -> Path:
    bad = " | ".join(INJECTION)
    data = {
        "schema": "1",
        "vendor": "evil",
        "title": bad,
        "aliases": ["evil"],
        "documents": [{"id": "d1", "title": bad, "version": bad, "url": bad}],
        "namespaces": [{"id": "main", "title": bad, "description": bad}],
        "entries": [
            {
                "code": str(100 + i),
                "name": text,
                "aliases": [text],
                "description": bad,
                "summary": text,
                "advice": bad,
                "category": "busy",
                "outcome": "expected_error",
                "vendor_category": text,
                "applies_to": [text],
                "origin": text,
                "platforms": [text],
                "documents": ["d1"],
                "seed_text": {"d1": text},
            }
            for i, text in enumerate(INJECTION)
        ],
    }
    folder = tmp_path / "cat"
    folder.mkdir()
    (folder / "evil.yaml").write_text(yaml.safe_dump(data, allow_unicode=False), encoding="utf-8")
    return folder


async def test_catalog_shows_hostile_catalog_text_literally(tmp_path):
    catalogs = build_catalogs([_hostile_catalog(tmp_path)])
    assert not catalogs.errors, catalogs.errors
    assert len(catalogs.entries("evil")) == len(INJECTION)
    app = Host(lambda: CatalogScreen(catalogs, query="vendor:evil"))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        table = screen.query_one("#catalog-table", DataTable)
        assert table.row_count == len(INJECTION)
        for row in range(len(INJECTION)):
            table.move_cursor(row=row)
            await pilot.pause()
            _assert_inert(screen)
        text = _screen_text(screen)
        assert "[@click=app.quit]X[/]" in text
        assert "[ bold red]spoof" in text
        # Click where a live @click span would be (every name cell; every column of one row): the app
        # keeps running.
        for row in range(table.row_count):
            await pilot.click(table, offset=(27, row + 1))
        for x in (2, 14, 40, 60, 80):
            await pilot.click(table, offset=(x, 1))
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        _assert_inert(screen)
        assert app.is_running and app.return_code is None
        assert isinstance(app.screen, CatalogScreen)


# ---------------------------------------------------------------------------------------- detail


def _event(**kw: Any) -> CallEnd:
    base: dict[str, Any] = dict(
        seq=12, ts=1752489729.338, vendor="acs", code="487", subcode="10003",
        reason=CATALOGS.lookup("acs", "487", "10003"), source="Participant", source_name="PARTICIPANT",
        call_id="c5a7e1d3-92b4-4f6e", call_type="1:1", message="caller hung up",
        format="acs.eventgrid", raw=(ROOT / "fixtures/acs/eventgrid_callended.json").read_text(),
    )
    base.update(kw)
    return CallEnd(**base)


async def test_detail_screen_shows_everything_and_closes():
    event = _event()
    app = Host(lambda: EventDetailScreen(event, CATALOGS))
    async with app.run_test(size=(120, 60)) as pilot:
        await pilot.pause()
        text = _screen_text(app.screen)
        reason = event.reason
        assert reason is not None and reason.entry is not None
        for fragment in ("Azure Communication Services", "487 / subcode 10003", reason.entry.name,
                         "Advice", "Who ended the call", "PARTICIPANT", "c5a7e1d3-92b4-4f6e",
                         "2025-07-14T10:42:09.338Z", "Equivalents in other vendors", "Raw payload",
                         '"eventType": "Microsoft.Communication.CallEnded"'):
            assert fragment in text, fragment
        await pilot.press("q")
        await pilot.pause()
        assert app.results == [None]


async def test_detail_escape_closes():
    app = Host(lambda: EventDetailScreen(_event(), CATALOGS))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None] and app.screen.query("#host")


def test_render_event_detail_unknown_and_no_reason():
    from rich.console import Console

    def plain(renderable: Any) -> str:
        console = Console(width=100, record=True, color_system=None)
        console.print(renderable)
        return console.export_text()

    unknown_event = _event(code="999", subcode="77", reason=CATALOGS.lookup("acs", "999", "77"))
    unknown = plain(render_event_detail(unknown_event, CATALOGS))
    assert "? 999/77" in unknown and "No catalog entry" in unknown and "Equivalents" not in unknown
    none = plain(render_event_detail(_event(code=None, subcode=None, reason=None, source=None), CATALOGS))
    assert "No reason delivered" in none and "The payload does not say." in none
    no_raw = plain(render_event_detail(_event(raw=""), CATALOGS))
    assert "(not kept)" in no_raw


def test_render_event_detail_masked():
    from rich.console import Console

    masker = Masker(b"k")
    console = Console(width=120, record=True, color_system=None)
    console.print(render_event_detail(_event(), CATALOGS, masker))
    text = console.export_text()
    assert "c5a7e1d3-92b4-4f6e" not in text
    assert masker.call_id("c5a7e1d3-92b4-4f6e") in text
    assert "Bob (callee)" not in text and "Raw payload (masked)" in text


def test_pretty_raw():
    assert pretty_raw('{"a": [1, 2]}') == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    assert pretty_raw('{"cut": "abc…[+40 chars]') == '{"cut": "abc…[+40 chars]'
    # An escaped ESC inside JSON stays an escape after pretty-printing.
    assert "\x1b" not in pretty_raw('{"m": "\\u001b[31mred"}')
    assert pretty_raw("") == ""


def _hostile_event() -> CallEnd:
    bad = " ".join(INJECTION)
    return CallEnd(
        seq=1, ts=0.0, vendor=INJECTION[0], code=INJECTION[2], subcode=INJECTION[1], reason=None,
        source=INJECTION[0], source_name=None, call_id=INJECTION[3], call_type=INJECTION[4],
        user_code=INJECTION[5], message=bad, format=INJECTION[6],
        raw=json.dumps({"message": bad, "esc": "\x1b[2J"}) + "\n" + bad,
    )


@pytest.mark.parametrize("masked", [False, True])
async def test_detail_shows_hostile_event_literally(masked):
    event = _hostile_event()
    app = Host(lambda: EventDetailScreen(event, CATALOGS, Masker(b"k") if masked else None))
    async with app.run_test(size=(160, 60)) as pilot:
        await pilot.pause()
        _assert_inert(app.screen)
        text = _screen_text(app.screen)
        assert "[ bold red]spoof" in text and "[/bold]" in text
        assert "\\x1b[31mred" in text or masked  # ESC shown as a visible escape
        scroll = app.screen.query_one("#event-detail")
        for y in range(0, 12):
            for x in (1, 15):
                await pilot.click(scroll, offset=(x, y))
        await pilot.pause()
        assert app.is_running and app.return_code is None
        # The screenshot is well-formed XML: no raw control character reached the output.
        ET.fromstring(app.export_screenshot())


# ---------------------------------------------------------------------------------------- help


def test_binding_rows_merge_keys_of_one_action():
    rows = binding_rows(
        [Binding("p,space", "pause", "Pause"), ("q", "quit", "Quit"), Binding("z", "internal", "")],
        "General",
    )
    assert rows == [("p, space", "Pause", "General"), ("q", "Quit", "General")]


def test_merge_rows_documented_first_and_textual_last():
    documented = [("enter", "Open the highlighted event", "Recent events")]
    generated = [
        ("tab", "Focus Next", TEXTUAL_GROUP),
        ("x, enter", "Export", "General"),
        ("enter", "Select", "General"),
    ]
    assert merge_rows(documented, generated) == [
        ("enter", "Open the highlighted event", "Recent events"),
        ("x", "Export", "General"),
        ("tab", "Focus Next", TEXTUAL_GROUP),
    ]


async def test_help_lists_documented_rows_and_every_binding():
    documented = [("enter", "Open the highlighted event", "Recent events"), ("/", "Filter events", "General")]
    app = Host(lambda: HelpScreen(documented))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        rows = screen.rows
        assert rows[0] == documented[0]
        keys = {key for key, _d, _g in rows}
        assert "x" in keys  # the host's binding, not documented: generated
        assert "^c" in keys and ("^c", "Quit", "General") in rows  # the app's priority ^c wins over copy
        table = screen.query_one("#help-table", DataTable)
        assert table.row_count == len(rows)
        assert "Export view" in _screen_text(screen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]


@pytest.mark.parametrize("key", ["escape", "q", "question_mark"])
async def test_help_closes(key):
    app = Host(lambda: HelpScreen())
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        assert app.results == [None]


async def test_help_rows_are_literal():
    app = Host(lambda: HelpScreen([(text, text, text) for text in INJECTION], include_bindings=False))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        _assert_inert(app.screen)
        assert "[@click=app.quit]X[/]" in _screen_text(app.screen)


# ---------------------------------------------------------------------------------------- invalid


def _invalid(n: int, **kw: Any) -> InvalidMessage:
    base = dict(seq=n, received=0.0, cause="bad_json", detail=f"Expecting value at {n}", snippet=f"{{oops {n}")
    base.update(kw)
    return InvalidMessage(**base)


async def test_invalid_screen_rows_append_and_bound():
    app = Host(lambda: InvalidScreen([_invalid(i) for i in range(1, 4)], max_rows=5))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InvalidScreen)
        table = screen.query_one("#invalid-table", DataTable)
        assert table.row_count == 3
        assert "Expecting value at 1" in _screen_text(screen)
        await pilot.press("down")
        await pilot.pause()
        assert "{oops 2" in _screen_text(screen)
        screen.append([_invalid(4)])
        assert table.row_count == 4 and screen.dropped == 0
        screen.append([_invalid(i) for i in range(5, 9)])
        await pilot.pause()
        assert table.row_count == 5 and screen.dropped == 3
        assert [item.seq for item in screen.items] == [4, 5, 6, 7, 8]
        assert "3 older not shown" in _screen_text(screen)
        screen.append([])
        await pilot.press("q")
        await pilot.pause()
        assert app.results == [None]


async def test_invalid_screen_empty_and_then_filled():
    app = Host(lambda: InvalidScreen())
    async with app.run_test() as pilot:
        await pilot.pause()
        assert "No invalid messages" in _screen_text(app.screen)
        app.screen.append([_invalid(9)])
        await pilot.pause()
        assert "Expecting value at 9" in _screen_text(app.screen)


async def test_invalid_screen_hostile_snippets():
    items = [_invalid(i, cause=text, detail=text, snippet=text) for i, text in enumerate(INJECTION, 1)]
    app = Host(lambda: InvalidScreen(items))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#invalid-table", DataTable)
        for row in range(len(items)):
            table.move_cursor(row=row)
            await pilot.pause()
            _assert_inert(app.screen)
            await pilot.click(table, offset=(14, row + 1))
        assert "[ @click=app.quit]ACK[/]" in _screen_text(app.screen)
        assert app.is_running and app.return_code is None


# ---------------------------------------------------------------------------------------- confirm / note


@pytest.mark.parametrize(
    "keys, result",
    [(["y"], True), (["n"], False), (["escape"], False), (["enter"], False), (["tab", "enter"], True)],
)
async def test_confirm(keys, result):
    app = Host(lambda: ConfirmScreen("Reset every counter?", confirm="Reset", cancel="Cancel"))
    async with app.run_test() as pilot:
        await pilot.pause()
        assert "Reset every counter?" in _screen_text(app.screen)
        await pilot.press(*keys)
        await pilot.pause()
        assert app.results == [result]


async def test_confirm_click_and_literal_question():
    app = Host(lambda: ConfirmScreen(INJECTION[0], confirm=INJECTION[1], cancel=INJECTION[2]))
    async with app.run_test() as pilot:
        await pilot.pause()
        _assert_inert(app.screen)
        assert "[@click=app.quit]X[/]" in _screen_text(app.screen)
        await pilot.click("#confirm-yes")
        await pilot.pause()
        assert app.results == [True]


async def test_note_returns_text_or_none():
    app = Host(lambda: NoteScreen("Bookmark note"))
    async with app.run_test() as pilot:
        await pilot.pause()
        assert isinstance(app.screen.focused, Input)
        await pilot.press(*"spike at 10:42", "enter")
        await pilot.pause()
        assert app.results == ["spike at 10:42"]

    app = Host(lambda: NoteScreen(initial="old"))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]


async def test_note_is_cleaned_and_initial_literal():
    app = Host(lambda: NoteScreen(INJECTION[0], initial="[/bold]"))
    async with app.run_test() as pilot:
        await pilot.pause()
        _assert_inert(app.screen)
        note = app.screen.query_one(Input)
        note.value = "  a\x1b[2Jb  "
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == ["a\\x1b[2Jb"]


async def test_buttons_are_real_buttons():
    app = Host(lambda: ConfirmScreen("?"))
    async with app.run_test() as pilot:
        await pilot.pause()
        assert len(app.screen.query(Button)) == 2
        assert app.screen.focused is app.screen.query_one("#confirm-no")
