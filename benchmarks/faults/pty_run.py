"""Run a program under a real pseudo-terminal and keep every byte it writes to the terminal.

Used to prove that hostile feed text never reaches the terminal as an escape sequence (reliability.md
§1.4, R5): the app runs exactly as an operator runs it (``python -m tui replay FILE``, TERM=xterm-256color,
160x48), the harness types keys into it and searches the captured byte stream afterwards.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.faults.captures import HOSTILE

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class PtyResult:
    output: bytes
    exit_code: int | None
    """The exit status, or None if the program had to be killed."""
    seconds: float


def _child_env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALLWATCH_", "TEXTUAL_"))}
    env.update(TERM="xterm-256color", PYTHONPATH=str(ROOT), XDG_CONFIG_HOME=str(work / "no-config"),
               LANG="C.UTF-8", LC_ALL="C.UTF-8", COLORTERM="truecolor")
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    return env


def run_under_pty(argv: list[str], env: dict[str, str], *, keys: list[tuple[float, bytes]],
                  ready: bytes = b"", settle: float = 3.0, size: tuple[int, int] = (160, 48),
                  timeout: float = 40.0) -> PtyResult:
    """Start `argv` on a new pty of `size` (columns, rows); once `ready` has appeared in the output and
    `settle` seconds have passed, send each key after its delay; then read until the program exits.

    Bounded: after `timeout` seconds the program is killed (exit_code None)."""
    started = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:  # the child: size the terminal, then become the program
        try:
            cols, rows = size
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.chdir(ROOT)
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    out = bytearray()
    deadline = started + timeout
    exit_code: int | None = None

    def pump(seconds: float) -> bool:
        """Read for `seconds`; False once the program closed the terminal."""
        end = min(deadline, time.monotonic() + seconds)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return True
            try:
                readable, _, _ = select.select([fd], [], [], min(left, 0.05))
            except InterruptedError:
                continue
            if readable:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: the child side is closed
                    return False
                if not chunk:
                    return False
                out.extend(chunk)

    try:
        alive = True
        while alive and ready not in out and time.monotonic() < deadline:
            alive = pump(0.1)
        if alive:
            alive = pump(settle)
        for delay, key in keys:
            if not alive:
                break
            os.write(fd, key)
            alive = pump(delay)
        while time.monotonic() < deadline:
            if alive:
                alive = pump(0.2)
            else:
                time.sleep(0.05)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                exit_code = os.waitstatus_to_exitcode(status)
                if alive:
                    pump(0.2)
                pid = 0
                break
    finally:
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            exit_code = None
        os.close(fd)
    return PtyResult(bytes(out), exit_code, time.monotonic() - started)


#: After the replay has settled: the invalid messages, back, the highlighted event's detail, back, quit.
KEYS: list[tuple[float, bytes]] = [(1.2, b"i"), (1.0, b"q"), (1.2, b"\r"), (1.0, b"q"), (1.0, b"q")]


def run_replay_under_pty(capture: Path, work: Path, *, timeout: float = 40.0) -> PtyResult:
    """``python -m tui replay CAPTURE --speed max`` under a pty, browsing the views, then quitting."""
    argv = [sys.executable, "-m", "tui", "replay", str(capture), "--speed", "max"]
    return run_under_pty(argv, _child_env(work), keys=KEYS, ready=b"events", settle=3.0, timeout=timeout)


CONTROL_APP = '''\
from textual.app import App
from textual.widgets import Static

PAYLOADS = {payloads!r}


class Control(App):
    def compose(self):
        for p in PAYLOADS:
            yield Static(p, markup=False)

    def on_mount(self):
        self.set_timer(1.5, self.exit)


Control().run()
'''


def control_app_output(work: Path) -> bytes:
    """Negative control: a Textual app that shows the raw payloads with ``Static(markup=False)`` (no
    sanitizer). Under the same pty harness its output must contain the injected sequences; if it does
    not, the harness could not see a leak and the real check would prove nothing."""
    script = work / "control_app.py"
    script.write_text(CONTROL_APP.format(payloads=list(HOSTILE[9:14])))
    result = run_under_pty([sys.executable, str(script)], _child_env(work), keys=[], ready=b"", settle=0.0,
                           timeout=20.0)
    return result.output
