"""The dashboard's settings: one frozen dataclass, resolved as flags > CALLWATCH_* env > config file > defaults.

The config file is YAML (``$CALLWATCH_CONFIG``, else ``$XDG_CONFIG_HOME/callwatch/config.yaml``, else
``~/.config/callwatch/config.yaml``), read with the hardened loader (`tui.domain.catalog_yaml.safe_load_yaml`:
no aliases, no duplicate keys, size and depth caps). Unknown keys and wrong types are errors that name
the file (or variable) and the key: a typo in a config file must not silently do nothing.

Every option is described once, in `OPTIONS`; `settings_help()` turns that table into the text shown by
``--help``, so the documentation cannot drift from what is read.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

#: Accepted windows for the reason table (the aggregate's 1m/5m/15m plus the whole session).
WINDOWS: tuple[str, ...] = ("1m", "5m", "15m", "session")
#: Accepted groupings of the reason table.
GROUPINGS: tuple[str, ...] = ("reason", "category", "outcome", "vendor", "source")
#: Replay speeds accepted (besides "max").
MIN_SPEED, MAX_SPEED = 0.25, 1000.0

ENV_PREFIX = "CALLWATCH_"
ENV_CONFIG = "CALLWATCH_CONFIG"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A setting has a bad value: the message names where it came from (flag, variable or file key)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the dashboard needs to start. Built by `resolve()`; never mutated."""

    command: str = "demo"
    """Which front end: "demo", "live" or "replay"."""
    url: str | None = None
    """Live: the ws:// or wss:// feed URL."""
    capture: str | None = None
    """Replay: the capture file, or "-" for standard input."""
    token: str | None = field(default=None, repr=False)
    """Live: bearer token (never shown, never in repr)."""
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """Live: extra handshake headers (values may be secrets: not in repr)."""
    ca_file: Path | None = None
    """Live: CA bundle to trust for wss://."""
    insecure: bool = False
    """Live: skip certificate verification."""
    record: Path | None = None
    """Live: append every frame to this callwatch recording."""
    speed: float = 1.0
    """Replay: speed factor (0.25..1000, or inf for as fast as possible)."""
    loop: bool = False
    """Replay: start again at the end."""
    mask: bool = False
    """Mask call ids and other identifiers on screen and in exports."""
    theme: str = "textual-dark"
    """Textual theme name (textual-light for a light terminal)."""
    window: str = "5m"
    """Initial window of the reason table: 1m, 5m, 15m or session."""
    group_by: str = "reason"
    """Initial grouping of the reason table: reason, category, outcome, vendor or source."""
    refresh_hz: float = 10.0
    """Screen refreshes per second (2..30): the UI pulls the counts at this rate."""
    recent_rows: int = 500
    """Rows kept in the recent-disconnects table (the aggregate itself keeps 10,000 events)."""
    catalog_dirs: tuple[Path, ...] = ()
    """Extra catalog directories (also CALLWATCH_CATALOGS, read by the catalog loader itself)."""
    config_file: Path | None = None
    """The config file that was read, if any (for --help and error messages)."""


# ------------------------------------------------------------------------------------------ parsing


def parse_bool(text: object, where: str) -> bool:
    """A boolean from YAML (bool) or text ("1/true/yes/on", "0/false/no/off")."""
    if isinstance(text, bool):
        return text
    if isinstance(text, str) and text.strip().lower() in _TRUE | _FALSE:
        return text.strip().lower() in _TRUE
    raise SettingsError(f"{where}: expected true/false, got {text!r}")


def parse_speed(text: object, where: str = "speed") -> float:
    """A replay speed: a number in [0.25, 1000] or "max"/"inf"."""
    if isinstance(text, str) and text.strip().lower() in ("max", "inf", "infinity"):
        return math.inf
    if isinstance(text, bool):
        raise SettingsError(f"{where}: expected a number or max, got {text!r}")
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SettingsError(f"{where}: expected a number or max, got {text!r}") from None
    if value == math.inf or MIN_SPEED <= value <= MAX_SPEED:
        return value
    raise SettingsError(f"{where}: speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}, or max")


def _parse_choice(choices: tuple[str, ...]) -> Callable[[object, str], str]:
    def parse(text: object, where: str) -> str:
        if isinstance(text, str) and text.strip().lower() in choices:
            return text.strip().lower()
        raise SettingsError(f"{where}: expected one of {', '.join(choices)}, got {text!r}")

    return parse


def _parse_str(text: object, where: str) -> str:
    if isinstance(text, str) and text:
        return text
    raise SettingsError(f"{where}: expected a non-empty string, got {text!r}")


