"""Make untrusted feed text safe to show: control, bidi and invisible characters made visible, length capped.

Every string that comes from a feed (codes, call ids, vendor messages, raw payloads) goes through
`clean()` (one-line fields) or `clean_multiline()` (raw payload views) once, at ingestion.

Why this exists (reliability.md §1.4-§1.6): Textual and Rich strip only BEL, BS, VT, FF and CR, so
ESC/CSI/OSC sequences in a payload would reach the terminal verbatim (colour spoofing, clearing the
screen, window titles, OSC 8 links, OSC 52 clipboard writes); bidi overrides reorder text (Trojan
Source); zero-width characters make two different ids look identical; a newline in a one-line cell
hides everything after it; lone surrogates crash any later `.encode("utf-8")` (logs, exports).
Markup such as ``[bold]`` or ``[@click=app.quit]`` is *not* touched: it stays literal text, and the UI
renders strings as ``Text``/``Content`` (never as markup), which is the defence for that class.

Properties (tested): the output contains no C0/C1/DEL, bidi, zero-width, line/paragraph separator or
surrogate character (except ``\\n`` in `clean_multiline`); it is always UTF-8-encodable; it is at most
``limit`` characters long (for any ``limit`` >= 24, which
fits the widest marker); and cleaning twice gives the same result as
cleaning once, so a layer that cleans an already clean string does no harm.
"""

from __future__ import annotations

import re

__all__ = ["clean", "clean_multiline", "DEFAULT_LIMIT", "MULTILINE_LIMIT"]

#: Default cap for one-line fields (codes, ids, messages).
DEFAULT_LIMIT = 500
#: Default cap for raw payload views.
MULTILINE_LIMIT = 8000

# Characters shown as a Python-style byte escape ("\x1b"): C0 controls, DEL and C1 controls
# (U+0080-U+009F includes the 8-bit CSI U+009B, which some terminals honour).
_CONTROL = "\x00-\x08\x0a-\x1f\x7f-\x9f"
# Characters shown as <U+XXXX>: every Unicode "format" (Cf) character plus the line and paragraph
# separators (Zl/Zp). Cf covers the bidi embeddings/overrides/isolates (U+202A-202E, U+2066-2069), the
# marks U+200E/F and U+061C, the zero-width characters U+200B-200D, U+2060 and U+FEFF, the soft hyphen
# and the invisible "tag" characters U+E0000 block used to smuggle hidden text. The list is the Cf
# category of Unicode 14-15 written out, because computing it at import would scan 1.1M code points;
# tests/test_sanitize.py checks it against the running Python's unicodedata.
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_SURROGATE = "\ud800-\udfff"

# Single-line: every control (newline included), tab, format character and surrogate.
_UNSAFE_LINE = re.compile(f"[\t{_CONTROL}{_FORMAT}{_SURROGATE}]")
# Multi-line: the same without "\n".
_UNSAFE_MULTI = re.compile(f"[\t\x00-\x09\x0b-\x1f\x7f-\x9f{_FORMAT}{_SURROGATE}]")

_NAMED = {"\n": "\\n", "\r": "\\r", "\x1b": "\\x1b"}


def _replacement(match: re.Match[str]) -> str:
    ch = match.group()
    o = ord(ch)
    if ch == "\t":
        # A tab is layout, not an attack; a space keeps column widths predictable.
        return " "
    if o < 0x20 or 0x7F <= o <= 0x9F:
        return _NAMED.get(ch) or f"\\x{o:02x}"
    if 0xD800 <= o <= 0xDFFF:
        # A lone surrogate cannot be encoded as UTF-8; U+FFFD is the conventional stand-in.
        return "\ufffd"
    return f"<U+{o:04X}>"


def _marker(dropped: int) -> str:
    return f"…[+{dropped} chars]"


def _cut(text: str, limit: int | None, total: int | None = None) -> str:
    """Cut already-safe `text` so that the result, marker included, is at most `limit` characters.

    `total` is the length of the full text when `text` is only a prefix of it (used when a huge input
    was shortened before escaping); the marker counts characters of the escaped text left out.
    """
    full = len(text) if total is None else total
    if limit is None or full <= limit:
        return text
    # The marker's width depends on the count it shows; size it for the largest possible count so
    # the result never exceeds `limit` (at worst it shows one character less than it could).
    keep = max(0, limit - len(_marker(full)))
    return text[:keep] + _marker(full - keep)


def _escape_and_cut(s: str, limit: int | None, pattern: re.Pattern[str]) -> str:
    if limit is not None and len(s) > 4 * limit + 64:
        # A huge input (a 1 MiB payload): escape only a prefix long enough to fill the limit. Each
        # character escapes to at least one character, so `limit` input characters always suffice;
        # the dropped count is then estimated from the unescaped remainder (an escape can only make
        # the true count larger, never smaller, so the marker never overstates what is shown).
        head = pattern.sub(_replacement, s[: limit + 1])
        return _cut(head, limit, len(head) + len(s) - (limit + 1))
    return _cut(pattern.sub(_replacement, s), limit)


def _to_str(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        # Show undecodable bytes as escapes rather than failing or hiding them.
        return bytes(value).decode("utf-8", errors="backslashreplace")
    try:
        return str(value)
    except Exception:  # a hostile __str__; repr is the last resort that still says what it was
        try:
            return repr(value)
        except Exception:
            return f"<unprintable {type(value).__name__}>"


def clean(value: object, limit: int | None = DEFAULT_LIMIT) -> str:
    """Return `value` as a display-safe, single-line string of at most `limit` characters.

    C0/C1 controls and DEL become visible escapes (``\\x1b``, ``\\n``, ``\\r``, ``\\x07``), a tab becomes
    a space, bidi/zero-width/other format characters and U+2028/2029 become ``<U+202E>``, lone
    surrogates become U+FFFD, and a longer text is cut with a ``…[+N chars]`` marker (N = characters
    left out). ``limit=None`` disables the cut. Bytes are decoded as UTF-8 with escapes for bad bytes.
    Pure and never raises.
    """
    s = value if type(value) is str else _to_str(value)
    # Fast path: most codes, ids and JSON lines are plain printable ASCII and need no escaping at all.
    # (Inlined checks: this runs several times per event on the ingest hot path.)
    if s.isascii() and s.isprintable():
        return s if limit is None or len(s) <= limit else _cut(s, limit)
    return _escape_and_cut(s, limit, _UNSAFE_LINE)


def clean_multiline(value: object, limit: int | None = MULTILINE_LIMIT) -> str:
    """Like `clean()`, but keeps ``\\n`` line breaks (for raw payload and detail views).

    ``\\r`` is still escaped: a bare carriage return would let a line overwrite the one shown before it.
    """
    s = value if type(value) is str else _to_str(value)
    if s.isascii() and s.isprintable():
        return s if limit is None or len(s) <= limit else _cut(s, limit)
    return _escape_and_cut(s, limit, _UNSAFE_MULTI)
