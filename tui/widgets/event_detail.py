"""`EventDetail`: the detail pane of the highlighted call end, beside the tables.

What it shows is `tui.screens.detail_screen.render_event_detail` (shared with the full-screen detail, so
the pane and the screen never disagree): vendor and raw code/subcode, the vendor's name, description,
advice, category, outcome, who ended the call (`Catalogs.source`), applicability, the other vendors'
equivalent reasons (`Catalogs.equivalents`) and the raw payload pretty-printed. Every value there is a
Rich `Text` made from a plain string: nothing from a feed or a catalog is parsed as markup.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.domain.catalog import Catalogs
from tui.domain.mask import Masker
from tui.domain.model import CallEnd
from tui.screens.detail_screen import render_event_detail


class EventDetail(VerticalScroll, can_focus=True):
    """The detail pane of the highlighted event (scrollable; Tab reaches it)."""

    DEFAULT_CSS = """
    EventDetail { height: 1fr; }
    EventDetail > Static { width: 1fr; }
    """

    def __init__(self, catalogs: Catalogs, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.catalogs = catalogs
        self.masker: Masker | None = None
        """Set when masking is on: ids and personal values are shown as pseudonyms."""
        self.event: CallEnd | None = None
        """The event shown (None: nothing highlighted yet)."""

    def compose(self) -> ComposeResult:
        yield Static(Content("No event yet: the highlighted disconnect is explained here."), id="detail-body")

    def show(self, event: CallEnd | None, force: bool = False) -> None:
        """Show `event` (no work when it is already shown, unless `force`)."""
        if event is self.event and not force:
            return
        self.event = event
        body = self.query_one("#detail-body", Static)
        if event is None:
            body.update(Content("No event highlighted."))
        else:
            body.update(render_event_detail(event, self.catalogs, self.masker))
