"""The callwatch recording format: one JSON line per received websocket frame.

    {"callwatch_recording": 1, "received": <unix float>, "frame": <n>, "raw": "<the message text>"}

Binary frames carry ``"raw_b64"`` (base64) instead of ``"raw"``. `RecordingWriter` writes it (used by
``--record``); `unwrap` turns a recording line back into the original message, which is how the capture
reader replays recordings transparently.
"""

from __future__ import annotations

import base64
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import orjson

RECORDING_KEY = "callwatch_recording"
RECORDING_VERSION = 1
#: Every line the writer produces starts with this, so a reader can recognise recordings cheaply.
RECORDING_PREFIX = b'{"' + RECORDING_KEY.encode() + b'":'


class RecordingWriter:
    """Appends frames to a recording file, one flushed line each, so a kill loses at most one line.

    The file is opened in append mode: recording twice to the same path keeps both sessions.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._file: BinaryIO | None = open(self.path, "ab")  # noqa: SIM115 - closed by close()

    def write(self, frame: int, received: float, data: str | bytes) -> None:
        """Write one received frame (text as ``raw``, binary as ``raw_b64``) and flush it."""
        if self._file is None:
            raise ValueError("recording is closed")
        record: dict[str, object] = {RECORDING_KEY: RECORDING_VERSION, "received": received, "frame": frame}
        if isinstance(data, str):
            record["raw"] = data
        else:
            record["raw_b64"] = base64.b64encode(data).decode("ascii")
        self._file.write(orjson.dumps(record) + b"\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def unwrap(obj: object) -> tuple[str | bytes, float | None] | None:
    """If ``obj`` is a parsed recording record, return (original message, received time); else None."""
    if not isinstance(obj, dict) or RECORDING_KEY not in obj:
        return None
    received = obj.get("received")
    if not isinstance(received, (int, float)) or isinstance(received, bool):
        received = None
    raw = obj.get("raw")
    if isinstance(raw, str):
        return raw, received
    b64 = obj.get("raw_b64")
    if isinstance(b64, str):
        try:
            return base64.b64decode(b64, validate=True), received
        except ValueError:
            return None
    return None


def unwrap_line(line: bytes) -> tuple[str | bytes, float | None] | None:
    """If ``line`` is a recording line, return (original message, received time); else None.

    Only lines starting with the recording prefix are parsed, so ordinary capture lines cost one
    ``startswith``. A damaged recording line (e.g. cut by a kill) is returned as None: the caller
    passes it on unchanged and the decoder reports it.
    """
    if not line.startswith(RECORDING_PREFIX):
        return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return unwrap(obj)
