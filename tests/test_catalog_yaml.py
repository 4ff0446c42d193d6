"""Every YAML trap of reliability.md §3 is rejected with file and line, and bundled catalogs survive it."""

from pathlib import Path

import pytest

from tui.domain.catalog import build_catalogs, validate_files
from tui.domain.catalog_yaml import MAX_BYTES, CatalogError, safe_load_all_yaml, safe_load_yaml

GOOD_ENTRY = """\
schema: "1"
vendor: planetkit
entries:
  - code: "{code}"
    name: APP_KICKED
    description: The app kicked the user.
    summary: The application removed the user.
    advice: Ask the app team why the user was kicked.
    category: user_defined
    outcome: expected_error
"""


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("a: &x 1\nb: *x\n", "anchors (&x) are not allowed", 1),
        ("a: 1\nb: [*x]\n", "aliases", 2),
        ("a: 1\nb: 2\na: 3\n", "duplicate key 'a'", 3),
        ("a: !!python/object/apply:os.system [echo]\n", "tags", 1),
        ("x: " + "[" * 5000 + "]" * 5000 + "\n", "nesting deeper", 1),
        ("a: [1, 2\n", "invalid YAML", None),
    ],
    ids=["anchor", "alias", "duplicate-key", "python-tag", "deep-nesting", "syntax"],
)
def test_yaml_traps_are_rejected_with_a_line(text, message, line):
    with pytest.raises(CatalogError) as info:
        safe_load_yaml(text, "trap.yaml")
    assert message in str(info.value)
    assert info.value.file == "trap.yaml"
    if line is not None:
        assert info.value.line == line


def test_billion_laughs_is_rejected_before_expansion():
    lol = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lol += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    with pytest.raises(CatalogError, match="anchors"):
        safe_load_yaml(lol, "lol.yaml")


def test_size_cap():
    with pytest.raises(CatalogError, match="larger than"):
        safe_load_yaml("a: " + "x" * (MAX_BYTES + 1), "big.yaml")


def test_c_loader_segfault_input_is_a_clean_error():
    # 50,000 nested '[' crash libyaml's CSafeLoader (reliability.md §3.1); ours must just refuse.
    with pytest.raises(CatalogError):
        safe_load_yaml("[" * 50_000 + "]" * 50_000, "deep.yaml")


def test_multi_document_capture_loading():
    assert list(safe_load_all_yaml("a: 1\n---\nb: '0123'\n")) == [{"a": 1}, {"b": "0123"}]
    with pytest.raises(CatalogError):
        list(safe_load_all_yaml("a: 1\n---\nb: &x 2\n"))


@pytest.mark.parametrize("literal", ["0123", "NO", "1:30", "1.10", "0777", "off", "2024-01-02"])
def test_unquoted_codes_that_yaml_retypes_are_rejected(tmp_path: Path, literal):
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD_ENTRY.replace('"{code}"', literal))
    problems = validate_files([path])
    assert len(problems) == 1
    assert "field 'code' must be a string" in problems[0]
    assert "mine.yaml:4" in problems[0]  # the entry's line
    assert "quote it" in problems[0]


@pytest.mark.parametrize("literal", ["0123", "NO", "1:30"])
def test_quoted_codes_stay_strings(tmp_path: Path, literal):
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD_ENTRY.replace("{code}", literal))
    catalogs = build_catalogs([path])
    assert catalogs.errors == []
    reason = catalogs.lookup("planetkit", literal)
    assert reason.known and reason.name == "APP_KICKED"


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (("category: user_defined", "category: exploded"), "field 'category': 'exploded' is not a taxonomy category"),
        (("outcome: expected_error", "outcome: meh"), "field 'outcome': 'meh'"),
        (("    advice: Ask the app team why the user was kicked.\n", ""), "field 'advice' is required"),
        (("    name: APP_KICKED", "    name: APP_KICKED\n    colour: red"), "unknown field(s) ['colour']"),
        (("vendor: planetkit", "vendor: Plan Et"), "field 'vendor'"),
        (('schema: "1"', "schema: 1"), "field 'schema'"),
    ],
    ids=["category", "outcome", "missing-advice", "unknown-field", "vendor-id", "schema-int"],
)
def test_schema_errors_name_file_entry_and_field(tmp_path: Path, mutation, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD_ENTRY.replace("{code}", "9001").replace(*mutation))
    problems = validate_files([path])
    assert problems and expected in problems[0], problems
    assert "bad.yaml" in problems[0]


def test_bad_user_catalog_is_reported_and_bundled_keep_working(tmp_path: Path):
    (tmp_path / "broken.yaml").write_text("vendor: acs\nentries: &x []\n")
    (tmp_path / "good.yaml").write_text(GOOD_ENTRY.replace("{code}", "9001"))
    catalogs = build_catalogs([tmp_path])
    assert len(catalogs.errors) == 1 and "broken.yaml:2" in catalogs.errors[0]
    assert catalogs.lookup("acs", 0, 0).known
    assert catalogs.lookup("planetkit", "9001").name == "APP_KICKED"
    assert catalogs.lookup("planetkit", "1205").known


