"""Settings precedence (flags > CALLWATCH_* env > config file > defaults) and error reporting."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tui.cli import build_parser
from tui.settings import (
    OPTIONS,
    Settings,
    SettingsError,
    config_path,
    flags_from_args,
    from_env,
    load_config_file,
    resolve,
    settings_help,
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An environment whose XDG config dir is empty and private to the test."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def test_defaults_without_file_env_or_flags(home):
    s = resolve({}, env=home)
    assert s == Settings()
    assert s.config_file is None


def test_config_path_xdg_and_override(tmp_path):
    assert config_path({"XDG_CONFIG_HOME": "/x"}) == Path("/x/callwatch/config.yaml")
    assert config_path({"CALLWATCH_CONFIG": str(tmp_path / "c.yaml")}) == tmp_path / "c.yaml"


@pytest.mark.parametrize(
    ("file_value", "env_value", "flag_value", "expected"),
    [
        (None, None, None, 1.0),  # default
        ("4", None, None, 4.0),  # file
        ("4", "8", None, 8.0),  # env beats file
        ("4", "8", 16.0, 16.0),  # flag beats env
        (None, "max", None, math.inf),
        (None, None, math.inf, math.inf),
    ],
)
def test_precedence_speed(home, file_value, env_value, flag_value, expected):
    if file_value is not None:
        write(config_path(home), f"speed: {file_value}\n")
    env = dict(home)
    if env_value is not None:
        env["CALLWATCH_SPEED"] = env_value
    flags = {"speed": flag_value}
    assert resolve(flags, env=env).speed == expected


def test_precedence_each_layer_for_several_options(home):
    write(config_path(home), "window: 15m\ngroup-by: vendor\ntheme: textual-light\nmask: true\nrecent-rows: 50\n")
    env = dict(home, CALLWATCH_WINDOW="1m", CALLWATCH_MASK="0")
    s = resolve({"window": "session"}, env=env)
    assert s.window == "session"  # flag
    assert s.mask is False  # env over file
    assert s.group_by == "vendor"  # file
    assert s.theme == "textual-light"  # file
    assert s.recent_rows == 50
    assert s.refresh_hz == 10.0  # default
    assert s.config_file == config_path(home)


def test_flag_false_is_not_given(home):
    """argparse gives None for an absent store_true flag, so the env value stands."""
    env = dict(home, CALLWATCH_LOOP="yes")
    assert resolve({"loop": None}, env=env).loop is True
    assert resolve({"loop": True}, env=home).loop is True


def test_token_and_headers_from_env_and_hidden_in_repr(home):
    env = dict(home, CALLWATCH_TOKEN="s3cret", CALLWATCH_HEADERS="X-A: 1\nX-B:two")
    s = resolve({"command": "live", "url": "ws://h"}, env=env)
    assert s.token == "s3cret"
    assert s.headers == (("X-A", "1"), ("X-B", "two"))
    assert "s3cret" not in repr(s)
    # a flag header list replaces the env one
    s2 = resolve({"headers": (("X-C", "3"),)}, env=env)
    assert s2.headers == (("X-C", "3"),)


def test_headers_in_file_as_list_or_mapping(home):
    write(config_path(home), "headers:\n  - 'X-A: 1'\n")
    assert resolve({}, env=home).headers == (("X-A", "1"),)
    write(config_path(home), "headers:\n  X-B: '2'\n")
    assert resolve({}, env=home).headers == (("X-B", "2"),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("speeed: 2\n", "unknown setting 'speeed'"),
        ("speed: fast\n", "speed: expected a number or max"),
        ("speed: 5000\n", "between 0.25 and 1000"),
        ("window: 2m\n", "expected one of 1m, 5m, 15m, session"),
        ("mask: maybe\n", "expected true/false"),
        ("refresh-hz: 100\n", "between 2 and 30"),
        ("recent-rows: 3\n", "between 10 and 10000"),
        ("- a\n- b\n", "expected a mapping"),
        ("a: &x 1\nb: *x\n", ""),  # aliases are refused by the hardened loader
        ("speed: 1\nspeed: 2\n", ""),  # duplicate keys too
    ],
)
def test_bad_config_file_names_file_and_key(home, text, message):
    path = write(config_path(home), text)
    with pytest.raises(SettingsError) as info:
        resolve({}, env=home)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_bad_env_names_the_variable(home):
    with pytest.raises(SettingsError, match="CALLWATCH_WINDOW"):
        from_env(dict(home, CALLWATCH_WINDOW="forever"))
    with pytest.raises(SettingsError, match="CALLWATCH_INSECURE"):
        from_env(dict(home, CALLWATCH_INSECURE="perhaps"))


def test_empty_or_missing_file(home, tmp_path):
    assert load_config_file(tmp_path / "nope.yaml") == {}
    assert load_config_file(write(tmp_path / "empty.yaml", "# nothing\n")) == {}


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        Settings().speed = 2.0  # type: ignore[misc]


def test_cli_flags_through_argparse(home):
    parser = build_parser()
    args = parser.parse_args(["live", "ws://127.0.0.1:1/x", "--token", "T", "--header", "X-K: v", "--insecure",
                              "--mask", "--window", "1m", "--refresh-hz", "20"])
    s = resolve(flags_from_args(args, "live"), env=home)
    assert (s.command, s.url, s.token, s.insecure, s.mask, s.window, s.refresh_hz) == (
        "live", "ws://127.0.0.1:1/x", "T", True, True, "1m", 20.0)
    assert s.headers == (("X-K", "v"),)
    args = parser.parse_args(["replay", "x.jsonl", "--speed", "max", "--loop"])
    s = resolve(flags_from_args(args, "replay"), env=dict(home, CALLWATCH_SPEED="3"))
    assert (s.capture, s.speed, s.loop) == ("x.jsonl", math.inf, True)
    args = parser.parse_args(["replay", "x.jsonl"])
    s = resolve(flags_from_args(args, "replay"), env=dict(home, CALLWATCH_SPEED="3"))
    assert s.speed == 3.0 and s.loop is False


def test_cli_rejects_bad_flag_values(home):
    args = build_parser().parse_args(["replay", "x.jsonl", "--refresh-hz", "500"])
    with pytest.raises(SettingsError, match="--refresh-hz"):
        resolve(flags_from_args(args, "replay"), env=home)


def test_help_documents_every_option_and_the_precedence(home):
    text = settings_help(home)
    assert "flags > CALLWATCH_* environment variables > config file > defaults" in text
    assert str(config_path(home)) in text
    for option in OPTIONS:
        assert option.env in text and option.key in text
    for command in ("demo", "live", "replay"):
        sub = build_parser()._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
        assert "CALLWATCH_SPEED" in sub.format_help()
