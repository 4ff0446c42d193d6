"""Under a real pseudo-terminal, hostile feed text never reaches the terminal as an escape sequence
(reliability.md §1.4, R5).

`python -m tui replay poison.jsonl --speed max` runs exactly as an operator runs it (TERM=xterm-256color,
160x48); the harness opens the invalid messages and the detail of the highlighted event, quits with
`q`, and searches every byte the app wrote for the injected sequences (OSC 0 title, OSC 52 clipboard,
OSC 8 link, ESC[2J, SGR colour, 8-bit CSI), each followed by a marker Textual never writes. A negative
control shows the same harness does see them when a widget prints the payloads unsanitized.
"""

from __future__ import annotations

import sys

import pytest

from benchmarks import soak
from benchmarks.faults import captures as cap
from benchmarks.faults.pty_run import control_app_output

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pty")


def test_replay_under_a_pty_emits_none_of_the_injected_sequences(tmp_path):
    rows = soak.pty_poison(tmp_path, control=False)
    table = soak.render_table(rows)
    print("\n" + table)
    assert all(r.status == "pass" for r in rows), table


def test_negative_control_the_harness_sees_unsanitized_output(tmp_path):
    out = control_app_output(tmp_path)
    for sequence in cap.INJECTED[:5]:
        assert sequence in out, sequence
