"""The dashboard: compose the panes, run the ingest worker, pull the counts on a timer, map the keys.

Events never travel as Textual messages. The ingest worker runs the source's `messages()` through
`Pipeline.feed` into the `Aggregate`; a 10 Hz timer pulls `Aggregate.drain()` and applies the `Update`
inside one `batch_update()`, so the cost of drawing grows with the frame rate, not the event rate.
Rendering lives in `tui/widgets/`; parsing and counting in `tui/domain/`; transports in `tui/ingest/`.

`create_app(settings)` is the one factory the CLI and the tests use.
"""

from __future__ import annotations

import asyncio
import gc
import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input
from textual.worker import Worker, WorkerState

from tui.domain.aggregate import Aggregate, Flag, Totals, Update
from tui.domain.bookmarks import BookmarkError, BookmarkStore, bookmarks_path
from tui.domain.catalog import Catalogs, load_catalogs
from tui.domain.export import export_events, export_reasons, write_export
from tui.domain.filter import Filter, parse_filter
from tui.domain.mask import Masker
from tui.domain.pipeline import Pipeline
from tui.domain.report import build_report, rolling_window, write_report
from tui.feeds import Feed, build_feed
from tui.ingest.raw import printable
from tui.ingest.replay import MAX_SPEED, MIN_SPEED, format_speed
from tui.messages import FeedStateChanged, IngestFailed
from tui.screens.catalog_browser import CatalogScreen
from tui.screens.confirm_screen import ConfirmScreen
from tui.screens.detail_screen import EventDetailScreen
from tui.screens.help_screen import HelpRow, HelpScreen
from tui.screens.invalid_screen import InvalidScreen
from tui.screens.note_screen import NoteScreen
from tui.settings import GROUPINGS, WINDOWS, Settings
from tui.widgets.event_detail import EventDetail
from tui.widgets.reason_table import WINDOW_SECONDS, ReasonTable, rows_for
from tui.widgets.recent_table import RecentTable
from tui.widgets.status_bar import StatusBar, StatusView

#: Messages fed between two yields to the event loop (a replay at max speed must not freeze the screen).
YIELD_EVERY = 128
#: While events arrive in bursts (at least BURST since the last drain), the least often the panes are
#: redrawn (one drain), their trends recomputed and the followed detail redrawn.
BURST = 20
DRAIN_EVERY_S = 0.2
TRENDS_EVERY_S = 1.0
DETAIL_EVERY_S = 0.5
#: Garbage-collector thresholds while the app runs (`tune_gc`): young collections every 50,000
#: allocations instead of 700, full ones rarer.
GC_THRESHOLD = (50_000, 20, 100)
#: ... which makes full collections so rare (none in a 10-minute soak) that garbage held in reference
#: cycles piles up: Textual's rendered strips reference themselves through their crop caches, and the
#: table caches keep them long enough to reach the oldest generation. The fault suite's 10-minute soak
#: at 5,000 events/s grew 191 MB; with one full collection every FULL_GC_EVERY_S, about 1 MB.
FULL_GC_EVERY_S = 10.0
#: Flags announced per refresh tick; more are summed up in one notification.
ANNOUNCE_LIMIT = 3
#: Actions reachable from click markup or anything else that is not our own key map: never needed by
#: the dashboard, dangerous if injected (reliability.md §1.2: screenshot writes files anywhere).
DENIED_ACTIONS = frozenset({"screenshot", "simulate_key", "suspend_process", "open_url", "deliver_screenshot"})

