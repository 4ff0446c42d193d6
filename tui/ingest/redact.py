"""Keep credentials out of what callwatch shows: status details, repr, URLs and debug logs.

`Secret` hides a token from repr/str; `RedactingLogger` is handed to websockets (client and server)
as its logger so that debug logs of the handshake show ``Authorization: ***``; `redact_url` removes
user info and query values (tokens often live there) from a URL shown as a feed's origin.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: Header names whose values are never logged.
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})


class Secret:
    """A string that does not show itself in repr/str; `reveal` returns it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret value, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__


class RedactingLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A logger adapter that replaces sensitive header values and a secret with ``***``.

    websockets logs each handshake header as ``("> %s: %s", name, value)`` at debug level: the
    value is replaced when the name is in `SENSITIVE_HEADERS`; any argument containing ``secret``
    has it replaced too. Records below the logger's level cost one ``isEnabledFor`` call.
    """

    def __init__(self, logger: logging.Logger, secret: Secret | None = None) -> None:
        super().__init__(logger, {})
        self._secret = secret

    def _redact(self, value: object) -> object:
        if self._secret is not None and isinstance(value, str) and self._secret.reveal() in value:
            return value.replace(self._secret.reveal(), "***")
        return value

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        if len(args) == 2 and isinstance(args[0], str) and args[0].lower() in SENSITIVE_HEADERS:
            args = (args[0], "***")
        elif args:
            args = tuple(self._redact(a) for a in args)
        super().log(level, self._redact(msg), *args, **kwargs)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        return msg, kwargs


def redact_url(url: str) -> str:
    """The URL without user info, and with query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    netloc = parts.netloc.rpartition("@")[2]
    query = "&".join(
        f"{pair.partition('=')[0]}=***" if "=" in pair else pair for pair in parts.query.split("&")
    ) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
