"""App-wide messages. Never one per event: events reach the screen through `Aggregate.drain()` on a timer.

Only state *changes* of the feed travel as messages (a handful per connection, not per frame); a
latest-value message replaces an older one still waiting in the queue (`can_replace`), as in toolong.
"""

from __future__ import annotations

from textual.message import Message

from tui.ingest.raw import FeedStatus


class FeedStateChanged(Message):
    """The source entered a new state (live, reconnecting, stale, paused, finished, stopped...)."""

    def __init__(self, status: FeedStatus) -> None:
        super().__init__()
        self.status = status
        """The source's status when the change happened."""

    def can_replace(self, message: Message) -> bool:
        # Only the newest state matters: a burst of reconnect attempts collapses into one message.
        return isinstance(message, FeedStateChanged)


class IngestFailed(Message):
    """The ingest worker stopped with an error. The app stays usable and shows why."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error
        """A one-line description of the failure (already printable)."""
