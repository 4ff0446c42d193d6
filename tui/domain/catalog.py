"""Vendor catalogs: load and validate the YAML files, and look up any code in O(1).

`Catalogs.lookup()` never raises: an unknown vendor or code comes back as a `Reason` with
`known=False` that keeps the raw values. The schema is documented in `catalogs/README.md`.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from tui.domain.catalog_yaml import CatalogError, load_catalog_yaml, safe_load_yaml
from tui.domain.model import Entry, Reason, Source
from tui.domain.sanitize import clean, clean_multiline
from tui.resources import catalogs_dir

#: Environment variable naming extra catalog directories (os.pathsep separated).
ENV_CATALOGS = "CALLWATCH_CATALOGS"
SCHEMA_VERSION = "1"
VENDOR_FILES = ("planetkit.yaml", "livekit.yaml", "acs.yaml", "jssip.yaml")
#: The namespace holding code-class rows ("4xx") used as the last fallback (ACS).
CLASS_NAMESPACE = "code_class"

_VENDOR_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_INT = re.compile(r"^[+-]?\d{1,18}$")
_NORM_DROP = str.maketrans("", "", "_-. \t/")
_AMBIGUOUS = object()

_TOP_KEYS = {"schema", "vendor", "title", "aliases", "documents", "namespaces", "entries", "disconnect_sources"}
_DOC_KEYS = {"id", "title", "version", "url"}
_NS_KEYS = {"id", "title", "description", "strip_prefixes"}
_SOURCE_KEYS = {"code", "name", "aliases", "description", "documents"}
_ENTRY_STR = {"code", "name", "description", "summary", "advice", "category", "outcome"}
_ENTRY_OPT_STR = {"namespace", "subcode", "vendor_category", "origin", "protocol_equivalent"}
_ENTRY_LIST = {"aliases", "applies_to", "platforms", "contexts", "sip_status", "documents"}
_ENTRY_KEYS = _ENTRY_STR | _ENTRY_OPT_STR | _ENTRY_LIST | {"deprecated", "seed_text"}


def normalize_name(text: str) -> str:
    """Case- and separator-insensitive form of a name: `Multi_Dev-In.Use` -> `multidevinuse`."""
    return text.lower().translate(_NORM_DROP)


def normalize_code(value: object) -> str | None:
    """A code as a catalog key: ints and integral floats and numeric strings in canonical decimal form,
    other strings stripped; None, '' and the literal 'null' (ACS logs) mean absent."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()[:256]
    if text == "" or text.lower() in ("null", "none", "undefined"):
        return None
    if _INT.match(text):
        return str(int(text))
    return text


@dataclass(frozen=True, slots=True)
class Document:
    """Provenance of catalog entries: a vendor document and its version."""

    id: str
    title: str
    version: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Namespace:
    """A numbering space of one vendor (PlanetKit disconnect_reason vs legacy call_end_reason...)."""

    id: str
    title: str
    description: str = ""
    strip_prefixes: tuple[str, ...] = ()


@dataclass(slots=True)
class _Index:
    """Lookup tables of one namespace."""

    by_code: dict[tuple[str, str | None], Entry] = field(default_factory=dict)
    by_subcode: dict[str, Any] = field(default_factory=dict)
    by_exact_name: dict[str, Any] = field(default_factory=dict)
    by_name: dict[str, Any] = field(default_factory=dict)
    by_status: dict[str, Any] = field(default_factory=dict)
    has_subcodes: bool = False
    prefixes: tuple[str, ...] = ()