def _parse_path(text: object, where: str) -> Path:
    return Path(os.path.expanduser(_parse_str(text, where)))


def _parse_paths(text: object, where: str) -> tuple[Path, ...]:
    if isinstance(text, str):
        items: list[object] = [p for p in text.split(os.pathsep) if p.strip()]
    elif isinstance(text, list):
        items = list(text)
    else:
        raise SettingsError(f"{where}: expected a list of directories, got {text!r}")
    return tuple(_parse_path(p, where) for p in items)


def parse_header(text: object, where: str = "header") -> tuple[str, str]:
    """One ``NAME:VALUE`` header."""
    if not isinstance(text, str):
        raise SettingsError(f"{where}: expected NAME:VALUE, got {text!r}")
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise SettingsError(f"{where}: expected NAME:VALUE, got {text!r}")
    return name.strip(), value.strip()


def _parse_headers(text: object, where: str) -> tuple[tuple[str, str], ...]:
    if isinstance(text, str):
        # One header per line (a variable can hold newlines; ';' is legal inside header values).
        items: list[object] = [line for line in text.splitlines() if line.strip()]
    elif isinstance(text, list):
        items = list(text)
    elif isinstance(text, dict):
        items = [f"{k}:{v}" for k, v in text.items()]
    else:
        raise SettingsError(f"{where}: expected a list of NAME:VALUE, got {text!r}")
    return tuple(parse_header(h, where) for h in items)


def _parse_hz(text: object, where: str) -> float:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SettingsError(f"{where}: expected a number, got {text!r}") from None
    if not 2 <= value <= 30:
        raise SettingsError(f"{where}: refresh rate must be between 2 and 30 per second")
    return value


