"""Hardened YAML loading for catalogs and YAML captures.

PyYAML's defaults bite catalogs (reliability.md §3): aliases expand into billions of nodes on a walk,
duplicate keys silently keep the last value, the C loader segfaults on deep nesting, and YAML 1.1
implicit typing turns `0123`, `NO` and `1:30` into numbers and booleans. This loader rejects anchors,
aliases, tags and duplicate keys, caps size and depth, and reports every problem with file and line.
The implicit-typing trap is closed by the catalog validator, which demands strings for codes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

#: Files larger than this are rejected before parsing.
MAX_BYTES = 1024 * 1024
#: Deeper nesting is rejected (catalogs need 4-5 levels; pure-Python PyYAML recurses per level).
MAX_DEPTH = 32


class CatalogError(ValueError):
    """A catalog (or YAML capture) problem, located by file, line and (when known) entry and field."""

    def __init__(self, file: str, message: str, line: int | None = None) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")


class _HardenedLoader(yaml.SafeLoader):
    """SafeLoader (pure Python: the C loader can segfault) that refuses anchors, aliases, tags and
    duplicate keys, and limits nesting depth."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D401 - PyYAML hook
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise yaml.MarkedYAMLError(
                None, None, "aliases (*name) are not allowed", event.start_mark
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise yaml.MarkedYAMLError(
                None, None, f"anchors (&{anchor}) are not allowed", event.start_mark
            )
        tag = getattr(event, "tag", None)
        # Plain scalars and collections carry no tag; an explicit one (`!!python/...`, `!!binary`) is refused.
        if tag is not None and tag not in ("!", "tag:yaml.org,2002:str"):
            raise yaml.MarkedYAMLError(None, None, f"tags ({tag}) are not allowed", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(
                    None, None, f"nesting deeper than {MAX_DEPTH} levels", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hashable = key in seen
            except TypeError:
                raise yaml.MarkedYAMLError(
                    None, None, "mapping keys must be plain scalars", key_node.start_mark
                ) from None
            if hashable:
                raise yaml.MarkedYAMLError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _error(filename: str, exc: Exception) -> CatalogError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        msg = exc.problem or exc.context or str(exc)
        return CatalogError(filename, f"invalid YAML: {msg}", line)
    if isinstance(exc, RecursionError):
        return CatalogError(filename, "invalid YAML: nested too deeply")
    return CatalogError(filename, f"invalid YAML: {exc}")


def _check_size(text: str | bytes, filename: str) -> str:
    if len(text) > MAX_BYTES:
        raise CatalogError(filename, f"file is larger than {MAX_BYTES // 1024} KiB ({len(text)} bytes)")
    if isinstance(text, bytes):
        try:
            return text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            start = exc.start + (3 if text.startswith(b"\xef\xbb\xbf") else 0)  # offsets skip the BOM
            line = text.count(b"\n", 0, start) + 1
            column = start - (text.rfind(b"\n", 0, start) + 1) + 1
            raise CatalogError(filename, f"not UTF-8: byte 0x{text[start]:02x} at column {column} "
                               f"({exc.reason})", line) from None
    return text


def safe_load_yaml(text: str | bytes, filename: str = "<string>") -> Any:
    """Load one YAML document with the hardened loader; raise CatalogError on any problem."""
    src = _check_size(text, filename)
    loader = _HardenedLoader(src)
    try:
        return loader.get_single_data()
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise _error(filename, exc) from None
    finally:
        loader.dispose()


def safe_load_all_yaml(text: str | bytes, filename: str = "<string>") -> Iterator[Any]:
    """Yield each document of a multi-document YAML text (a YAML capture), hardened as above."""
    src = _check_size(text, filename)
    loader = _HardenedLoader(src)
    try:
        while loader.check_data():
            yield loader.get_data()
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise _error(filename, exc) from None
    finally:
        loader.dispose()


def load_catalog_yaml(text: str | bytes, filename: str) -> tuple[Any, dict[str, list[int]]]:
    """Load one catalog document and return it with the line (1-based) of every item of each
    top-level sequence (`entries`, `disconnect_sources`...), so validation errors can name a line."""
    src = _check_size(text, filename)
    loader = _HardenedLoader(src)
    try:
        node = loader.get_single_node()
        lines: dict[str, list[int]] = {}
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(value_node, yaml.SequenceNode):
                    lines[str(key_node.value)] = [item.start_mark.line + 1 for item in value_node.value]
        data = loader.construct_document(node) if node is not None else None
        return data, lines
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise _error(filename, exc) from None
    finally:
        loader.dispose()