@dataclass(slots=True)
class VendorCatalog:
    """Everything one vendor's catalog(s) define, with the lookup indexes."""

    id: str
    title: str
    aliases: tuple[str, ...] = ()
    documents: dict[str, Document] = field(default_factory=dict)
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    entries: dict[tuple[str, str, str | None], Entry] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    indexes: dict[str, _Index] = field(default_factory=dict)
    source_names: dict[str, Source] = field(default_factory=dict)

    @property
    def default_namespace(self) -> str:
        return next(iter(self.namespaces))

    def build_indexes(self) -> None:
        """(Re)build the O(1) lookup tables after all files were merged."""
        self.indexes = {
            ns.id: _Index(prefixes=tuple(normalize_name(p) for p in ns.strip_prefixes))
            for ns in self.namespaces.values()
        }
        for entry in self.entries.values():
            index = self.indexes[entry.namespace]
            index.by_code[(entry.code, entry.subcode)] = entry
            if entry.subcode is not None:
                index.has_subcodes = True
                if entry.subcode != "0":
                    _put(index.by_subcode, entry.subcode, entry)
            for name in (entry.code, entry.name, *entry.aliases):
                _put(index.by_exact_name, name, entry)
                _put(index.by_name, _strip(normalize_name(name), index.prefixes), entry)
            for status in entry.sip_status:
                _put(index.by_status, status, entry)
        self.source_names = {}
        for source in self.sources.values():
            for name in (source.code, source.name, *source.aliases):
                _put(self.source_names, normalize_name(name), source)

    def lookup(self, code: str, subcode: str | None, namespace: str | None) -> Reason:
        """Resolve within this vendor (see `Catalogs.lookup`)."""
        numeric = _INT.match(code) is not None
        if namespace is not None and namespace in self.namespaces:
            order: Iterable[str] = (namespace,)
        elif numeric:
            # Numbering spaces overlap (PlanetKit 1001 = NORMAL or legacy CALLEE_BUSY; LiveKit 17 is a C SDK
            # value but not yet a protocol one): a bare number means the default space, never another.
            order = (self.default_namespace,)
        else:
            # Names are distinctive: try every space, the default first.
            order = [ns for ns in self.namespaces if ns != CLASS_NAMESPACE]
        for ns in order:
            index = self.indexes[ns]
            found = self._match(index, code, subcode, numeric)
            if found is not None:
                entry, matched = found
                return Reason(self.id, code, subcode, True, matched, entry, ns)
        if numeric:
            fallback = self._class_fallback(code)
            if fallback is not None:
                return Reason(self.id, code, subcode, True, "class", fallback, fallback.namespace)
        return Reason(self.id, code, subcode, False, "none", None, namespace or self.default_namespace)

    def _match(
        self, index: _Index, code: str, subcode: str | None, numeric: bool
    ) -> tuple[Entry, Any] | None:
        entry = index.by_code.get((code, subcode))
        if entry is not None:
            return entry, ("code" if subcode is None and index.has_subcodes else "exact")
        if subcode is not None and index.has_subcodes:
            # ACS: a non-zero subcode alone identifies a row when only one row uses it.
            unique = index.by_subcode.get(subcode)
            if unique is not None and unique is not _AMBIGUOUS:
                return unique, "subcode"
            entry = index.by_code.get((code, None))
            if entry is not None:
                return entry, "code"
        if not numeric:
            for table, key in (
                (index.by_exact_name, code),
                (index.by_name, _strip(normalize_name(code), index.prefixes)),
            ):
                hit = table.get(key)
                if hit is not None and hit is not _AMBIGUOUS:
                    return hit, "exact"
        elif index.by_status:
            # JsSIP: a SIP status code resolves to the cause that groups it.
            hit = index.by_status.get(code)
            if hit is not None and hit is not _AMBIGUOUS:
                return hit, "code"
        return None

    def _class_fallback(self, code: str) -> Entry | None:
        number = int(code)
        if not 100 <= number <= 699:
            return None
        klass = f"{number // 100}xx"
        index = self.indexes.get(CLASS_NAMESPACE)
        if index is not None:
            return index.by_code.get((klass, None))
        if self.id == "jssip" and number >= 300:
            # JsSIP reports any final failure response outside its groups as SIP_FAILURE_CODE
            # (RTCSession._failed / Utils.sipErrorCause).
            for index in self.indexes.values():
                hit = index.by_exact_name.get("SIP_FAILURE_CODE")
                if isinstance(hit, Entry):
                    return hit
        return None

    def source(self, code: object) -> Source | None:
        key = normalize_code(code)
        if key is None:
            return None
        hit = self.sources.get(key)
        if hit is None:
            hit = self.source_names.get(normalize_name(key))
        return hit if isinstance(hit, Source) else None


def _put(table: dict[str, Any], key: str, entry: Any) -> None:
    existing = table.get(key)
    if existing is None:
        table[key] = entry
    elif existing is not entry:
        table[key] = _AMBIGUOUS


