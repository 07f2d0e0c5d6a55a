"""`assistant orders`: the orders placed."""

from __future__ import annotations

import argparse
import json
import logging

from assistant.cli.common import _config

log = logging.getLogger("assistant")


def cmd_orders(args: argparse.Namespace) -> int:
    from assistant.store import Database, Orders, ensure_demo

    config = _config(args)
    db = Database(config.data_dir, config.store.url)
    ensure_demo(db, config.user)  # a fresh data directory shows the history a chat there would
    orders = Orders(db, config.user).history()
    if args.json:
        print(json.dumps([o.as_dict() for o in orders], ensure_ascii=False, indent=None))
    else:
        for o in orders:
            print(
                f"{o.id}  {o.placed_at:%Y-%m-%d %H:%M}  {o.status:<9}  {o.items:>3} items  {o.total_pence / 100:>8.2f}"
            )
        if not orders:
            print("No orders yet.")
    return 0