def test_user_catalog_overrides_a_bundled_entry(tmp_path: Path):
    (tmp_path / "override.yaml").write_text(GOOD_ENTRY.replace("{code}", "1001"))
    catalogs = build_catalogs([tmp_path])
    reason = catalogs.lookup("planetkit", 1001)
    assert reason.name == "APP_KICKED"
    assert reason.entry.catalog_file.endswith("override.yaml")
    # Other entries of the vendor are untouched.
    assert catalogs.lookup("planetkit", 1202).known


def test_user_catalog_can_add_a_vendor(tmp_path: Path):
    (tmp_path / "acme.yaml").write_text(
        'schema: "1"\nvendor: acme\ntitle: ACME calls\naliases: [acme-voip]\n'
        "namespaces:\n  - id: reason\n    title: ACME reason\n"
        'entries:\n  - code: "7"\n    name: GREMLINS\n    description: d\n    summary: s\n'
        "    advice: Feed them after midnight? No.\n    category: server_error\n    outcome: unexpected_server_error\n"
    )
    catalogs = build_catalogs([tmp_path])
    assert catalogs.errors == []
    assert catalogs.lookup("ACME-VOIP", "gremlins").code == "gremlins"
    assert catalogs.lookup("acme", 7).name == "GREMLINS"


def test_env_variable_adds_catalogs(tmp_path: Path, monkeypatch):
    from tui.domain.catalog import user_catalog_dirs

    (tmp_path / "x.yaml").write_text(GOOD_ENTRY.replace("{code}", "9002"))
    dirs = user_catalog_dirs([], env={"CALLWATCH_CATALOGS": str(tmp_path)})
    assert dirs == [tmp_path]
    assert build_catalogs(dirs).lookup("planetkit", 9002).known


def test_missing_catalog_dir_is_an_error_not_a_crash(tmp_path: Path):
    catalogs = build_catalogs([tmp_path / "nope"])
    assert "not found" in catalogs.errors[0]


def test_user_catalog_text_is_sanitized(tmp_path: Path):
    evil = GOOD_ENTRY.replace("{code}", "9003").replace(
        "The app kicked the user.", '"\\e]0;pwned\\a[bold]x[/bold]\\e[2J"'
    )
    (tmp_path / "evil.yaml").write_text(evil)
    reason = build_catalogs([tmp_path]).lookup("planetkit", 9003)
    assert "\x1b" not in reason.description and "\x07" not in reason.description
    assert "[bold]" in reason.description  # shown literally, not interpreted


def test_parse_cache_is_used_and_damage_is_ignored(tmp_path: Path, monkeypatch):
    from tui.domain import catalog as catalog_module

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("CALLWATCH_NO_CACHE", raising=False)
    first = build_catalogs()
    cached = sorted((tmp_path / "cache" / "callwatch" / "catalogs").glob("*.json"))
    assert len(cached) == 4  # one per bundled vendor file
    second = build_catalogs()
    assert [e.key for e in second.entries("acs")] == [e.key for e in first.entries("acs")]
    assert second.lookup("planetkit", 1205).entry == first.lookup("planetkit", 1205).entry
    for path in cached:
        path.write_bytes(b"{not json")
    third = build_catalogs()
    assert third.lookup("acs", 487, 10004).known
    # A damaged cache is replaced by a good one.
    assert all(p.read_bytes().startswith(b"{") and b"sha256" in p.read_bytes() for p in cached)
    assert catalog_module._cache_dir() == tmp_path / "cache" / "callwatch" / "catalogs"


def test_yaml_dates_are_never_cached_into_strings(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "dated.yaml"
    path.write_text(GOOD_ENTRY.replace('"{code}"', "2024-01-02"))
    for _ in range(2):  # the second run must not read a JSON copy where the date became a string
        problems = validate_files([path])
        assert len(problems) == 1 and "must be a string, got date" in problems[0]


def test_user_catalog_lists_are_sanitized_too(tmp_path: Path):
    evil = GOOD_ENTRY.replace("{code}", "9004").replace(
        "    name: APP_KICKED", '    name: APP_KICKED\n    aliases: ["\\e]8;;http://x\\e\\\\kick"]\n    applies_to: ["\\u202egroup"]')
    (tmp_path / "evil.yaml").write_text(evil)
    entry = build_catalogs([tmp_path]).lookup("planetkit", 9004).entry
    shown = " ".join(entry.aliases + entry.applies_to)
    assert "\x1b" not in shown and "\u202e" not in shown
