"""`callwatch lookup VENDOR CODE [SUBCODE] [--json]`: what a vendor's code means."""

from __future__ import annotations

import argparse
import json
import sys

from tui.commands.common import catalogs_for
from tui.domain.model import Reason


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "lookup",
        parents=[common],
        help="look up one disconnect reason",
        description="Look up a vendor's disconnect reason by number or by any of its names. "
        "Exit status: 0 known, 1 unknown, 2 usage error.",
        epilog="examples: callwatch lookup planetkit 1205 | callwatch lookup acs 487 10004 | "
        "callwatch lookup livekit LIVEKIT_FAILURE_REASON_PING_TIMEOUT --json | callwatch lookup jssip 486",
    )
    p.add_argument("vendor", help="planetkit, livekit, acs or jssip (or an alias such as azure)")
    p.add_argument("code", help="the code: a number, or a name in any spelling the vendor uses")
    p.add_argument("subcode", nargs="?", help="ACS subcode (omit when the payload had none)")
    p.add_argument("--namespace", help="search only this namespace (e.g. c_sdk, call_end_reason)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def format_reason(reason: Reason, equivalents: list[str], source_doc: str) -> str:
    """The human-readable lookup answer."""
    raw = reason.code if reason.subcode is None else f"{reason.code} / {reason.subcode}"
    if not reason.known:
        return (
            f"{reason.vendor} {raw}: unknown\n"
            f"  {reason.description}\n  advice: {reason.advice}\n"
        )
    e = reason.entry
    assert e is not None
    lines = [
        f"{reason.vendor} {raw} -> {e.name}   [{e.namespace}, matched: {reason.matched}]",
        f"  category: {e.category}   outcome: {e.outcome}"
        + (f"   vendor category: {e.vendor_category}" if e.vendor_category else ""),
    ]
    if e.aliases:
        lines.append(f"  also spelled: {', '.join(e.aliases)}")
    if e.applies_to:
        lines.append(f"  applies to: {', '.join(e.applies_to)}")
    if e.sip_status:
        lines.append(f"  SIP status: {', '.join(e.sip_status)}")
    lines += [f"  {e.description}", "", f"  summary: {e.summary}", f"  advice:  {e.advice}"]
    if equivalents:
        lines.append(f"  equivalents: {'; '.join(equivalents)}")
    if source_doc:
        lines.append(f"  source: {source_doc}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    catalogs = catalogs_for(args)
    if catalogs.vendor_id(args.vendor) is None:
        known = ", ".join(catalogs.vendors)
        print(f"callwatch lookup: unknown vendor {args.vendor!r} (known: {known})", file=sys.stderr)
    if args.namespace and catalogs.vendor_id(args.vendor) and args.namespace not in {
        ns.id for ns in catalogs.namespaces(args.vendor)
    }:
        print(f"callwatch lookup: {args.vendor} has no namespace {args.namespace!r}", file=sys.stderr)
        return 2
    reason = catalogs.lookup(args.vendor, args.code, args.subcode, args.namespace)
    equivalents = catalogs.equivalents(reason.entry) if reason.entry else []
    if args.json:
        data = reason.to_dict()
        data["equivalents"] = [
            {"vendor": e.vendor, "namespace": e.namespace, "code": e.code, "subcode": e.subcode, "name": e.name}
            for e in equivalents
        ]
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        # The same name can exist in two namespaces of a vendor (LiveKit protocol and C SDK): list it once.
        names = list(dict.fromkeys(f"{e.vendor} {e.name}" for e in equivalents if not e.deprecated))[:8]
        docs = ""
        if reason.entry:
            docs = "; ".join(
                f"{d.title} ({d.version})" for d in catalogs.documents(reason.vendor) if d.id in reason.entry.documents
            )
        sys.stdout.write(format_reason(reason, names, docs))
    return 0 if reason.known else 1
