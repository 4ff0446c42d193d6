"""tui.domain.sanitize: hostile text from feeds is made visible and bounded (reliability.md §1)."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tui.domain.sanitize import clean, clean_multiline

# The injection corpus of reliability.md §1.1-§1.5.
INJECTION = [
    "\x1b[31mREDINJ\x1b[0m",  # SGR colour
    "\x1b[2J",  # clear screen
    "\x1b]0;PWNED-TITLE\x07",  # OSC 0 window title
    "\x1b]8;;https://evil.example\x1b\\lnk\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x1b]52;c;aGVsbG8=\x07",  # OSC 52 clipboard write
    "\x9b31mC1-CSI",  # 8-bit CSI
    "GOOD\rBAD\bX",  # CR / BS hide tampering
    "OK\nsecret",  # newline hides the rest of a one-line cell
    "[bold]x[/bold]",
    "[/bold] x",
    "[@click=app.quit]ACK[/]",
    "[ @click=app.screenshot('x.svg','/tmp')]ACK[/]",
    "[link=https://evil.example]x[/link]",
    "abc\u202edcba",  # Trojan Source override
    "id\u200b1",  # zero-width space
    "\ud800lone",  # lone surrogate
]

FORBIDDEN = {chr(c) for c in range(0x20)} | {chr(0x7F)} | {chr(c) for c in range(0x80, 0xA0)}
BIDI_ZW = [
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x200E,
    0x200F,
    0x061C,
    0x200B,
    0x200C,
    0x200D,
    0x2060,
    0xFEFF,
]


def _unsafe(text: str, *, allow_newline: bool = False) -> list[str]:
    bad = []
    for ch in text:
        if allow_newline and ch == "\n":
            continue
        cat = unicodedata.category(ch)
        if ch in FORBIDDEN or cat in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            bad.append(ch)
    return bad


@pytest.mark.parametrize("payload", INJECTION)
def test_injection_corpus_has_no_control_chars_after_clean(payload: str) -> None:
    out = clean(payload)
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert _unsafe(out) == []
    out.encode("utf-8")  # never raises


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b[2J", "\\x1b[2J"),
        ("a\nb", "a\\nb"),
        ("a\rb", "a\\rb"),
        ("bell\x07", "bell\\x07"),
        ("del\x7f", "del\\x7f"),
        ("nul\x00", "nul\\x00"),
        ("c1\x85", "c1\\x85"),
        ("tab\there", "tab here"),
        ("abc\u202edcba", "abc<U+202E>dcba"),
        ("\u2066x\u2069", "<U+2066>x<U+2069>"),
        ("id\u200b1", "id<U+200B>1"),
        ("\ufeffbom", "<U+FEFF>bom"),
        ("a\u2028b", "a<U+2028>b"),
        ("\ud800x", "\ufffdx"),
        ("日本語 ok", "日本語 ok"),
        ("emoji 👍", "emoji 👍"),
    ],
)
def test_escapes(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_markup_stays_literal() -> None:
    # The UI renders via Text/Content; the sanitizer must not mangle or "escape" brackets.
    for s in ("[bold]x[/bold]", "[/bold]", "[@click=app.quit]ACK[/]", "[ERROR] code=[42]"):
        assert clean(s) == s


@pytest.mark.parametrize("cp", BIDI_ZW)
def test_every_listed_bidi_and_zero_width_char_is_visible(cp: int) -> None:
    assert clean(f"a{chr(cp)}b") == f"a<U+{cp:04X}>b"


def test_hardcoded_format_list_covers_this_pythons_unicode() -> None:
    # sanitize.py writes the Cf/Zl/Zp list out (scanning at import would be slow); prove it complete
    # for the Unicode version of the running interpreter.
    missing = [
        hex(c)
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) in ("Cf", "Zl", "Zp") and clean(chr(c)) == chr(c)
    ]
    assert missing == []


def test_multiline_keeps_newlines_only() -> None:
    assert clean_multiline("a\nb\r\nc\x1b[0m") == "a\nb\\r\nc\\x1b[0m"


def test_non_str_values() -> None:
    assert clean(17) == "17"
    assert clean(None) == "None"
    assert clean(b"ok\xff") == "ok\\xff"

    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    assert "Hostile" in clean(Hostile())


def test_cut_marker_and_bound() -> None:
    s = "x" * 1000
    out = clean(s, 100)
    assert len(out) <= 100
    assert out.startswith("x" * 50)
    assert out.endswith("…[+" + str(1000 - out.index("…")) + " chars]")
    assert clean("short", 100) == "short"
    assert clean(s, None) == s


def test_cut_huge_input_is_bounded_and_fast() -> None:
    s = ("\x1b[31m" + "y" * 10) * 100_000  # ~1.5 MB with escapes everywhere
    out = clean(s, 200)
    assert len(out) <= 200
    assert "…[+" in out
    assert _unsafe(out) == []


@settings(max_examples=500)
@given(st.text(alphabet=st.characters(codec=None)), st.integers(min_value=24, max_value=300))
@example("\x1b]0;t\x07", 24)
@example("\ud800" * 100, 30)
@example("[ @click=app.quit]ACK[/]", 500)
def test_properties(text: str, limit: int) -> None:
    out = clean(text, limit)
    assert _unsafe(out) == []
    out.encode("utf-8")
    assert len(out) <= limit
    assert clean(out, limit) == out  # idempotent
    if text.isascii() and text.isprintable() and len(text) <= limit:
        assert out == text
    multi = clean_multiline(text, limit)
    assert _unsafe(multi, allow_newline=True) == []
    assert len(multi) <= limit
    assert clean_multiline(multi, limit) == multi