def _strip(name: str, prefixes: tuple[str, ...]) -> str:
    for prefix in prefixes:
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix):]
    return name


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """The shared categories and outcomes (`catalogs/taxonomy.yaml`)."""

    categories: dict[str, dict[str, str]]
    outcomes: dict[str, dict[str, str]]


class Catalogs:
    """All loaded vendor catalogs with O(1) lookup, disconnect sources and cross-vendor equivalents."""

    def __init__(self, taxonomy: Taxonomy, vendors: dict[str, VendorCatalog], errors: list[str]) -> None:
        self.taxonomy = taxonomy
        self._vendors = vendors
        #: Problems found while loading (user catalogs rejected...): shown, never fatal.
        self.errors = errors
        self._vendor_names: dict[str, str] = {}
        for vendor in vendors.values():
            for name in (vendor.id, *vendor.aliases):
                self._vendor_names.setdefault(normalize_name(name), vendor.id)
        self._by_category: dict[str, list[Entry]] = {}
        for vendor in vendors.values():
            for entry in vendor.entries.values():
                if entry.namespace != CLASS_NAMESPACE:
                    self._by_category.setdefault(entry.category, []).append(entry)
        self._cache: dict[tuple[Any, ...], Reason] = {}

    @property
    def vendors(self) -> list[str]:
        """Vendor ids in catalog order."""
        return list(self._vendors)

    def vendor(self, vendor_id: str) -> VendorCatalog:
        return self._vendors[vendor_id]

    def entries(self, vendor: str) -> list[Entry]:
        """Every entry of a vendor, in file order (empty for an unknown vendor)."""
        vid = self.vendor_id(vendor)
        return list(self._vendors[vid].entries.values()) if vid else []

    def vendor_id(self, name: object) -> str | None:
        """The vendor id for any accepted spelling (`Azure` -> `acs`), or None."""
        if not isinstance(name, str):
            return None
        return self._vendor_names.get(normalize_name(name))

    def lookup(
        self,
        vendor: object,
        code: object,
        subcode: object = None,
        namespace: str | None = None,
    ) -> Reason:
        """Resolve a vendor's code (int, numeric string or any spelling of a name) to a Reason.

        ACS: exact (code, subcode) -> a unique subcode -> the code-only row -> the code class -> unknown;
        a missing subcode is not 0. JsSIP: a SIP status resolves to the cause grouping it. Never raises.
        """
        cache_key = (vendor, code, subcode, namespace)
        try:
            cached = self._cache.get(cache_key)
        except TypeError:  # unhashable input (a dict from a hostile payload)
            cached, cache_key = None, None
        if cached is not None:
            return cached
        raw_vendor = vendor if isinstance(vendor, str) else str(vendor)
        code_s = normalize_code(code)
        sub_s = normalize_code(subcode)
        vid = self.vendor_id(raw_vendor)
        if vid is None:
            result = Reason(raw_vendor[:64], code_s or "", sub_s, False, "none", None, namespace)
        elif code_s is None:
            result = Reason(vid, "", sub_s, False, "none", None, namespace)
        else:
            result = self._vendors[vid].lookup(code_s, sub_s, namespace)
        if cache_key is not None and len(self._cache) < 100_000:
            self._cache[cache_key] = result
        return result

    def source(self, vendor: object, code: object) -> Source | None:
        """Who ended the call: the catalogued disconnect source for a vendor's value, or None."""
        vid = self.vendor_id(vendor)
        return self._vendors[vid].source(code) if vid else None

    def sources(self, vendor: str) -> list[Source]:
        vid = self.vendor_id(vendor)
        return list(self._vendors[vid].sources.values()) if vid else []

    def equivalents(self, entry: Entry) -> list[Entry]:
        """Entries of the other vendors in the same category, closest first, else in catalog order."""
        same = [e for e in self._by_category.get(entry.category, ()) if e.vendor != entry.vendor]
        # A vendor's secondary spaces (LiveKit SIP statuses, legacy tables) only stand in for it when its
        # main space has nothing in the category: otherwise they drown the real equivalents.
        main = {e.vendor for e in same if e.namespace == self._vendors[e.vendor].default_namespace}
        same = [e for e in same if e.vendor not in main or e.namespace == self._vendors[e.vendor].default_namespace]
        # Closest first: same outcome, current (not deprecated), the vendor's main numbering space.
        return sorted(same, key=lambda e: (
            e.outcome != entry.outcome, e.deprecated, e.namespace != self._vendors[e.vendor].default_namespace))

    def namespaces(self, vendor: str) -> list[Namespace]:
        vid = self.vendor_id(vendor)
        return list(self._vendors[vid].namespaces.values()) if vid else []

    def documents(self, vendor: str) -> list[Document]:
        vid = self.vendor_id(vendor)
        return list(self._vendors[vid].documents.values()) if vid else []


