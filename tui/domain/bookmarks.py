"""Bookmarks: events an operator marked during an incident, with a note, saved beside the capture.

Pure Python (never imports textual). A capture or recording `calls.jsonl` gets `calls.jsonl.bookmarks.json`:

    {"callwatch_bookmarks": 1, "bookmarks": [
      {"seq": 812, "ts": 1752489662.0, "vendor": "planetkit", "code": "1203", "subcode": null,
       "name": "MEDIA_TIMEOUT", "note": "first one after the deploy", "created": 1752490001.5}]}

Why it is built this way:

* Saving is atomic (a temporary file in the same directory, fsync, `os.replace`): a crash or a full
  disk never leaves half a file behind.
* Several dashboards can bookmark the same capture at once (`callwatch web` runs one per browser):
  `save()` re-reads the file under a lock and merges, so no one's bookmarks are lost.
* The file is input like any other: it may be corrupt, huge or hostile. Loading never raises; the
  problem is kept in `error` for the UI to show, bad entries are skipped and counted, every string is
  sanitized, and a corrupt file is moved aside (`.corrupt`), never overwritten, before the next save.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.domain.model import CallEnd
from tui.domain.sanitize import clean

__all__ = ["Bookmark", "BookmarkError", "BookmarkStore", "atomic_write", "bookmarks_path", "SUFFIX"]

#: Appended to the capture's file name.
SUFFIX = ".bookmarks.json"
FORMAT = 1
#: Larger files are refused (reported), not read.
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_BOOKMARKS = 10_000
NOTE_LIMIT = 500
_FIELD_LIMIT = 200


class BookmarkError(Exception):
    """Saving failed (permissions, disk full...): one clear line for the UI."""


@dataclass(frozen=True, slots=True)
class Bookmark:
    """One marked event: where it is in the source, what it was, and the operator's note."""

    seq: int
    """Line or frame number of the event in the capture (1-based), as `CallEnd.seq`."""
    ts: float
    """Event time, Unix seconds."""
    vendor: str
    code: str | None
    name: str
    """The reason's display name when it was marked."""
    note: str = ""
    created: float = 0.0
    """When the bookmark was made, Unix seconds."""
    subcode: str | None = None

    @property
    def ident(self) -> tuple[int, str, str | None, str | None, float]:
        """What makes two bookmarks the same one (used when merging files)."""
        return (self.seq, self.vendor, self.code, self.subcode, self.created)

    @classmethod
    def from_event(cls, event: CallEnd, note: str = "", created: float = 0.0) -> Bookmark:
        return cls(seq=event.seq, ts=event.ts, vendor=event.vendor, code=event.code, name=event.reason_name,
                   note=clean(note, NOTE_LIMIT), created=created, subcode=event.subcode)

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "vendor": self.vendor, "code": self.code,
                "subcode": self.subcode, "name": self.name, "note": self.note, "created": self.created}

    @classmethod
    def from_dict(cls, obj: object) -> Bookmark:
        """Validate one entry read from a file. Raises ValueError saying what is wrong."""
        if not isinstance(obj, dict):
            raise ValueError("not an object")
        seq = obj.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**53:
            raise ValueError("seq is not a line number")
        ts = _number(obj.get("ts"), "ts")
        created = _number(obj.get("created", 0.0), "created")
        vendor = obj.get("vendor")
        if not isinstance(vendor, str) or not vendor:
            raise ValueError("vendor missing")
        return cls(seq=seq, ts=ts, vendor=clean(vendor, _FIELD_LIMIT), code=_opt_text(obj.get("code")),
                   name=clean(obj.get("name") or "", _FIELD_LIMIT), note=clean(obj.get("note") or "", NOTE_LIMIT),
                   created=created, subcode=_opt_text(obj.get("subcode")))


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} is not a number")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name} is not finite")
    return x


def _opt_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("code is not text")
    return clean(value, _FIELD_LIMIT)


def bookmarks_path(source: str | os.PathLike[str]) -> Path | None:
    """Where the bookmarks of a capture or recording live; None for stdin and feed URLs."""
    text = os.fspath(source)
    if text in ("", "-") or "://" in text:
        return None
    return Path(text + SUFFIX)


