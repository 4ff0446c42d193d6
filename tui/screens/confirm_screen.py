"""A yes/no question in a modal dialog (e.g. before `R` resets every counter)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.domain.sanitize import clean, clean_multiline

__all__ = ["ConfirmScreen"]


class ConfirmScreen(ModalScreen[bool]):
    """Ask `question`; dismiss with True (y, or the confirm button) or False (n, Esc, the cancel button).

    The cancel button has the focus, so Enter alone never confirms a destructive action.

    Args:
        question: the question, shown literally.
        confirm: the confirm button's label.
        cancel: the cancel button's label.
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "Cancel"),
    ]

    AUTO_FOCUS = "#confirm-no"

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
    }
    ConfirmScreen #confirm-dialog {
        width: 60;
        max-width: 90%;
        height: auto;
        border: round $warning;
        background: $surface;
        padding: 1 2;
    }
    ConfirmScreen #confirm-question {
        width: 1fr;
        margin-bottom: 1;
    }
    ConfirmScreen #confirm-buttons {
        height: auto;
        align: right middle;
    }
    ConfirmScreen Button {
        margin-left: 2;
    }
    """

    def __init__(self, question: str, *, confirm: str = "Yes", cancel: str = "No") -> None:
        super().__init__()
        self.question = question
        self.confirm_label = confirm
        self.cancel_label = cancel

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static(Content(clean_multiline(self.question, 2000)), id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button(Content(clean(self.confirm_label, 40)), variant="error", id="confirm-yes")
                yield Button(Content(clean(self.cancel_label, 40)), variant="primary", id="confirm-no")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, answer: bool) -> None:
        """Close with `answer`."""
        self.dismiss(bool(answer))