#: (title, help, action) for the command palette; every key action is here too.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Pause / resume", "replay: stop playback; live: freeze the display (p, space)", "toggle_pause"),
    ("Filter", "filter events: free text and field:value terms (/)", "filter"),
    ("Clear filter", "show every event again (Esc)", "clear_filter"),
    ("Step forward", "when paused: release or show the next event (])", "step(1)"),
    ("Step back", "when paused: go back one event (\\[)", "step(-1)"),
    ("Slower", "halve the replay speed ({)", "speed(0.5)"),
    ("Faster", "double the replay speed (})", "speed(2)"),
    ("Normal speed", "replay at 1× (Backspace)", "speed(1)"),
    ("Oldest event", "highlight the oldest event on screen (g)", "oldest"),
    ("Follow newest", "highlight the newest event and follow (G)", "newest"),
    ("Next abnormal disconnect", "next event whose outcome is not success (e)", "abnormal(1)"),
    ("Previous abnormal disconnect", "previous abnormal event (E)", "abnormal(-1)"),
    ("Cycle window", "1m / 5m / 15m / session (w)", "cycle_window"),
    ("Cycle grouping", "reason / category / outcome / vendor / source (b)", "cycle_group"),
    ("Event detail", "full-screen detail of the highlighted event (Enter)", "detail"),
    ("Invalid messages", "messages that could not be decoded (i)", "invalid"),
    ("Export view", "write the current view to a file (x)", "export"),
    ("Reset counters", "forget every count, after a confirmation (R)", "reset"),
    ("Toggle masking", "mask call ids and other identifiers", "toggle_mask"),
    ("Bookmark event", "mark the highlighted event with a note (m)", "bookmark"),
    ("Export incident report", "an HTML report of the current window and filter, with bookmarks",
     "export_report"),
    ("Catalog browser", "browse the vendor catalogs (c)", "catalog"),
    ("Help", "keys and what the panes show (?, F1)", "help"),
    ("Quit", "leave callwatch (q, ctrl+c)", "quit"),
)


#: Keys that are not bindings (or say more than a binding's description), for the help screen.
HELP_ROWS: tuple[HelpRow, ...] = (
    ("Enter", "full-screen detail of the highlighted event (Esc or q goes back)", "Panes"),
    ("↑ ↓ PgUp PgDn", "move in a table; leaving the top row stops following the newest", "Panes"),
    ("Tab / Shift+Tab", "next / previous pane: recent, reasons, detail", "Panes"),
    ("mouse", "click a row to highlight it, wheel to scroll; click the footer keys", "Panes"),
    ("/", "filter: free text and vendor: code: name: category: outcome: source: call: terms, "
          "! negates, * wildcard; Esc clears", "Filter"),
    ("p, Space", "pause: a replay stops; a live feed is still counted, the display freezes ('N new')", "Feed"),
    ("[ ]", "when paused: one event back / forward (replay), or move in the list (live)", "Feed"),
    ("{ } Backspace", "replay speed: halve, double, 1×", "Feed"),
    # Upper and lower case are different keys here; listed by hand because the help screen merges keys
    # case-insensitively (g and G would otherwise share one row).
    ("g  G", "oldest event on screen / newest, and follow new ones again", "View"),
    ("e  E", "next / previous abnormal disconnect (outcome not success)", "View"),
    ("w  b", "reason table: cycle window 1m/5m/15m/session, grouping reason/category/outcome/vendor/source",
     "View"),
    ("x", "export the focused view (recent events, or the reason counts) to a JSON file", "View"),
    ("R", "reset every counter (asks first)", "View"),
    ("m", "bookmark the highlighted event with a note; saved beside the capture or recording, shown in "
          "reports", "View"),
    ("ctrl+p", "command palette: every action by name", "General"),
)


def _term(field: str, value: str | None) -> str:
    if value is None:
        return ""
    return f'{field}:"{value}"' if any(c.isspace() or c in '"\\' for c in value) else f"{field}:{value}"


def drill_down_terms(group_by: str, row: Any) -> str:
    """The filter text that selects the events of one count row."""
    if group_by == "reason":
        if row.code is None:
            return f"{_term('vendor', row.vendor)} outcome:no_reason"
        if row.known and row.name:  # every spelling of the code counts under its catalog name
            return f"{_term('vendor', row.vendor)} {_term('name', row.name)}"
        code = row.code if row.subcode is None else f"{row.code}/{row.subcode}"
        return f"{_term('vendor', row.vendor)} {_term('code', code)}"
    if group_by in ("category", "outcome", "vendor", "source"):
        return _term(group_by, row.label)
    return ""


