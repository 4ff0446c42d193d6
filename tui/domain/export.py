"""Export what the dashboard shows: events and reason counts as CSV, JSON or Markdown, written to a file.

Pure Python (never imports textual). The text is built in memory (`export_events`, `export_reasons`)
and written by `write_export` under a timestamped name that never overwrites a file.

The exported values came from untrusted feeds and catalogs, and an export is opened in other tools,
so each format is made inert for its reader:

* CSV: a cell starting with ``= + - @`` (or tab / carriage return) is a formula in Excel, LibreOffice
  and Google Sheets (``=HYPERLINK(...)``, DDE ``=cmd|...``): it gets a leading ``'`` (OWASP "CSV
  injection"). Plain numbers such as PlanetKit's code ``-1`` are left alone: a number cannot run.
* Markdown: ``|`` would split a table cell and ``[...](...)``, ``<tag>``, backticks and emphasis would
  turn a value into a link or HTML: they are backslash-escaped; line breaks become spaces.
* JSON: always valid, and display-safe characters only (`safe_json_dumps`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tui.domain.model import CallEnd
# The one definition of the characters unsafe to display lives in sanitize.
from tui.domain.sanitize import _FORMAT, _SURROGATE

if TYPE_CHECKING:
    from tui.domain.mask import Masker

__all__ = [
    "FORMATS",
    "EVENT_COLUMNS",
    "REASON_COLUMNS",
    "export_events",
    "export_reasons",
    "write_export",
    "safe_json_dumps",
    "csv_cell",
    "markdown_cell",
    "format_time",
]

Format = Literal["csv", "json", "markdown"]
#: Supported formats and their file extensions.
FORMATS: dict[str, str] = {"csv": "csv", "json": "json", "markdown": "md"}

#: Columns of an event export, in order.
EVENT_COLUMNS: tuple[str, ...] = (
    "seq", "time", "vendor", "code", "subcode", "name", "known", "category", "outcome", "source",
    "source_name", "call_id", "call_type", "user_code", "message", "format",
)
#: Columns of a reason-count export, in order.
REASON_COLUMNS: tuple[str, ...] = (
    "count", "vendor", "name", "code", "subcode", "namespace", "known", "category", "outcome",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# `_` is left alone: GFM does not emphasise inside words, and CALL\_ENDED\_BY would be hard to read raw.
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|~])")
# json.dumps already escapes C0 controls; DEL, C1, format characters and lone surrogates can then only
# occur inside string literals, where a \uXXXX escape is valid JSON.
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_FORMAT}{_SURROGATE}]")


def safe_json_dumps(value: Any, *, indent: int | None = None) -> str:
    """`json.dumps` whose output is valid JSON *and* safe to display: characters a terminal would act
    on (DEL, C1 controls, bidi and zero-width format characters, U+2028/9) and lone surrogates are
    written as ``\\uXXXX`` escapes, while other non-ASCII text (names in any script) stays readable.
    Values json cannot encode are written with `str()`."""
    text = json.dumps(value, ensure_ascii=False, indent=indent, default=str)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def format_time(ts: float | None) -> str:
    """An event time as ISO 8601 UTC with milliseconds (`2025-07-14T10:41:02.120Z`); '' if unusable.

    UTC, not local time: an export is compared with vendor logs, which are in UTC, and the output must
    not depend on the machine that wrote it."""
    if ts is None:
        return ""
    try:
        dt = datetime.fromtimestamp(float(ts), tz=timezone.utc)
    except (OverflowError, OSError, ValueError, TypeError):
        return ""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def csv_cell(value: Any) -> str:
    """A value as a CSV cell that no spreadsheet evaluates as a formula."""
    text = _text(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def markdown_cell(value: Any) -> str:
    """A value as literal text inside a Markdown table cell."""
    text = _text(value).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def event_record(event: CallEnd, masker: Masker | None = None) -> dict[str, Any]:
    """One event as a flat dict with `EVENT_COLUMNS` keys (masked when a Masker is given)."""
    if masker is not None:
        event = masker.mask_event(event)
    reason = event.reason
    return {
        "seq": event.seq,
        "time": format_time(event.ts),
        "vendor": event.vendor,
        "code": event.code,
        "subcode": event.subcode,
        "name": reason.name if reason is not None else None,
        "known": event.known,
        "category": event.category,
        "outcome": event.outcome,
        "source": event.source,
        "source_name": event.source_name,
        "call_id": event.call_id,
        "call_type": event.call_type,
        "user_code": event.user_code,
        "message": event.message,
        "format": event.format,
    }


def reason_record(row: Any) -> dict[str, Any]:
    """One reason-count row (`aggregate.ReasonRow` or alike) as a dict with `REASON_COLUMNS` keys."""
    return {
        "count": getattr(row, "count", None),
        "vendor": getattr(row, "vendor", None),
        "name": getattr(row, "name", None) or getattr(row, "label", None),
        "code": getattr(row, "code", None),
        "subcode": getattr(row, "subcode", None),
        "namespace": getattr(row, "namespace", None),
        "known": getattr(row, "known", None),
        "category": getattr(row, "category", None),
        "outcome": getattr(row, "outcome", None),
    }


def _render(records: list[dict[str, Any]], columns: Sequence[str], fmt: str) -> str:
    if fmt == "json":
        return safe_json_dumps(records, indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180 line ends; csv quotes as needed
        writer.writerow(columns)
        for rec in records:
            writer.writerow([csv_cell(rec.get(c)) for c in columns])
        return out.getvalue()
    if fmt == "markdown":
        lines = [
            "| " + " | ".join(columns) + " |",
            "|" + "|".join("---" for _ in columns) + "|",
        ]
        for rec in records:
            lines.append("| " + " | ".join(markdown_cell(rec.get(c)) for c in columns) + " |")
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown export format {fmt!r} (use one of: {', '.join(FORMATS)})")


def export_events(events: Sequence[CallEnd], fmt: Format | str, *, masker: Masker | None = None) -> str:
    """Events as CSV (with a header row), a JSON list of objects, or a Markdown table, in the given
    order. With a `masker`, personal values are pseudonymised. Raises ValueError for an unknown fmt."""
    _check(fmt)
    return _render([event_record(e, masker) for e in events], EVENT_COLUMNS, fmt)


def export_reasons(rows: Sequence[Any], fmt: Format | str) -> str:
    """Reason-count rows (`Update.reasons`, already sorted) in the same three formats. Rows carry no
    personal values, so there is nothing to mask."""
    _check(fmt)
    return _render([reason_record(r) for r in rows], REASON_COLUMNS, fmt)


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (use one of: {', '.join(FORMATS)})")


_STEM_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def write_export(
    text: str,
    directory: Path | str,
    stem: str,
    fmt: Format | str,
    *,
    now: float | None = None,
) -> Path:
    """Write `text` to `<directory>/<stem>-<YYYYmmdd-HHMMSS>.<ext>` (UTC) and return the path.

    The directory is created if needed. An existing file is never overwritten: a clash (two exports in
    one second) adds ``-2``, ``-3``...; the file is created with O_EXCL, so a concurrent writer cannot
    race in between. `now` (Unix seconds) is for tests; default: the current time. Characters that
    cannot be encoded (lone surrogates) are written as escapes rather than failing the export.
    """
    _check(fmt)
    folder = Path(directory).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    safe_stem = _STEM_UNSAFE.sub("_", stem).strip("._") or "callwatch"
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    ext = FORMATS[fmt]
    data = text.encode("utf-8", errors="backslashreplace")
    for n in range(1, 10_000):
        suffix = "" if n == 1 else f"-{n}"
        path = folder / f"{safe_stem}-{stamp}{suffix}.{ext}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return path
    raise FileExistsError(f"no free file name for {safe_stem}-{stamp}.{ext} in {folder}")