# --------------------------------------------------------------------------- loading and validation


def _load_taxonomy(path: Path) -> Taxonomy:
    data = safe_load_yaml(path.read_bytes(), path.name)
    if not isinstance(data, dict):
        raise CatalogError(path.name, "taxonomy must be a mapping")
    tables: dict[str, dict[str, dict[str, str]]] = {}
    for key in ("categories", "outcomes"):
        items = data.get(key)
        if not isinstance(items, list) or not items:
            raise CatalogError(path.name, f"field '{key}': must be a non-empty list")
        table: dict[str, dict[str, str]] = {}
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not all(
                isinstance(item.get(k), str) for k in ("id", "label", "description")
            ):
                raise CatalogError(path.name, f"{key}[{i}]: needs string id, label and description")
            table[item["id"]] = {"label": item["label"], "description": item["description"]}
        tables[key] = table
    return Taxonomy(tables["categories"], tables["outcomes"])


class _Validator:
    """Checks one catalog file's plain data against the schema, collecting located errors."""

    def __init__(self, filename: str, taxonomy: Taxonomy, lines: dict[str, list[int]]) -> None:
        self.filename = filename
        self.taxonomy = taxonomy
        self.lines = lines

    def fail(self, message: str, section: str | None = None, index: int | None = None) -> CatalogError:
        line = None
        if section is not None and index is not None:
            section_lines = self.lines.get(section, [])
            line = section_lines[index] if index < len(section_lines) else None
        return CatalogError(self.filename, message, line)

    @staticmethod
    def _describe(value: object) -> str:
        return f"{type(value).__name__} {value!r}"[:80]

    def string(self, item: dict[str, Any], key: str, where: str, section: str, index: int, *, required: bool) -> str | None:
        if key not in item:
            if required:
                raise self.fail(f"{where}: field '{key}' is required", section, index)
            return None
        value = item[key]
        if not isinstance(value, str):
            hint = " (quote it: YAML reads unquoted 0123, NO, 1:30 as numbers or booleans)" if key in (
                "code", "subcode") else ""
            raise self.fail(
                f"{where}: field '{key}' must be a string, got {self._describe(value)}{hint}", section, index
            )
        if required and not value.strip():
            raise self.fail(f"{where}: field '{key}' must not be empty", section, index)
        return value

    def strings(self, item: dict[str, Any], key: str, where: str, section: str, index: int) -> tuple[str, ...]:
        value = item.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{where}: field '{key}' must be a list of strings, got {self._describe(value)}",
                            section, index)
        return tuple(value)


#: Bumped whenever the hardened loader changes what it returns, so stale cache files are ignored.
_CACHE_VERSION = "1"


