"""A one-line text prompt in a modal dialog: returns the note typed, or None when cancelled."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.domain.sanitize import clean

__all__ = ["NoteScreen"]

#: Longest note accepted (characters).
MAX_NOTE = 500


class NoteScreen(ModalScreen["str | None"]):
    """Ask for a short note (a bookmark's label). Enter returns the text (cleaned, possibly ""),
    Esc returns None, so the caller can tell "no note" from "cancelled".

    Args:
        title: the prompt, shown literally.
        initial: text already in the box (editing an existing note).
        placeholder: grey hint shown while the box is empty.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    AUTO_FOCUS = "#note-input"

    DEFAULT_CSS = """
    NoteScreen {
        align: center middle;
    }
    NoteScreen #note-dialog {
        width: 70;
        max-width: 95%;
        height: auto;
        border: round $primary;
        background: $surface;
        padding: 1 2;
    }
    NoteScreen #note-title {
        margin-bottom: 1;
    }
    NoteScreen #note-hint {
        color: $text-muted;
        margin-top: 1;
    }
    """

    def __init__(self, title: str = "Note", *, initial: str = "", placeholder: str = "what happened here?") -> None:
        super().__init__()
        self.prompt = title
        self.initial = initial
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="note-dialog"):
            yield Static(Content(clean(self.prompt, 200)), id="note-title")
            yield Input(
                clean(self.initial, MAX_NOTE),
                placeholder=clean(self.placeholder, 200),
                max_length=MAX_NOTE,
                id="note-input",
            )
            yield Static(Content("Enter saves · Esc cancels"), id="note-hint")

    @on(Input.Submitted, "#note-input")
    def _submitted(self, event: Input.Submitted) -> None:
        # Pasted text can carry control characters: keep the note display-safe.
        self.dismiss(clean(event.value.strip(), MAX_NOTE))

    def action_cancel(self) -> None:
        """Close without a note."""
        self.dismiss(None)
