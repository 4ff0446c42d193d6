"""Generated inputs of the fault suite: numbered event streams, the flood, the poison corpus, catalog traps.

Every generated event carries a distinct id in its ``call_id`` (``s`` + 9 digits), so the harness can tell
from the ids a client received whether anything was lost, duplicated or reordered, without trusting the
counters it checks. Expected counts are computed here from what was written, never from callwatch.
"""

from __future__ import annotations

import base64
import gzip
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

#: The id every generated line carries (also the invalid ones), as text and as bytes.
ID_RE = re.compile(r'"call_id":"s(\d{9})"')
ID_RE_B = re.compile(rb'"call_id":"s(\d{9})"')

#: (envelope fields, what callwatch must count it as). All but the last two are catalogued reasons.
TEMPLATES: tuple[tuple[str, str], ...] = (
    ('"vendor":"acs","code":"0","subcode":"0","source":"MicrosoftInternal"', "known"),
    ('"vendor":"livekit","code":"CLIENT_INITIATED"', "known"),
    ('"vendor":"planetkit","code":"1001","source":"1"', "known"),
    ('"vendor":"jssip","code":"Busy","source":"remote"', "known"),
    ('"vendor":"acs","code":"487","subcode":"0"', "known"),
    ('"vendor":"planetkit","code":"1205"', "known"),
    ('"vendor":"acs","code":"410","subcode":"3101"', "known"),
    ('"vendor":"jssip","code":"Canceled","source":"local"', "known"),
    ('"vendor":"acs","code":"9999"', "unknown"),
    ('"vendor":"livekit","code":null', "no_reason"),
)


def event_text(i: int, ts: float) -> str:
    """One envelope event with id ``i`` (compact JSON, no newline)."""
    fields, _kind = TEMPLATES[i % len(TEMPLATES)]
    return '{"ts":%.6f,%s,"call_id":"s%09d"}' % (ts, fields, i)


def invalid_text(i: int) -> str:
    """A line that is not JSON but still carries its id (counted as bad_json)."""
    return '{"call_id":"s%09d", not json' % i


@dataclass
class Expected:
    """What a client must count for a stream: lines (= messages), events by kind, invalid by cause."""

    messages: int = 0
    events: int = 0
    unknown: int = 0
    no_reason: int = 0
    invalid: Counter[str] = field(default_factory=Counter)

    def add_event(self, i: int) -> None:
        self.events += 1
        kind = TEMPLATES[i % len(TEMPLATES)][1]
        if kind == "unknown":
            self.unknown += 1
        elif kind == "no_reason":
            self.no_reason += 1


def stream_lines(first: int, n: int, rate: float, start_ts: float, invalid_every: int = 0) -> Iterator[str]:
    """Lines ``first .. first+n-1`` of a stream paced at ``rate`` events per second from ``start_ts``."""
    for i in range(first, first + n):
        if invalid_every and i % invalid_every == 0:
            yield invalid_text(i)
        else:
            yield event_text(i, start_ts + (i - 1) / rate)


def expected_for(first: int, n: int, invalid_every: int = 0) -> Expected:
    """The counts of `stream_lines(first, n, ...)`."""
    exp = Expected(messages=n)
    for i in range(first, first + n):
        if invalid_every and i % invalid_every == 0:
            exp.invalid["bad_json"] += 1
        else:
            exp.add_event(i)
    return exp


def write_lines(path: Path, lines: Iterable[str | bytes]) -> Path:
    """Write lines (str or bytes) as JSON Lines; ``.gz`` names are gzipped (level 1: fast)."""
    opener = gzip.open(path, "wb", compresslevel=1) if path.name.endswith(".gz") else open(path, "wb")
    with opener as out:
        buf: list[bytes] = []
        for line in lines:
            buf.append(line.encode() if isinstance(line, str) else line)
            if len(buf) >= 4096:
                out.write(b"\n".join(buf) + b"\n")
                buf.clear()
        if buf:
            out.write(b"\n".join(buf) + b"\n")
    return path


def flood_lines(n_events: int, per_frame: int, seconds: float, start_ts: float) -> list[str]:
    """``n_events`` events as JSON arrays of ``per_frame`` events, frames evenly spread over ``seconds``."""
    frames = []
    step = seconds / n_events
    for first in range(1, n_events + 1, per_frame):
        ids = range(first, min(first + per_frame, n_events + 1))
        frames.append("[" + ",".join(event_text(i, start_ts + (i - 1) * step) for i in ids) + "]")
    return frames


# --------------------------------------------------------------------------------------------- poison