def _parse_rows(text: object, where: str) -> int:
    if isinstance(text, bool):
        raise SettingsError(f"{where}: expected a whole number, got {text!r}")
    try:
        value = int(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SettingsError(f"{where}: expected a whole number, got {text!r}") from None
    if not 10 <= value <= 10_000:
        raise SettingsError(f"{where}: must be between 10 and 10000")
    return value


@dataclass(frozen=True, slots=True)
class Option:
    """One setting that a flag, a CALLWATCH_* variable and a config-file key can give."""

    name: str
    parse: Callable[[object, str], Any]
    help: str
    env_name: str | None = None

    @property
    def env(self) -> str:
        """The environment variable."""
        return self.env_name or ENV_PREFIX + self.name.upper()

    @property
    def key(self) -> str:
        """The config-file key (dashes, as on the command line)."""
        return self.name.replace("_", "-")


#: Every option a file or the environment may set (the source itself, URL or capture, is a flag only).
OPTIONS: tuple[Option, ...] = (
    Option("token", _parse_str, "live: bearer token (prefer the variable or file over the flag: "
           "flags show up in `ps`)"),
    Option("headers", _parse_headers, "live: extra handshake headers, NAME:VALUE (variable: one per line)"),
    Option("ca_file", _parse_path, "live: CA bundle (PEM) to trust for wss://"),
    Option("insecure", parse_bool, "live: wss:// without certificate verification"),
    Option("record", _parse_path, "live: append every frame to this recording"),
    Option("speed", parse_speed, "replay: speed factor 0.25..1000 or max (default 1)"),
    Option("loop", parse_bool, "replay: start again at the end"),
    Option("mask", parse_bool, "mask call ids and other identifiers"),
    Option("theme", _parse_str, "theme: textual-dark (default), textual-light, ..."),
    Option("window", _parse_choice(WINDOWS), "initial window: 1m, 5m (default), 15m, session"),
    Option("group_by", _parse_choice(GROUPINGS),
           "initial grouping: reason (default), category, outcome, vendor, source"),
    Option("refresh_hz", _parse_hz, "screen refreshes per second, 2..30 (default 10)"),
    Option("recent_rows", _parse_rows, "rows in the recent table, 10..10000 (default 500)"),
    Option("catalog_dirs", _parse_paths, "extra catalog directories (the variable is os.pathsep-separated "
           "and read by the catalog loader itself)", "CALLWATCH_CATALOGS"),
)
_BY_NAME = {o.name: o for o in OPTIONS}
_BY_KEY = {o.key: o for o in OPTIONS} | {o.name: o for o in OPTIONS}


# ------------------------------------------------------------------------------------------ the layers


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the config file is looked for ($CALLWATCH_CONFIG, else the XDG location)."""
    env = os.environ if env is None else env
    explicit = env.get(ENV_CONFIG)
    if explicit:
        return Path(os.path.expanduser(explicit))
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "callwatch" / "config.yaml"


def load_config_file(path: Path) -> dict[str, Any]:
    """The settings a config file gives (empty if the file does not exist). Raises SettingsError."""
    from tui.domain.catalog_yaml import CatalogError, safe_load_yaml

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"{path}: {exc.strerror or exc}") from None
    try:
        loaded = safe_load_yaml(data, str(path))
    except CatalogError as exc:
        raise SettingsError(str(exc)) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise SettingsError(f"{path}: expected a mapping of settings, got {type(loaded).__name__}")
    values: dict[str, Any] = {}
    for key, value in loaded.items():
        option = _BY_KEY.get(key) if isinstance(key, str) else None
        if option is None:
            known = ", ".join(o.key for o in OPTIONS)
            raise SettingsError(f"{path}: unknown setting {key!r} (known: {known})")
        values[option.name] = option.parse(value, f"{path}: {key}")
    return values


def from_env(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings CALLWATCH_* variables give. Raises SettingsError naming the variable.

    CALLWATCH_CATALOGS is left to the catalog loader (which reads it itself), so it is not read here.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for option in OPTIONS:
        if option.name == "catalog_dirs":
            continue
        raw = env.get(option.env)
        if raw is None or (raw == "" and option.parse is not parse_bool):
            continue
        values[option.name] = option.parse(raw, option.env)
    return values


def resolve(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Merge the layers: flags > env > config file > defaults.

    ``flags`` holds only what was given on the command line (None or missing = not given); the command,
    URL and capture come from flags only. ``config_file`` defaults to `config_path(env)`.
    """
    flags = dict(flags or {})
    path = config_path(env) if config_file is None else config_file
    merged: dict[str, Any] = {}
    file_values = load_config_file(path)
    merged.update(file_values)
    merged.update(from_env(env))
    for name, value in flags.items():
        if value is None:
            continue
        if name in _BY_NAME:
            option = _BY_NAME[name]
            if name == "headers":
                value = tuple(value)
            elif name == "catalog_dirs":
                value = tuple(Path(p) for p in value)
                if not value:
                    continue
            elif not isinstance(value, (bool, float, int, Path, tuple)):
                value = option.parse(value, "--" + option.key)
            merged[name] = value
        elif name in ("command", "url", "capture"):
            merged[name] = value
    known = {f.name for f in fields(Settings)}
    return replace(Settings(), **{k: v for k, v in merged.items() if k in known},
                   config_file=path if file_values else None)


def settings_help(env: Mapping[str, str] | None = None) -> str:
    """The --help epilog: precedence, the config file location and every variable and key."""
    lines = [
        "settings: command-line flags > CALLWATCH_* environment variables > config file > defaults.",
        f"config file: {config_path(env)} (YAML; keys as below; or set {ENV_CONFIG}).",
    ]
    for option in OPTIONS:
        lines.append(f"  {option.key} / {option.env}: {option.help}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ command line


def add_ui_arguments(parser: Any) -> None:
    """The dashboard options every front end (demo, live, replay) takes. Defaults are None so that
    `resolve()` can tell "not given" (then env, file, default apply) from "given"."""
    ui = parser.add_argument_group("dashboard")
    ui.add_argument("--mask", action="store_true", default=None, help="mask call ids and other identifiers")
    ui.add_argument("--theme", help="textual-dark (default), textual-light, ...")
    ui.add_argument("--window", choices=WINDOWS, help="initial window of the reason table (default 5m)")
    ui.add_argument("--group-by", choices=GROUPINGS, help="initial grouping of the reason table (default reason)")
    ui.add_argument("--refresh-hz", type=float, metavar="N", help="screen refreshes per second, 2..30 (default 10)")
    ui.add_argument("--recent-rows", type=int, metavar="N", help="rows in the recent table (default 500)")


def flags_from_args(args: Any, command: str) -> dict[str, Any]:
    """What an argparse namespace gives explicitly, as `resolve()` flags (values validated there)."""
    flags: dict[str, Any] = {"command": command}
    for name in ("url", "capture", "token", "ca_file", "insecure", "record", "speed", "loop", "mask",
                 "theme", "window", "group_by", "refresh_hz", "recent_rows"):
        value = getattr(args, name, None)
        if value is not None:
            option = _BY_NAME.get(name)
            if option is not None and name in ("refresh_hz", "recent_rows", "speed"):
                value = option.parse(value, "--" + option.key)
            flags[name] = value
    headers = getattr(args, "header", None)
    if headers:
        flags["headers"] = tuple(parse_header(h, "--header") if isinstance(h, str) else h for h in headers)
    catalog_dirs = getattr(args, "catalog_dir", None)
    if catalog_dirs:
        flags["catalog_dirs"] = tuple(catalog_dirs)
    return flags