def _cache_dir() -> Path | None:
    if os.environ.get("CALLWATCH_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "callwatch" / "catalogs"


def _load_yaml_cached(raw: bytes, name: str) -> tuple[Any, dict[str, list[int]]]:
    """`load_catalog_yaml`, memoised on disk by content hash.

    The pure-Python hardened loader costs ~0.3 s for the bundled catalogs on every start; the parsed
    data as JSON loads in milliseconds. Only data that survives a JSON round trip unchanged is cached
    (a YAML date would come back as a string and slip past validation), and the cache is only ever a
    copy of what the hardened loader produced from the same bytes: validation still runs on it.
    """
    digest = hashlib.sha256(_CACHE_VERSION.encode() + raw).hexdigest()
    directory = _cache_dir()
    cached = directory / f"{digest}.json" if directory else None
    if cached is not None:
        try:
            blob = orjson.loads(cached.read_bytes())
            if blob.get("sha256") == digest:
                return blob["data"], blob["lines"]
        except (OSError, ValueError, AttributeError, KeyError):
            pass  # missing or damaged cache: parse the YAML
    data, lines = load_catalog_yaml(raw, name)
    if cached is not None:
        try:
            dumped = orjson.dumps({"sha256": digest, "data": data, "lines": lines})
            if orjson.loads(dumped)["data"] == data:
                cached.parent.mkdir(parents=True, exist_ok=True)
                tmp = cached.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(dumped)
                os.replace(tmp, cached)
        except (OSError, TypeError, orjson.JSONEncodeError):
            pass  # read-only home, odd data: the cache is an optimisation only
    return data, lines


def _parse_vendor_file(path: Path, taxonomy: Taxonomy, base: VendorCatalog | None, label: str) -> VendorCatalog:
    """Validate one vendor file and merge it into `base` (a copy is returned; base is untouched)."""
    name = path.name if label == "bundled" else str(path)
    data, lines = _load_yaml_cached(path.read_bytes(), name)
    v = _Validator(name, taxonomy, lines)
    if not isinstance(data, dict):
        raise v.fail("a catalog must be a mapping with 'vendor' and 'entries'")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise v.fail(f"unknown top-level field(s): {', '.join(sorted(map(str, unknown)))}")
    if data.get("schema") != SCHEMA_VERSION:
        raise v.fail(f"field 'schema' must be the string \"{SCHEMA_VERSION}\", got {v._describe(data.get('schema'))}")
    vendor_id = data.get("vendor")
    if not isinstance(vendor_id, str) or not _VENDOR_ID.match(vendor_id):
        raise v.fail(f"field 'vendor' must be a lower-case id like 'acs', got {v._describe(vendor_id)}")
    if base is None:
        vc = VendorCatalog(id=vendor_id, title="")
    else:
        vc = VendorCatalog(
            id=base.id, title=base.title, aliases=base.aliases, documents=dict(base.documents),
            namespaces=dict(base.namespaces), entries=dict(base.entries), sources=dict(base.sources),
            files=list(base.files),
        )
    vc.files.append(name)
    title = data.get("title", vc.title or None)
    if not isinstance(title, str) or not title:
        raise v.fail("field 'title' must be a non-empty string")
    vc.title = title
    if "aliases" in data:
        vc.aliases = vc.aliases + v.strings(data, "aliases", "vendor", "", 0)

    for i, doc in enumerate(data.get("documents") or []):
        where = f"documents[{i}]"
        if not isinstance(doc, dict) or set(doc) - _DOC_KEYS:
            raise v.fail(f"{where}: must be a mapping of {sorted(_DOC_KEYS)}", "documents", i)
        did = v.string(doc, "id", where, "documents", i, required=True)
        vc.documents[did] = Document(
            did,
            v.string(doc, "title", where, "documents", i, required=True) or "",
            v.string(doc, "version", where, "documents", i, required=True) or "",
            v.string(doc, "url", where, "documents", i, required=False),
        )
    for i, ns in enumerate(data.get("namespaces") or []):
        where = f"namespaces[{i}]"
        if not isinstance(ns, dict) or set(ns) - _NS_KEYS:
            raise v.fail(f"{where}: must be a mapping of {sorted(_NS_KEYS)}", "namespaces", i)
        nid = v.string(ns, "id", where, "namespaces", i, required=True) or ""
        vc.namespaces[nid] = Namespace(
            nid,
            v.string(ns, "title", where, "namespaces", i, required=True) or "",
            v.string(ns, "description", where, "namespaces", i, required=False) or "",
            v.strings(ns, "strip_prefixes", where, "namespaces", i),
        )
    if not vc.namespaces:
        raise v.fail("field 'namespaces' must list at least one namespace")

    entries = data.get("entries", [])
    if not isinstance(entries, list):
        raise v.fail("field 'entries' must be a list")
    seen: set[tuple[str, str, str | None]] = set()
    for i, item in enumerate(entries):
        entry = _parse_entry(v, vc, item, i, label)
        key = (entry.namespace, entry.code, entry.subcode)
        if key in seen:
            raise v.fail(f"entry {i} (code {entry.code!r}): duplicate of an earlier entry with the same "
                         f"namespace, code and subcode", "entries", i)
        seen.add(key)
        vc.entries[key] = entry

    for i, item in enumerate(data.get("disconnect_sources") or []):
        where = f"disconnect_sources[{i}]"
        if not isinstance(item, dict):
            raise v.fail(f"{where}: must be a mapping", "disconnect_sources", i)
        extra = set(item) - _SOURCE_KEYS
        if extra:
            raise v.fail(f"{where}: unknown field(s) {sorted(map(str, extra))}", "disconnect_sources", i)
        code = normalize_code(v.string(item, "code", where, "disconnect_sources", i, required=True))
        vc.sources[code or ""] = Source(
            vendor=vc.id,
            code=code or "",
            name=v.string(item, "name", where, "disconnect_sources", i, required=True) or "",
            aliases=v.strings(item, "aliases", where, "disconnect_sources", i),
            description=clean_multiline(
                v.string(item, "description", where, "disconnect_sources", i, required=True) or "", 2000),
        )
    return vc


def _parse_entry(v: _Validator, vc: VendorCatalog, item: object, i: int, label: str) -> Entry:
    if not isinstance(item, dict):
        raise v.fail(f"entry {i}: must be a mapping", "entries", i)
    code_value = item.get("code")
    where = f"entry {i} (code {code_value!r})"
    extra = set(item) - _ENTRY_KEYS
    if extra:
        raise v.fail(f"{where}: unknown field(s) {sorted(map(str, extra))}", "entries", i)
    text = {k: v.string(item, k, where, "entries", i, required=True) or "" for k in sorted(_ENTRY_STR)}
    opt = {k: v.string(item, k, where, "entries", i, required=False) for k in sorted(_ENTRY_OPT_STR)}
    # Every string a screen may show is made safe once, here (user catalogs are as untrusted as feeds).
    lists = {k: tuple(clean(x, 200) for x in v.strings(item, k, where, "entries", i)) for k in sorted(_ENTRY_LIST)}
    namespace = opt["namespace"] or next(iter(vc.namespaces))
    if namespace not in vc.namespaces:
        raise v.fail(f"{where}: field 'namespace': {namespace!r} is not declared in 'namespaces'", "entries", i)
    if text["category"] not in v.taxonomy.categories:
        raise v.fail(f"{where}: field 'category': {text['category']!r} is not a taxonomy category "
                     f"({', '.join(v.taxonomy.categories)})", "entries", i)
    if text["outcome"] not in v.taxonomy.outcomes:
        raise v.fail(f"{where}: field 'outcome': {text['outcome']!r} is not one of "
                     f"{', '.join(v.taxonomy.outcomes)}", "entries", i)
    for doc in lists["documents"]:
        if doc not in vc.documents:
            raise v.fail(f"{where}: field 'documents': {doc!r} is not declared in 'documents'", "entries", i)
    seed_text = item.get("seed_text", {})
    if not isinstance(seed_text, dict) or not all(
        isinstance(k, str) and isinstance(t, str) for k, t in seed_text.items()
    ):
        raise v.fail(f"{where}: field 'seed_text' must map document ids to strings", "entries", i)
    for doc in seed_text:
        if doc not in vc.documents:
            raise v.fail(f"{where}: field 'seed_text': {doc!r} is not declared in 'documents'", "entries", i)
    deprecated = item.get("deprecated", False)
    if not isinstance(deprecated, bool):
        raise v.fail(f"{where}: field 'deprecated' must be true or false", "entries", i)
    code = normalize_code(text["code"])
    if code is None:
        raise v.fail(f"{where}: field 'code' must not be empty or null", "entries", i)
    # Catalog text is shown on screen: user catalogs are as untrusted as feeds.
    safe = {k: clean_multiline(text[k], 4000) for k in ("description", "summary", "advice")}
    return Entry(
        vendor=vc.id,
        namespace=namespace,
        code=code,
        subcode=normalize_code(opt["subcode"]) if opt["subcode"] is not None else None,
        name=clean_multiline(text["name"], 200),
        aliases=lists["aliases"],
        description=safe["description"],
        summary=safe["summary"],
        advice=safe["advice"],
        category=text["category"],
        outcome=text["outcome"],
        vendor_category=clean(opt["vendor_category"], 100) if opt["vendor_category"] else None,
        applies_to=lists["applies_to"],
        origin=clean(opt["origin"], 100) if opt["origin"] else None,
        platforms=lists["platforms"],
        contexts=lists["contexts"],
        sip_status=tuple(normalize_code(s) or s for s in lists["sip_status"]),
        protocol_equivalent=normalize_code(opt["protocol_equivalent"]),
        deprecated=deprecated,
        documents=lists["documents"],
        seed_text={k: clean_multiline(t, 4000) for k, t in seed_text.items()},
        catalog_file=label,
    )


def _catalog_files(directory: Path) -> list[Path]:
    if directory.is_file():
        return [directory]
    return sorted(p for p in directory.glob("*.y*ml") if p.name != "taxonomy.yaml")


def user_catalog_dirs(extra_dirs: Sequence[Path | str] = (), env: dict[str, str] | None = None) -> list[Path]:
    """User catalog locations: `CALLWATCH_CATALOGS` entries, then `--catalog-dir` ones (later wins)."""
    env = os.environ if env is None else env
    dirs = [Path(p) for p in env.get(ENV_CATALOGS, "").split(os.pathsep) if p.strip()]
    return dirs + [Path(p) for p in extra_dirs]


def build_catalogs(extra_dirs: Sequence[Path | str] = (), *, bundled_dir: Path | None = None) -> Catalogs:
    """Load the bundled catalogs plus user catalogs. A broken user file is reported in `errors` and
    skipped; the bundled catalogs must load (a broken bundled catalog is a packaging bug: it raises)."""
    root = bundled_dir or catalogs_dir()
    taxonomy = _load_taxonomy(root / "taxonomy.yaml")
    vendors: dict[str, VendorCatalog] = {}
    errors: list[str] = []
    for filename in VENDOR_FILES:
        vc = _parse_vendor_file(root / filename, taxonomy, None, "bundled")
        vendors[vc.id] = vc
    for directory in extra_dirs:
        path = Path(directory)
        if not path.exists():
            errors.append(f"{path}: catalog directory not found")
            continue
        for file in _catalog_files(path):
            try:
                probe = safe_load_yaml(file.read_bytes(), str(file))
                vid = probe.get("vendor") if isinstance(probe, dict) else None
                base = vendors.get(vid) if isinstance(vid, str) else None
                vc = _parse_vendor_file(file, taxonomy, base, str(file))
                vendors[vc.id] = vc
            except CatalogError as exc:
                errors.append(f"catalog rejected: {exc}")
            except OSError as exc:
                errors.append(f"catalog rejected: {file}: {exc.strerror or exc}")
    for vc in vendors.values():
        vc.build_indexes()
    return Catalogs(taxonomy, vendors, errors)


def validate_files(paths: Sequence[Path], *, bundled_dir: Path | None = None) -> list[str]:
    """Validate catalog files or directories against the schema; return the problems (empty = valid)."""
    root = bundled_dir or catalogs_dir()
    problems: list[str] = []
    try:
        taxonomy = _load_taxonomy(root / "taxonomy.yaml")
    except CatalogError as exc:
        return [str(exc)]
    bundled = build_catalogs(bundled_dir=root)
    for path in paths:
        if not path.exists():
            problems.append(f"{path}: not found")
            continue
        for file in _catalog_files(path):
            try:
                # A user file extending a bundled vendor may omit title, documents and namespaces.
                base = None
                if file.resolve().parent != root.resolve():
                    probe = safe_load_yaml(file.read_bytes(), str(file))
                    vid = probe.get("vendor") if isinstance(probe, dict) else None
                    if isinstance(vid, str) and vid in bundled.vendors:
                        base = bundled.vendor(vid)
                _parse_vendor_file(file, taxonomy, base, str(file))
            except CatalogError as exc:
                problems.append(str(exc))
            except OSError as exc:
                problems.append(f"{file}: {exc.strerror or exc}")
    return problems


@lru_cache(maxsize=8)
def _cached(extra: tuple[str, ...]) -> Catalogs:
    return build_catalogs(extra)


def load_catalogs(extra_dirs: Sequence[Path | str] = ()) -> Catalogs:
    """The bundled catalogs plus user catalogs from `CALLWATCH_CATALOGS` and `extra_dirs`, cached."""
    return _cached(tuple(str(p) for p in user_catalog_dirs(extra_dirs)))