#: Payloads placed in every field of otherwise valid events. The escape-sequence ones end in a marker
#: no terminal program writes by itself, so the pty check can tell an injected sequence from Textual's.
HOSTILE: tuple[str, ...] = (
    "[bold red]SPOOF[/]",
    "[/bold] x",
    "[ bold red]SPOOF2",
    "[$error]X",
    "[ERROR] code=[42]",
    "[@click=app.quit]ACK[/]",
    "[ @click=app.quit]ACK2[/]",
    "[@click=app.screenshot('pwn.svg','/tmp')]SHOT[/]",
    "[link=https://evil.example]LNK[/link]",
    "\x1b[31mREDINJ\x1b[0m",
    "\x1b[2JCLR2J",
    "\x1b]0;pwned-title\x07",
    "\x1b]52;c;cHduZWQ=\x07",
    "\x1b]8;;http://evil.example/\x1b\\LINKINJ\x1b]8;;\x1b\\",
    "\x9b31mC1INJ",
    "GOOD\rBAD\bX",
    "OK\nhidden",
    "id-\u202ecod.exe",
    "a\u200bb",
    "$x \\ $",
)

#: Byte sequences that must never reach the terminal (each is an injected control sequence followed by
#: the start of its own payload: the app's own output never contains these).
INJECTED: tuple[bytes, ...] = (
    b"\x1b[31mREDINJ",
    b"\x1b[2JCLR2J",
    b"\x1b]0;pwned",
    b"\x1b]52;c;cHduZWQ",
    b"\x1b]8;;http://evil",
    b"\x1b\\LINKINJ",
    b"\xc2\x9b31mC1INJ",
    b"\x1b]0;raw-pwned",
)
#: Text that must be visible (escaped) on screen, proving the hostile values were rendered at all.
VISIBLE_MARKERS: tuple[bytes, ...] = (b"pwned", b"REDINJ", b"SPOOF")

FIELDS = ("code", "subcode", "call_id", "source", "call_type", "user_code", "message")


@dataclass(frozen=True)
class Poison:
    """One poison message: the websocket frame (str = text, bytes = binary), its JSON Lines form (None if
    a capture line cannot carry it) and what it must be counted as (``events`` or invalid causes)."""

    name: str
    frame: str | bytes
    line: bytes | None
    expect: dict[str, int]


def _ev(fields: dict[str, object]) -> str:
    return orjson.dumps(fields).decode()


def hostile_events(ts: float) -> list[tuple[str, str]]:
    """(name, JSON text) of valid events carrying the hostile payloads in every field."""
    out = []
    for j, h in enumerate(HOSTILE):
        fields: dict[str, object] = {"ts": ts + j * 0.01, "vendor": "acs"}
        fields.update({f: h for f in FIELDS})
        out.append((f"hostile fields #{j}", _ev(fields)))
        out.append((f"hostile vendor #{j}", _ev({"ts": ts + j * 0.01 + 0.005, "vendor": h, "code": h,
                                                  "message": h})))
    # Last: one event with a different payload in each field (the highlighted one at the end).
    mixed: dict[str, object] = {"ts": ts + 1.0, "vendor": "livekit"}
    mixed.update({f: HOSTILE[-(k + 3)] + " " + HOSTILE[9 + k % 6] for k, f in enumerate(FIELDS)})
    mixed["message"] = "".join(HOSTILE[9:15])
    out.append(("hostile mixed", _ev(mixed)))
    return out


def poison_corpus(ts: float, *, oversize: int = 2 << 20, big_field: int = 1_000_000) -> list[Poison]:
    """The poison mix, oversized frame last (it makes the client drop the connection)."""
    ok = {"events": 1}
    items: list[Poison] = []
    event = _ev({"ts": ts, "vendor": "acs", "code": "0", "subcode": "0", "call_id": "poison-ok"})
    items.append(Poison("plain event", event, event.encode(), ok))
    for name, text in hostile_events(ts):
        items.append(Poison(name, text, text.encode(), ok))
    raw_esc = b'{"vendor":"acs","code":"\x1b]0;raw-pwned\x07\x1b[2JCLR2J"}'
    items += [
        # First: it fills the list of recent invalid messages (1,000 kept); the hostile ones come after.
        Poison("10,001-element array", "[" + ",".join(["{}"] * 10_001) + "]",
               b"[" + b",".join([b"{}"] * 10_001) + b"]", {"unknown_format": 10_000, "too_many_elements": 1}),
        Poison("raw ESC/OSC bytes in a string", raw_esc.decode(), raw_esc, {"bad_json": 1}),
        Poison("non-UTF-8 bytes (binary frame)", b"\xff\xfe{\"vendor\":\"acs\xc3\x28\"}",
               b"\xff\xfe{\"vendor\":\"acs\xc3\x28\"}", {"not_utf8": 1}),
        Poison("valid event in a binary frame", event.encode(), None, ok),
        Poison("100,000-deep array", "[" * 100_000 + "]" * 100_000, b"[" * 100_000 + b"]" * 100_000,
               {"too_deep": 1}),
        Poison("100,000-deep object", '{"a":' * 100_000 + "1" + "}" * 100_000,
               b'{"a":' * 100_000 + b"1" + b"}" * 100_000, {"too_deep": 1}),
        Poison("5,000-digit number", '{"vendor":"acs","code":' + "9" * 5000 + "}",
               b'{"vendor":"acs","code":' + b"9" * 5000 + b"}", {"bad_json": 1}),
        Poison("5,000-digit number in an array", "[" + "1" * 5000 + "]", b"[" + b"1" * 5000 + b"]",
               {"bad_json": 1}),
        Poison("NaN", '{"vendor":"acs","code":NaN}', b'{"vendor":"acs","code":NaN}', {"bad_json": 1}),
        Poison("Infinity", '{"vendor":"acs","code":-Infinity}', b'{"vendor":"acs","code":-Infinity}',
               {"bad_json": 1}),
        Poison("BOM + event", "\ufeff" + event, b"\xef\xbb\xbf" + event.encode(), ok),
        Poison("BOM alone", "\ufeff", b"\xef\xbb\xbf", {"empty": 1}),
        Poison("empty frame", "", None, {"empty": 1}),
        Poison("whitespace frame", " \t \r\n ", None, {"empty": 1}),
        Poison("escaped lone surrogate", '{"vendor":"acs","code":"\\ud800"}',
               b'{"vendor":"acs","code":"\\ud800"}', {"bad_json": 1}),
        Poison("JSON string", '"[bold]hello\\u001b]0;pwned\\u0007"', b'"[bold]hello\\u001b]0;pwned\\u0007"',
               {"not_an_object": 1}),
        Poison("array of numbers", "[1,2]", b"[1,2]", {"not_an_object": 2}),
        Poison("empty array", "[]", b"[]", {"empty": 1}),
        Poison("unknown shape", '{"hello":"[red]world\\u001b[2JCLR2J"}', b'{"hello":"[red]world\\u001b[2JCLR2J"}',
               {"unknown_format": 1}),
        Poison("1 MB message field", _ev({"ts": ts, "vendor": "acs", "code": "0", "subcode": "0",
                                          "message": "\x1b]0;pwned" + "A" * big_field}),
               None, ok),
    ]
    recorded = base64.b64encode(b"\x1b]0;pwned-b64\x07 \xff not json").decode()
    items.append(Poison("binary recording line (raw_b64)", b"\x1b]0;pwned-b64\x07 \xff not json",
                        orjson.dumps({"callwatch_recording": 1, "received": ts, "frame": 1,
                                      "raw_b64": recorded}), {"not_utf8": 1}))
    big = '{"vendor":"acs","message":"' + "B" * oversize + '"}'
    items.append(Poison("oversized frame (2 MiB)", big, big.encode(), {"oversize": 1}))
    return items


