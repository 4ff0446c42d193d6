"""`callwatch catalogs list|show|map|validate`: browse and check the vendor catalogs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tui.commands.common import catalogs_for
from tui.domain.catalog import validate_files
from tui.resources import catalogs_dir


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "catalogs",
        parents=[common],
        help="list, show, map or validate the vendor catalogs",
        epilog="examples: callwatch catalogs list | callwatch catalogs show acs | callwatch catalogs map | "
        "callwatch catalogs validate my-codes.yaml",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="vendors, entry counts and source versions").add_argument(
        "--json", action="store_true")
    show = actions.add_parser("show", help="every entry of one vendor")
    show.add_argument("vendor")
    show.add_argument("--json", action="store_true")
    actions.add_parser("map", help="the cross-vendor table by category").add_argument(
        "--json", action="store_true")
    validate = actions.add_parser("validate", help="validate catalog files (default: the bundled ones)")
    validate.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "validate":
        paths = args.paths or [catalogs_dir()]
        problems = validate_files(paths)
        for problem in problems:
            print(problem, file=sys.stderr)
        if not problems:
            print(f"ok: {', '.join(str(p) for p in paths)}")
        return 1 if problems else 0
    catalogs = catalogs_for(args)
    if args.action == "list":
        rows = []
        for vid in catalogs.vendors:
            vc = catalogs.vendor(vid)
            rows.append({
                "vendor": vid,
                "title": vc.title,
                "entries": len(vc.entries),
                "namespaces": {ns: sum(1 for e in vc.entries.values() if e.namespace == ns) for ns in vc.namespaces},
                "sources": len(vc.sources),
                "documents": [f"{d.title} ({d.version})" for d in vc.documents.values()],
                "files": vc.files,
            })
        if args.json:
            print(json.dumps(rows, indent=2, ensure_ascii=False))
            return 0
        for row in rows:
            ns = ", ".join(f"{k} {v}" for k, v in row["namespaces"].items())
            print(f"{row['vendor']:<10} {row['entries']:>4} entries  ({ns}); {row['sources']} disconnect sources")
            print(f"           {row['title']}")
            for doc in row["documents"]:
                print(f"           - {doc}")
        return 0
    if args.action == "show":
        vid = catalogs.vendor_id(args.vendor)
        if vid is None:
            print(f"callwatch catalogs: unknown vendor {args.vendor!r} (known: {', '.join(catalogs.vendors)})",
                  file=sys.stderr)
            return 2
        entries = catalogs.entries(vid)
        if args.json:
            print(json.dumps([catalogs.lookup(vid, e.code, e.subcode, e.namespace).to_dict() for e in entries],
                             indent=2, ensure_ascii=False))
            return 0
        for e in entries:
            code = e.code if e.subcode is None else f"{e.code}/{e.subcode}"
            flag = " (deprecated)" if e.deprecated else ""
            print(f"{e.namespace:<22} {code:<14} {e.name:<40} {e.category:<18} {e.outcome}{flag}")
        for s in catalogs.sources(vid):
            print(f"{'source':<22} {s.code:<14} {s.name:<40} {s.description}")
        return 0
    # map
    table: dict[str, dict[str, list[str]]] = {}
    for vid in catalogs.vendors:
        for e in catalogs.entries(vid):
            if e.namespace == "code_class" or e.deprecated:
                continue
            table.setdefault(e.category, {}).setdefault(vid, []).append(e.name)
    order = [c for c in catalogs.taxonomy.categories if c in table]
    if args.json:
        print(json.dumps({c: table[c] for c in order}, indent=2, ensure_ascii=False))
        return 0
    for category in order:
        label = catalogs.taxonomy.categories[category]["label"]
        print(f"{category} ({label})")
        for vid in catalogs.vendors:
            names = table[category].get(vid, [])
            if names:
                shown = ", ".join(names[:8]) + (f", … +{len(names) - 8}" if len(names) > 8 else "")
                print(f"  {vid:<10} {shown}")
    return 0
