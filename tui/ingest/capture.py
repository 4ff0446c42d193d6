"""Read capture files into `RawMessage`s: JSON Lines, JSON, YAML (each optionally gzipped) or stdin.

Formats, chosen by the file name (after removing ``.gz``):

- ``.jsonl`` / ``.ndjson`` / anything else: one message per line, read as bytes. Memory stays flat
  in the file size. A line longer than ``max_line`` is not kept: it becomes one message with
  ``data=b""`` and ``oversize`` = its length. Blank lines are skipped (``seq`` stays the line number).
- ``.json``: a JSON array (each element is one message, parsed, ``seq`` = index + 1) or any other
  JSON value (one message). A file that is not one JSON document (e.g. JSON Lines saved as .json,
  or a value the parser refuses) is read line by line instead, so each bad line is reported on its own.
- ``.yaml`` / ``.yml``: a multi-document stream, each non-empty document one parsed message. The
  loader is injected (``yaml_loader``): the domain's hardened loader in practice, ``yaml.safe_load_all``
  by default.
- ``"-"``: standard input, read as JSON Lines as the lines arrive (`aiter_capture` uses a thread).

Callwatch recordings (see `recording`) are unwrapped transparently: ``data`` is the original message
text and ``recorded_at`` its receive time. Files that cannot be read raise `CaptureError`.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import sys
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Literal

import orjson

from tui.ingest.raw import RawMessage
from tui.ingest.recording import unwrap, unwrap_line

#: Longest line kept, in bytes. Large enough for a recording of a 1 MiB frame with JSON escaping.
MAX_LINE = 8 * 1024 * 1024

CaptureFormat = Literal["jsonl", "json", "yaml"]
YamlLoader = Callable[[str], Iterable[object]]

STDIN = "-"


class CaptureError(Exception):
    """A capture file could not be read (missing, unreadable, corrupt gzip, YAML syntax...)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def capture_format(path: Path | str) -> CaptureFormat:
    """The format of a capture file from its name: "json", "yaml", or "jsonl" (the default)."""
    name = str(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith(".json"):
        return "json"
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    return "jsonl"


def read_lines(stream: BinaryIO, max_line: int = MAX_LINE) -> Iterator[tuple[int, bytes, int]]:
    """Yield ``(line number, line without its end of line, oversize)`` from a binary stream.

    A line longer than ``max_line`` bytes is consumed in bounded chunks and yielded as ``b""`` with
    ``oversize`` = its length; every other line has ``oversize == 0``.
    """
    number = 0
    readline = stream.readline
    while True:
        line = readline(max_line + 1)
        if not line:
            return
        number += 1
        if len(line) > max_line and not line.endswith(b"\n"):
            total = len(line)
            last = line
            while not last.endswith(b"\n"):
                last = readline(1 << 20)
                if not last:
                    break
                total += len(last)
            if last.endswith(b"\n"):
                total -= 2 if last.endswith(b"\r\n") else 1
            yield number, b"", total
            continue
        if line.endswith(b"\n"):
            line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
        yield number, line, 0


def line_message(number: int, line: bytes, oversize: int = 0) -> RawMessage | None:
    """The message for one capture line (a recording line unwrapped), or None for a blank line."""
    if oversize:
        return RawMessage(number, b"", time.time(), None, oversize)
    if not line or line.isspace():
        return None
    record = unwrap_line(line)
    if record is not None:
        return RawMessage(number, record[0], time.time(), record[1])
    return RawMessage(number, line, time.time())


def _object_message(seq: int, obj: object) -> RawMessage:
    record = unwrap(obj)
    if record is not None:
        return RawMessage(seq, record[0], time.time(), record[1])
    return RawMessage(seq, obj, time.time())


def iter_lines(stream: BinaryIO, max_line: int = MAX_LINE) -> Iterator[RawMessage]:
    """Messages from a JSON Lines stream (recording lines unwrapped, blank lines skipped)."""
    for number, line, oversize in read_lines(stream, max_line):
        message = line_message(number, line, oversize)
        if message is not None:
            yield message


def _open(path: Path) -> BinaryIO:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")  # noqa: SIM115 - the caller closes it


def iter_capture(path: Path | str, *, yaml_loader: YamlLoader | None = None, max_line: int = MAX_LINE,
                 stdin: BinaryIO | None = None) -> Iterator[RawMessage]:
    """Yield the messages of a capture file (or of stdin for ``"-"``, read synchronously).

    Raises `CaptureError` when the file cannot be opened or read; messages read before a mid-file
    error (e.g. a truncated .gz) have already been yielded.
    """
    if str(path) == STDIN:
        yield from iter_lines(stdin if stdin is not None else sys.stdin.buffer, max_line)
        return
    path = Path(path)
    fmt = capture_format(path)
    try:
        if fmt == "jsonl":
            with _open(path) as stream:
                yield from iter_lines(stream, max_line)
        elif fmt == "json":
            yield from _iter_json(path, max_line)
        else:
            yield from _iter_yaml(path, yaml_loader)
    except (OSError, EOFError, zlib.error) as exc:
        raise CaptureError(str(path), _why(exc)) from exc


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _iter_json(path: Path, max_line: int) -> Iterator[RawMessage]:
    with _open(path) as stream:
        data = stream.read()
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        # Not a single JSON document: most often JSON Lines saved as .json. Per-line messages let
        # the decoder report each bad line on its own instead of one opaque failure.
        yield from iter_lines(io.BytesIO(data), max_line)
        return
    del data
    if isinstance(value, list):
        for index, element in enumerate(value):
            yield _object_message(index + 1, element)
    else:
        yield _object_message(1, value)


def _iter_yaml(path: Path, yaml_loader: YamlLoader | None) -> Iterator[RawMessage]:
    if yaml_loader is None:
        import yaml

        yaml_loader = yaml.safe_load_all
    with _open(path) as stream:
        data = stream.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaptureError(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    del data
    documents = iter(yaml_loader(text))
    index = 0
    while True:
        try:
            document = next(documents)
        except StopIteration:
            return
        except Exception as exc:  # the loader's own error type (yaml.YAMLError, CatalogError...)
            raise CaptureError(str(path), f"YAML document {index + 1}: {exc}") from exc
        index += 1
        if document is not None:
            yield _object_message(index, document)


async def aiter_capture(path: Path | str, *, yaml_loader: YamlLoader | None = None,
                        max_line: int = MAX_LINE, stdin: BinaryIO | None = None) -> AsyncIterator[RawMessage]:
    """Async version of `iter_capture`; ``"-"`` reads stdin in a thread, yielding lines as they arrive."""
    if str(path) == STDIN:
        async for message in aiter_stream(stdin if stdin is not None else sys.stdin.buffer, max_line=max_line):
            yield message
        return
    for message in iter_capture(path, yaml_loader=yaml_loader, max_line=max_line):
        yield message


async def aiter_stream(stream: BinaryIO, *, max_line: int = MAX_LINE,
                       buffer_lines: int = 4096) -> AsyncIterator[RawMessage]:
    """Messages from a blocking JSON Lines stream (a pipe, a terminal, a file), read in a thread.

    Lines are delivered as soon as they are read; at most ``buffer_lines`` wait unread (the thread
    then blocks, so a slow consumer bounds memory). The reader thread is a daemon: a stream that
    never ends does not keep the process alive.
    """
    reader = _ThreadedReader(stream, max_line, buffer_lines, asyncio.get_running_loop())
    try:
        while batch := await reader.next_batch():
            for message in batch:
                yield message
    finally:
        reader.stop()


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _ThreadedReader:
    """A daemon thread reading lines into a bounded buffer that an event loop drains in batches."""

    def __init__(self, stream: BinaryIO, max_line: int, limit: int, loop: asyncio.AbstractEventLoop) -> None:
        self._stream = stream
        self._max_line = max_line
        self._limit = limit
        self._loop = loop
        self._cond = threading.Condition()
        self._items: list[RawMessage] = []
        self._done = False
        self._stopped = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        threading.Thread(target=self._run, name="callwatch-stdin", daemon=True).start()

    def _notify(self) -> None:
        # Called with the lock held: wake the event loop only if it is waiting.
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            try:
                self._loop.call_soon_threadsafe(_wake, waiter)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                self._stopped = True

    def _run(self) -> None:
        try:
            for message in iter_lines(self._stream, self._max_line):
                with self._cond:
                    while len(self._items) >= self._limit and not self._stopped:
                        self._cond.wait()
                    if self._stopped:
                        return
                    self._items.append(message)
                    self._notify()
        except BaseException as exc:  # reported to the consumer, not lost in a thread
            self._error = exc
        finally:
            with self._cond:
                self._done = True
                self._notify()

    async def next_batch(self) -> list[RawMessage]:
        """Everything read so far (waiting for at least one line); [] at end of stream."""
        while True:
            with self._cond:
                if self._items:
                    batch, self._items = self._items, []
                    self._cond.notify_all()
                    return batch
                if self._error is not None:
                    raise CaptureError(STDIN, _why(self._error)) from self._error
                if self._done:
                    return []
                waiter = self._waiter = self._loop.create_future()
            await waiter

    def stop(self) -> None:
        """Stop reading (the thread exits at its next line; a blocked read ends with the process)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