def expected_poison(items: Iterable[Poison], *, lines: bool = False) -> Counter[str]:
    """The counts the corpus must produce (``lines``: its JSON Lines form, where oversize is too_large)."""
    total: Counter[str] = Counter()
    for item in items:
        if lines and item.line is None:
            continue
        for key, n in item.expect.items():
            total["too_large" if lines and key == "oversize" else key] += n
    return total


# --------------------------------------------------------------------------------------- catalog traps

GOOD_USER_CATALOG = """\
schema: "1"
vendor: planetkit
entries:
  - code: "9001"
    name: FAULT_SUITE_OK
    description: A user entry that must load next to the broken files.
    summary: Loaded.
    advice: Nothing to do.
    category: user_defined
    outcome: expected_error
"""

_ENTRY = """\
schema: "1"
vendor: planetkit
entries:
  - code: {code}
    name: TRAP
    description: d
    summary: s
    advice: a
    category: user_defined
    outcome: expected_error
"""


def catalog_traps() -> list[tuple[str, bytes, int | None, str]]:
    """(file name, content, expected line or None, expected words) of user catalogs that must be refused."""
    lol = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lol += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    return [
        ("anchor.yaml", b'schema: "1"\nvendor: acs\nentries: &e []\n', 3, "anchors"),
        ("alias.yaml", b'schema: "1"\nvendor: acs\nx: 1\nentries: *e\n', 4, "aliases"),
        ("billion-laughs.yaml", lol.encode(), 1, "anchors"),
        ("duplicate-key.yaml", b'schema: "1"\nvendor: acs\nvendor: livekit\nentries: []\n', 3, "duplicate key"),
        ("python-tag.yaml", b'schema: "1"\nvendor: !!python/object/apply:os.system ["echo pwned"]\n', 2, "tags"),
        ("deep.yaml", b'schema: "1"\nvendor: acs\nentries: ' + b"[" * 50_000 + b"]" * 50_000 + b"\n", 3,
         "nesting"),
        ("huge.yaml", b'schema: "1"\nvendor: acs\n# ' + b"x" * (1 << 20) + b"\nentries: []\n", None, "larger than"),
        ("octal-code.yaml", _ENTRY.format(code="0123").encode(), 4, "must be a string"),
        ("norway-code.yaml", _ENTRY.format(code="NO").encode(), 4, "must be a string"),
        ("sexagesimal-code.yaml", _ENTRY.format(code="1:30").encode(), 4, "must be a string"),
        ("syntax.yaml", b'schema: "1"\nvendor: acs\nentries: [1, 2\n', 4, "YAML"),
        ("not-utf8.yaml", b'schema: "1"\nvendor: \xff\xfe\n', 2, "UTF-8"),
        ("markup-name.yaml", _ENTRY.format(code='"1"').replace("category: user_defined",
                                                            "category: \"[@click=app.quit]x\\e]0;pwned\\a\"")
         .encode(), 4, "category"),
    ]