def tune_gc(freeze: bool) -> tuple[int, int, int]:
    """Shorter, rarer garbage-collector pauses while the dashboard runs; returns the previous thresholds.

    A replay at max speed or a fast live feed allocates millions of short-lived objects while keeping
    10,000 recent events (and hundreds of table rows) alive a little while; with the default thresholds
    full collections ran every second or so, each a 100-275 ms stall (benchmarks/app_bench.py; a 5,000
    events/s live feed fell behind and lost its keepalive). Young collections every 50,000 allocations
    and rarer full ones took the worst gap under 175 ms.

    `freeze` (the CLI: one app per process) also moves everything alive at start-up (catalogs, widgets,
    Textual itself) out of the full scans. Tests, which run many apps in one process, do not freeze.
    """
    previous = gc.get_threshold()
    if freeze:
        gc.collect()
        gc.freeze()
    gc.set_threshold(GC_THRESHOLD[0], GC_THRESHOLD[1], GC_THRESHOLD[2])
    return previous  # type: ignore[return-value]


class _Pass:
    """Where the ingest worker is in the current pass over a capture (for step back)."""

    __slots__ = ("fed", "last_seq", "skip_through")

    def __init__(self) -> None:
        self.fed = 0
        """Messages fed in this pass."""
        self.last_seq = 0
        self.skip_through = 0
        """After a step back: messages up to this seq were re-fed already and are dropped."""


