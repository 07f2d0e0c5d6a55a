"""`assistant catalog import`: a shop's catalogue into the store."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from assistant.cli.common import _config

log = logging.getLogger("assistant")


def cmd_catalog_import(args: argparse.Namespace) -> int:
    from assistant.store import Catalog, Database, ensure_demo

    config = _config(args)
    db = Database(config.data_dir, config.store.url)
    ensure_demo(db, config.user)
    report = Catalog(db).import_file(Path(args.file))
    for problem in report.problems:
        print(f"skipped {problem}", file=sys.stderr)
    if report.updated_skus:
        shown = ", ".join(report.updated_skus[:10]) + (" ..." if report.updated > 10 else "")
        print(f"replaced {report.updated} products already in the shop (same SKU): {shown}", file=sys.stderr)
    print(
        f"Imported {report.imported} products from {args.file}: {report.created} new, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.skipped} skipped."
    )
    if report.price_changes:
        print(f"{report.price_changes} prices changed; {report.price_news} price watches will be told of it.")
    if not report.imported:
        print(f"warning: {args.file}: no products imported", file=sys.stderr)
    return 0 if report.imported else 1
