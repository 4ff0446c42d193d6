"""Pieces every subcommand shares: the catalogs it looks codes up in."""

from __future__ import annotations

import argparse
import sys

from tui.domain.catalog import Catalogs, load_catalogs


def catalogs_for(args: argparse.Namespace) -> Catalogs:
    """The bundled catalogs plus `--catalog-dir` / `CALLWATCH_CATALOGS`. A user catalog that is refused
    is reported on stderr (file and line) and skipped: never fatal, never silent."""
    catalogs = load_catalogs(args.catalog_dir)
    for problem in catalogs.errors:
        print(f"callwatch: {problem}", file=sys.stderr)
    return catalogs