class CallwatchApp(App[int]):
    """The callwatch dashboard."""

    CSS_PATH = "app.tcss"
    TITLE = "callwatch"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("q", "back_or_quit", "Quit"),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "escape", "Back", show=False),
        Binding("p,space", "toggle_pause", "Pause"),
        Binding("left_square_bracket", "step(-1)", "Step back", show=False),
        Binding("right_square_bracket", "step(1)", "Step", show=False),
        Binding("left_curly_bracket", "speed(0.5)", "Slower", show=False),
        Binding("right_curly_bracket", "speed(2)", "Faster", show=False),
        Binding("backspace", "speed(1)", "1×", show=False),
        Binding("g", "oldest", "Oldest", show=False),
        Binding("G", "newest", "Follow"),
        Binding("e", "abnormal(1)", "Next failure"),
        Binding("E", "abnormal(-1)", "Prev failure", show=False),
        Binding("w", "cycle_window", "Window"),
        Binding("b", "cycle_group", "Group"),
        Binding("enter", "detail", "Detail", show=False),
        Binding("i", "invalid", "Invalid"),
        Binding("x", "export", "Export"),
        Binding("m", "bookmark", "Bookmark", show=False),
        Binding("R", "reset", "Reset", show=False),
        Binding("c", "catalog", "Catalogs", show=False),
        Binding("question_mark,f1", "help", "Help"),
    ]

    recent: RecentTable
    reasons: ReasonTable
    detail: EventDetail
    status_bar: StatusBar
    filter_box: Input

    def __init__(self, settings: Settings, feed: Feed, *, catalogs: Catalogs | None = None,
                 clock: Callable[[], float] = time.time, on_tick: Callable[[CallwatchApp], None] | None = None,
                 export_dir: Path | None = None, tune_gc: bool = False) -> None:
        super().__init__()
        self.settings = settings
        self.feed = feed
        """The source and the controls its kind offers."""
        self.catalogs = catalogs if catalogs is not None else load_catalogs(settings.catalog_dirs)
        self.clock = clock
        """Wall clock (injected: tests and snapshots pass a fixed one)."""
        self.live = feed.kind != "replay"
        # Live: windows and flags follow arrival time (see Aggregate.rate_by_arrival); replay: event time.
        self.aggregate = Aggregate(clock=clock if self.live else None, rate_by_arrival=self.live)
        self.pipeline = Pipeline(self.catalogs, self.aggregate)
        self.window = settings.window
        self.group_by = settings.group_by
        self.filter: Filter = parse_filter("")
        self.paused = False
        """Live: the display is frozen while counting goes on. Replay: playback is paused."""
        self.masked = settings.mask
        self.ingest_error: str | None = None
        self.ticks = 0
        """Refresh ticks applied (the benchmark counts repaints with it)."""
        self.last_update: Update | None = None
        self.export_dir = export_dir or Path.cwd()
        self._bookmarks: BookmarkStore | None = None
        self.tune_gc = tune_gc
        """Also freeze the objects alive at start-up out of full collections (`tune_gc()`): the CLI does."""
        self._gc_thresholds = gc.get_threshold()
        self._on_tick = on_tick
        self._paused_events = 0
        self._pass = _Pass()
        self._refeeding = False
        self._rates: deque[tuple[float, int]] = deque(maxlen=64)
        self._trend_state: tuple[Any, ...] | None = None
        self._trend_wall = -math.inf
        self._reasons_dirty = False
        self._drain_wall = -math.inf
        self._drained = 0
        """`Aggregate.received` at the last drain."""
        self._detail_wall = -math.inf
        self.masker: Masker | None = None
        """Set while masking is on (one per session: pseudonyms stay stable when toggled)."""
        self._masker = Masker()
        self._quitting = False

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield RecentTable(self.settings.recent_rows, id="recent")
                yield ReasonTable(self.window, self.group_by, id="reasons")
            yield EventDetail(self.catalogs, id="detail")
        yield Input(placeholder="filter: text  vendor:acs  category:network  !outcome:success   (Esc clears)",
                    id="filter")
        yield Footer()

    def on_mount(self) -> None:
        # Held directly: the refresh tick must not query the DOM (cost, and a tick that lands while the
        # app is shutting down would find the widgets already removed).
        self.recent = self.query_one("#recent", RecentTable)
        self.reasons = self.query_one("#reasons", ReasonTable)
        self.detail = self.query_one("#detail", EventDetail)
        self.status_bar = self.query_one("#status", StatusBar)
        self.filter_box = self.query_one("#filter", Input)
        self.theme = self.settings.theme
        self.recent.border_title = "Recent disconnects"
        self._title_reasons()
        self.detail.border_title = "Detail"
        self._apply_mask()
        self.feed.source.on_status = lambda status: self.post_message(FeedStateChanged(status))
        self._timer = self.set_interval(1.0 / self.settings.refresh_hz, self.refresh_view, name="refresh")
        self.recent.focus()
        self._gc_thresholds = tune_gc(freeze=self.tune_gc)
        self.set_interval(FULL_GC_EVERY_S, self._full_collection, name="full-gc")
        self.run_ingest()
        for error in self.catalogs.errors[:5]:
            self.notify(error, title="catalog", severity="warning", markup=False, timeout=10)

    # ------------------------------------------------------------------ ingest

    @work(group="ingest", exclusive=True, exit_on_error=False, name="ingest")
    async def run_ingest(self) -> None:
        """Feed every message of the source to the pipeline (the only place the layers meet)."""
        feed = self.pipeline.feed
        state = self._pass
        replay = self.feed.replay
        n = 0
        async for raw in self.feed.source.messages():
            seq = raw.seq
            if state.skip_through:
                if seq <= state.skip_through:
                    if replay is not None and replay.paused:
                        replay.step(1)  # already re-fed: let the next one through
                    continue
                state.skip_through = 0
            elif seq <= state.last_seq:
                state.fed = 0  # a new pass (loop or seek): steps count from its start
            feed(raw)
            state.fed += 1
            state.last_seq = seq
            n += 1
            if n >= YIELD_EVERY:
                n = 0
                await asyncio.sleep(0)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "ingest" and event.state == WorkerState.ERROR:
            error = event.worker.error
            self.post_message(IngestFailed(f"{type(error).__name__}: {printable(str(error))}"))

    def on_ingest_failed(self, message: IngestFailed) -> None:
        self.ingest_error = message.error
        self.notify(message.error, title="feed failed", severity="error", markup=False, timeout=15)

    def on_feed_state_changed(self, message: FeedStateChanged) -> None:
        status = message.status
        # The status bar always shows the state; only a stop (the feed will not come back by itself)
        # is worth a notification. A finished replay is normal and stays quiet.
        if status.state == "stopped" and status.detail and not self._quitting:
            self.notify(status.detail, title="feed stopped", severity="error", markup=False, timeout=10)

    # ------------------------------------------------------------------ refresh

    def refresh_view(self) -> None:
        """One tick: pull what changed and apply it to every pane in one batch."""
        if self._quitting or not self.is_running:
            # Also when the app is shut down without exit() (App.run_test leaving its block, a signal):
            # a tick during that teardown found the detail pane's children already removed (NoMatches,
            # the app crashed at the end of a fault-suite soak).
            return
        now = self.clock()
        aggregate = self.aggregate
        if self.paused and self.live:
            self._show_status(aggregate.totals(), now)  # counting goes on; the panes are frozen
            return
        # In a burst the panes are redrawn at most every DRAIN_EVERY_S: rows scrolling by 10 times a
        # second cannot be read, and each redraw re-renders every visible cell. The counts in the status
        # bar stay live. The next drain hands out the newest rows and counts the rest as not listed.
        wall = time.monotonic()
        waiting = aggregate.received - self._drained
        if waiting >= BURST and wall - self._drain_wall < DRAIN_EVERY_S:
            self._show_status(aggregate.totals(), now)
        else:
            update = aggregate.drain(now=now if self.live else None, max_events=self.recent.limit)
            self._drained, self._drain_wall = update.totals.received, wall
            with self.batch_update():
                self._apply(update)
                self._show_status(update.totals, now)
        self.ticks += 1
        if self._on_tick is not None:
            self._on_tick(self)

    def _apply(self, update: Update) -> None:
        self.last_update = update
        events = update.new_events
        if events and self.filter.active:
            events = tuple(e for e in events if self.filter.matches(e))
        recent = self.recent
        reasons = self.reasons
        reasons.note_flags(update.new_flags, update.active_flags, update.now)
        # Bursts are held back in refresh_view (one drain every DRAIN_EVERY_S); within a drain, the
        # trends (bucket reads) and the followed detail (a long render) are redrawn less often still while
        # events pour in, and catch up on the first quiet tick, so a paused or finished feed always
        # shows its last state.
        wall = time.monotonic()
        busy = len(update.new_events) >= BURST
        recent.add_events(events)
        self._reasons_dirty |= update.tables_changed or bool(update.new_flags)
        state = (update.now, update.totals.events, self.window, self.group_by, self.filter.text)
        trends_due = state != self._trend_state and (
            not update.new_events or wall - self._trend_wall >= TRENDS_EVERY_S)
        if trends_due or self._reasons_dirty:
            self._reasons_dirty = False
            if trends_due:
                self._trend_state, self._trend_wall = state, wall
            self._show_reasons(update, trends=trends_due)
        self._announce(update.new_flags)
        if recent.following:
            event = recent.current_event()
            if event is not self.detail.event and (not busy or wall - self._detail_wall >= DETAIL_EVERY_S):
                self._detail_wall = wall
                self.detail.show(event)
        if update.new_invalid and isinstance(self.screen, InvalidScreen):
            self.screen.dropped += update.dropped_invalid
            self.screen.append(update.new_invalid)
        # Counts are exact; only rows are dropped, and the title says how many (events that arrived
        # faster than the screen refreshes were counted but never listed).
        dropped = update.totals.dropped_from_display + recent.trimmed
        title = (f"Recent disconnects ({recent.row_count:,}"
                 + (f" · {dropped:,} not listed: too fast" if dropped else "") + ")"
                 + ("" if recent.following else " · not following: G follows"))
        if title != recent.border_title:
            recent.border_title = title

    def _show_reasons(self, update: Update | None = None, trends: bool = False) -> None:
        update = update or self.last_update
        if update is None:
            return
        keep = self.filter.matches_row if self.filter.active else None
        rows = rows_for(update, self.window, self.group_by, self.aggregate.windows, keep)
        self.reasons.show(rows, self.aggregate if trends else None)

    def _title_reasons(self) -> None:
        self.reasons.border_title = f"Reasons · window {self.window} (w) · by {self.group_by} (b)"

    def _announce(self, flags: Iterable[Flag]) -> None:
        flags = list(flags)
        for flag in flags[:ANNOUNCE_LIMIT]:
            if flag.kind == "spike":
                text = f"▲ spike: {flag.label} ({flag.vendor}): {flag.count} in the last minute"
                self.notify(text, title="spike", severity="warning", markup=False)
            else:
                self.notify(f"★ first seen: {flag.label} ({flag.vendor})", title="new reason", markup=False)
        if len(flags) > ANNOUNCE_LIMIT:
            self.notify(f"{len(flags) - ANNOUNCE_LIMIT} more flags (▲ spikes / ★ new reasons) in the table",
                        markup=False)

    def _show_status(self, totals: Totals, now: float) -> None:
        rates = self._rates
        rates.append((now, totals.events))
        while len(rates) > 2 and now - rates[1][0] >= 2.0:
            rates.popleft()
        first_t, first_n = rates[0]
        rate = (totals.events - first_n) / (now - first_t) if now > first_t else None
        status = self.feed.source.status
        retry = None
        if status.retry_in is not None:
            retry = status.since + status.retry_in - time.time()
        replay = self.feed.replay
        paused = replay.paused if replay is not None else self.paused
        position = status.position
        if position is None and replay is not None and self.last_update is not None:
            position = self.last_update.now  # at max speed the replay updates its position rarely
        self.status_bar.show(StatusView(
            kind=self.feed.kind, origin=status.origin, state=status.state, detail=status.detail,
            retry_in=retry, position=position,
            speed=format_speed(status.speed) if replay is not None else None,
            paused=paused, new_while_paused=max(0, totals.events - self._paused_events) if self.paused else 0,
            rate=rate, totals=totals, filter_text=self.filter.text if self.filter.active else "",
            filter_error=self.filter.error, error=self.ingest_error, masked=self.masked,
            outages=status.outages, oversize=status.oversize))

    # ------------------------------------------------------------------ actions: feed

    def action_toggle_pause(self) -> None:
        """Replay: pause/resume playback. Live: freeze/unfreeze the display; counting goes on."""
        replay = self.feed.replay
        if replay is not None:
            self.paused = replay.toggle_pause()
        else:
            self.paused = not self.paused
            self._paused_events = self.aggregate.events
        self.screen.set_class(self.paused, "-paused")
        self._show_status(self.aggregate.totals(), self.clock())

    def action_step(self, direction: int) -> None:
        """`]` one event forward, `[` one back (replay, while paused); live: move through the list."""
        replay = self.feed.replay
        if replay is None:
            self.recent.move_cursor(row=max(0, self.recent.cursor_row + (1 if direction < 0 else -1)))
            return
        if not replay.paused:
            self.notify("pause first (p): steps work on a paused replay", markup=False)
            return
        if self._refeeding:
            return
        if direction > 0:
            replay.step(1)
        elif self.feed.capture is None:
            self.notify("cannot step back in standard input", severity="warning", markup=False)
        elif self._pass.fed <= 1:
            self.notify("at the start of the capture", markup=False)
        else:
            self._step_back(self._pass.fed - 1, replay.status.position)

    @work(group="refeed", exclusive=True, exit_on_error=False)
    async def _step_back(self, target: int, position: float | None) -> None:
        """Reset the counts and re-feed the first `target` messages unpaced, then resume from there."""
        replay = self.feed.replay
        assert replay is not None and self.feed.capture is not None
        self._refeeding = True
        try:
            self._reset_view()
            feed = self.pipeline.feed
            last = 0
            for i, raw in enumerate(self.feed.capture()):
                if i >= target:
                    break
                feed(raw)
                last = raw.seq
                if i % 512 == 511:
                    await asyncio.sleep(0)
            self._pass.fed, self._pass.last_seq, self._pass.skip_through = target, last, last
            replay.seek(position if position is not None else -math.inf)
            self.refresh_view()
        finally:
            self._refeeding = False

    def action_speed(self, factor: float) -> None:
        """`{` halves, `}` doubles the replay speed, Backspace sets 1×."""
        replay = self.feed.replay
        if replay is None:
            return
        if factor == 1:
            speed = 1.0
        elif replay.speed == math.inf:
            speed = MAX_SPEED if factor < 1 else math.inf
        else:
            speed = replay.speed * factor
            speed = math.inf if speed > MAX_SPEED else max(MIN_SPEED, speed)
        replay.set_speed(speed)
        self._show_status(self.aggregate.totals(), self.clock())

    # ------------------------------------------------------------------ actions: view

    def action_oldest(self) -> None:
        self.recent.goto_oldest()
        self.recent.focus()

    def action_newest(self) -> None:
        self.recent.follow()
        self.recent.focus()
        self.detail.show(self.recent.current_event())

    def action_abnormal(self, direction: int) -> None:
        if not self.recent.next_abnormal(older=direction > 0):
            self.notify("no abnormal disconnect further " + ("down" if direction > 0 else "up"), markup=False)
        self.recent.focus()

    def action_cycle_window(self) -> None:
        self.window = WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]
        self._reconfigure_reasons()

    def action_cycle_group(self) -> None:
        self.group_by = GROUPINGS[(GROUPINGS.index(self.group_by) + 1) % len(GROUPINGS)]
        self._reconfigure_reasons()

    def _reconfigure_reasons(self) -> None:
        self.reasons.configure(self.window, self.group_by)
        self._title_reasons()
        self._trend_state = None
        self._show_reasons(trends=True)

    def action_filter(self) -> None:
        box = self.filter_box
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.filter_box
        box.value = ""
        box.display = False
        self._set_filter("")
        self.recent.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.recent.focus()

    def _set_filter(self, text: str) -> None:
        new = parse_filter(text)
        if new.text == self.filter.text and new.error == self.filter.error:
            return
        self.filter = new
        keep = new.matches if new.active else None
        events = self.aggregate.recent
        self.recent.replace_events(events if keep is None else (e for e in events if keep(e)))
        self._show_reasons()
        self.detail.show(self.recent.current_event())
        self._show_status(self.aggregate.totals(), self.clock())

    def action_escape(self) -> None:
        """Esc: clear the filter (screens opened on top close themselves with Esc)."""
        self.action_clear_filter()

    def action_back_or_quit(self) -> None:
        """`q`: back out of whatever is open (a screen, the filter box), then quit."""
        if len(self.screen_stack) > 1:
            self.pop_screen()
        elif self.filter_box.display:
            self.action_clear_filter()
        else:
            self.exit(0)

    def action_invalid(self) -> None:
        """`i`: the messages that could not be decoded (new ones are appended while it is open)."""
        screen = InvalidScreen(self.aggregate.recent_invalid)
        # The aggregate keeps the newest invalid messages only: the screen says how many it cannot list.
        screen.dropped = max(0, self.aggregate.invalid - len(screen.items))
        self.push_screen(screen)

    def action_detail(self) -> None:
        """Enter: the highlighted event full screen."""
        event = self.recent.current_event()
        if event is None:
            self.notify("no event highlighted", markup=False)
            return
        self.push_screen(EventDetailScreen(event, self.catalogs, self.masker))

    @on(DataTable.RowSelected, "#recent")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_detail()

    @on(DataTable.RowSelected, "#reasons")
    def _reason_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a count row: filter the events down to it (Esc clears)."""
        row = self.reasons.current_row()
        if row is None:
            return
        terms = drill_down_terms(self.group_by, row)
        if terms:
            self.filter_box.value = terms
            self.filter_box.display = True
            self.recent.focus()

    @on(RecentTable.EventHighlighted)
    def _event_highlighted(self, message: RecentTable.EventHighlighted) -> None:
        self.detail.show(message.event)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(HELP_ROWS, title="callwatch keys"))

    def action_catalog(self) -> None:
        self.push_screen(CatalogScreen(self.catalogs))

    def action_toggle_mask(self) -> None:
        self.masked = not self.masked
        self._apply_mask()
        self._show_status(self.aggregate.totals(), self.clock())

    def _apply_mask(self) -> None:
        self.masker = self._masker if self.masked else None
        self.recent.masker = self.masker
        self.detail.masker = self.masker
        self.recent.replace_events(self.recent.events[::-1])
        self.detail.show(self.recent.current_event(), force=True)

    def action_export(self) -> None:
        """`x`: write the focused view (the reason counts when that table has the focus, else the recent
        events, filter and masking applied) to a JSON file, and say which."""
        try:
            if self.focused is self.reasons:
                text = export_reasons(self.reasons.display_rows, "json")
                stem = f"callwatch-reasons-{self.window}-by-{self.group_by}"
            else:
                text = export_events(self.recent.events, "json", masker=self.masker)
                stem = "callwatch-events"
            path = write_export(text, self.export_dir, stem, "json", now=self.clock())
        except (OSError, ValueError) as exc:
            self.notify(f"export failed: {getattr(exc, 'strerror', None) or exc}", severity="error",
                        markup=False)
            return
        self.notify(f"exported to {path}", title="export", markup=False, timeout=10)

    def _bookmark_store(self) -> BookmarkStore:
        """The bookmarks of this source: beside the capture or the recording; in memory for a live feed
        without --record or for stdin. Loaded on first use; a damaged file is reported, never fatal."""
        if self._bookmarks is None:
            target = self.settings.record or (self.settings.capture if self.feed.kind == "replay" else None)
            self._bookmarks = BookmarkStore(bookmarks_path(target) if target is not None else None)
            if self._bookmarks.error:
                self.notify(self._bookmarks.error, severity="warning", markup=False)
        return self._bookmarks

    def action_bookmark(self) -> None:
        """`m`: bookmark the highlighted event, with an optional note."""
        event = self.recent.current_event()
        if event is None:
            self.notify("no event highlighted", markup=False)
            return

        def noted(note: str | None) -> None:
            if note is None:
                return
            store = self._bookmark_store()
            store.add(event, note)
            try:
                store.save()
            except BookmarkError as exc:
                self.notify(f"bookmark kept in memory only: {exc}", severity="error", markup=False)
                return
            where = f" in {store.path}" if store.path is not None else " (in memory: no capture file)"
            self.notify(f"bookmarked line {event.seq}{where}", title="bookmark", markup=False)

        self.push_screen(NoteScreen(f"Bookmark line {event.seq}: {event.reason_name}"), noted)

    def action_export_report(self) -> None:
        """Palette: the incident report (HTML) for the current window and filter, with the bookmarks."""
        try:
            report = build_report(
                self.aggregate,
                self._bookmark_store().bookmarks,
                catalogs=self.catalogs,
                filter=self.filter if self.filter.active else None,
                window=rolling_window(WINDOW_SECONDS.get(self.window), self.aggregate.head),
                title="Incident report",
                source_name=self.feed.origin,
                generated=self.clock(),
                mask=self.masker.mask_event if self.masker is not None else None,
            )
            path = write_report(report, self.export_dir, "html")
        except (OSError, ValueError) as exc:
            self.notify(f"report failed: {getattr(exc, 'strerror', None) or exc}", severity="error",
                        markup=False)
            return
        self.notify(f"incident report written to {path}", title="report", markup=False, timeout=10)

    def action_reset(self) -> None:
        """`R`: forget every count (the feed goes on), after a confirmation."""

        def answered(yes: bool | None) -> None:
            if yes:
                self._reset_view()
                self.notify("counters reset", markup=False)

        self.push_screen(ConfirmScreen("Reset every counter and clear the tables?\nThe feed goes on.",
                                       confirm="Reset", cancel="Keep"), answered)

    def _reset_view(self) -> None:
        self.aggregate.reset()
        self._drained = 0
        self._rates.clear()
        self._paused_events = 0
        self.recent.replace_events(())
        self.reasons.reset_flags()
        self.reasons.show([])
        self.detail.show(None)
        self.last_update = None
        self._trend_state = None

    # ------------------------------------------------------------------ app hooks

    def _full_collection(self) -> None:
        """See FULL_GC_EVERY_S: what the raised thresholds no longer collect."""
        gc.collect()

    def on_unmount(self) -> None:
        gc.set_threshold(*self._gc_thresholds)  # as the process had them (tests run many apps)

    def exit(self, *args: Any, **kwargs: Any) -> None:
        # The source reports "stopped" as it is closed (not news), and a refresh tick that lands
        # during shutdown must not touch widgets being removed: refresh_view() checks this flag.
        self._quitting = True
        super().exit(*args, **kwargs)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Defence in depth: actions the dashboard never needs are refused whatever asks for them."""
        if action in DENIED_ACTIONS:
            return False
        return True

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, help_text, action in COMMANDS:
            yield SystemCommand(title, help_text, lambda action=action: self.run_action(action))


def create_app(settings: Settings, *, feed: Feed | None = None, catalogs: Catalogs | None = None,
               clock: Callable[[], float] = time.time, **kwargs: Any) -> CallwatchApp:
    """The one App factory (CLI and tests): the source `settings` ask for, unless `feed` is given."""
    return CallwatchApp(settings, feed if feed is not None else build_feed(settings), catalogs=catalogs,
                        clock=clock, **kwargs)