class BookmarkStore:
    """The bookmarks of one source. `path` None keeps them in memory only (a live feed without --record).

    Typical use (the dashboard's `m` key)::

        store = BookmarkStore(bookmarks_path(capture))   # loads; never raises
        if store.error: notify(store.error)
        mark = store.add(event, note)
        try:
            store.save()
        except BookmarkError as exc:
            notify(str(exc))
    """

    def __init__(self, path: Path | str | None, *, clock: Callable[[], float] = time.time, load: bool = True) -> None:
        self.path = Path(path) if path is not None else None
        self._clock = clock
        self._items: list[Bookmark] = []
        self._removed: set[tuple[Any, ...]] = set()
        self._corrupt = False
        #: The last problem found reading the file (None when it was fine or absent).
        self.error: str | None = None
        if load:
            self.load()

    # ------------------------------------------------------------------ reading

    @property
    def bookmarks(self) -> tuple[Bookmark, ...]:
        """All bookmarks, oldest event first."""
        return tuple(sorted(self._items, key=lambda b: (b.ts, b.seq, b.created)))

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Bookmark]:
        return iter(self.bookmarks)

    def load(self) -> tuple[Bookmark, ...]:
        """(Re)read the file. Never raises: problems go to `error`; a missing file is no bookmarks."""
        self.error = None
        self._corrupt = False
        if self.path is None:
            return self.bookmarks
        items, error, corrupt = self._read()
        self._items = items
        self.error = error
        self._corrupt = corrupt
        return self.bookmarks

    def _read(self) -> tuple[list[Bookmark], str | None, bool]:
        """(bookmarks, problem, whether the whole file is unusable)."""
        import orjson

        assert self.path is not None
        name = self.path.name
        try:
            with open(self.path, "rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            return [], None, False
        except OSError as exc:
            return [], f"{name}: cannot read bookmarks: {exc.strerror or exc}", False
        if len(data) > MAX_FILE_BYTES:
            return [], f"{name}: bookmark file larger than {MAX_FILE_BYTES // 1024 // 1024} MiB, not read", True
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            return [], f"{name}: corrupt bookmark file ({clean(exc, 120)}); it will be kept as {name}.corrupt", True
        entries = doc.get("bookmarks") if isinstance(doc, dict) else doc
        if not isinstance(entries, list):
            return [], f"{name}: not a bookmark file (no bookmark list); it will be kept as {name}.corrupt", True
        items: list[Bookmark] = []
        bad: list[str] = []
        for i, obj in enumerate(entries[:MAX_BOOKMARKS]):
            try:
                items.append(Bookmark.from_dict(obj))
            except ValueError as exc:
                bad.append(f"#{i + 1}: {exc}")
        error = None
        if bad:
            error = f"{name}: {len(bad)} bad bookmark(s) skipped ({'; '.join(bad[:3])}{'; ...' if len(bad) > 3 else ''})"
        if len(entries) > MAX_BOOKMARKS:
            error = (error + "; " if error else f"{name}: ") + f"only the first {MAX_BOOKMARKS:,} bookmarks read"
        return items, error, False

    def find(self, seq: int, vendor: str | None = None) -> Bookmark | None:
        """The first bookmark of line/frame `seq` (and vendor, when given)."""
        for b in self._items:
            if b.seq == seq and (vendor is None or b.vendor == vendor):
                return b
        return None

    # ------------------------------------------------------------------ changing

    def add(self, event: CallEnd, note: str = "") -> Bookmark:
        """Bookmark `event` with an optional note (in memory; call `save()`). Returns the bookmark."""
        if len(self._items) >= MAX_BOOKMARKS:
            raise BookmarkError(f"too many bookmarks (the limit is {MAX_BOOKMARKS:,})")
        mark = Bookmark.from_event(event, note, created=self._clock())
        self._items.append(mark)
        return mark

    def remove(self, mark: Bookmark) -> bool:
        """Forget a bookmark (call `save()`); False when it was not there."""
        for i, b in enumerate(self._items):
            if b.ident == mark.ident:
                del self._items[i]
                self._removed.add(b.ident)
                return True
        return False

    def save(self) -> None:
        """Write the file atomically, merged with what other sessions saved meanwhile.

        Raises `BookmarkError` (with the bookmarks still in memory) when the file cannot be written.
        A no-op for an in-memory store.
        """
        if self.path is None:
            return
        import orjson

        path = self.path
        try:
            with _locked(path):
                current, _error, corrupt = self._read()
                if corrupt or self._corrupt:
                    if path.exists():
                        os.replace(path, path.with_name(path.name + ".corrupt"))
                    current = []
                    self._corrupt = False
                mine = {b.ident for b in self._items}
                merged = list(self._items) + [b for b in current
                                              if b.ident not in mine and b.ident not in self._removed]
                merged.sort(key=lambda b: (b.ts, b.seq, b.created))
                merged = merged[:MAX_BOOKMARKS]
                doc = {"callwatch_bookmarks": FORMAT, "bookmarks": [b.to_dict() for b in merged]}
                atomic_write(path, orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
                self._items = merged
        except OSError as exc:
            raise BookmarkError(f"cannot save bookmarks to {path}: {exc.strerror or exc}") from None


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a mix."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where the OS allows it
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An advisory lock around read-merge-write, taken on the directory (the file itself is replaced,
    so it cannot carry the lock, and a lock file would litter the capture's directory). POSIX only;
    elsewhere the merge alone has to do."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
