"""`assistant store ...`: the database's schema, and copying it to another."""

from __future__ import annotations

import argparse
import logging

from assistant.cli.common import _config
from assistant.errors import AssistantError

log = logging.getLogger("assistant")


def cmd_store_migrate(args: argparse.Namespace) -> int:
    from assistant.store import Database

    config = _config(args)
    db = Database(config.data_dir, args.url or config.store.url)  # opening brings the schema up to date
    print(f"{db.where}: schema version {db.schema_version()} ({db.engine}), up to date.")
    return 0


def cmd_store_copy(args: argparse.Namespace) -> int:
    from assistant.store import Database
    from assistant.store.copy import copy_store

    config = _config(args)
    source, target = Database(config.data_dir, args.source), Database(config.data_dir, args.target)
    if source.url == target.url:
        raise AssistantError(f"{source.where}: the source and the target are the same store")
    report = copy_store(source, target)
    busiest = ", ".join(f"{n} {t}" for t, n in sorted(report.rows.items(), key=lambda kv: -kv[1])[:4] if n)
    print(f"Copied {report.total} rows from {source.where} to {target.where} ({busiest}).")
    return 0
