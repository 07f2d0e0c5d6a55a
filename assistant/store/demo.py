"""The demo shop: a 500+ product catalogue, the demo user's history and other shoppers' orders."""

from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timedelta
from pathlib import Path

from assistant.store.catalog import read_catalogue, upsert_products
from assistant.store.db import Connection, Database

log = logging.getLogger(__name__)

DATA = Path(__file__).parent / "data"
CATALOG_FILE = DATA / "catalog.csv"
HISTORY_FILE = DATA / "demo_history.json"
SHOPPERS = 300
"""Other customers whose orders give the co-purchase figures."""

DEMO_LOAD_WAIT_S = 60.0


def ensure_demo(db: Database, user: str) -> bool:
    """Load the demo shop into an empty database, once. Returns True if it loaded it now.

    The check and the whole load are one write transaction, so processes starting together on an
    empty data directory load it exactly once, and a failure (a full disk) leaves no half-loaded shop."""
    if db.meta("demo_loaded"):
        return False
    items, problems = read_catalogue(CATALOG_FILE)
    history = json.loads(HISTORY_FILE.read_text(encoding="utf-8"))
    # another process loading it holds the write lock for a few seconds (longer on a server): wait for it
    with db.transaction(busy_timeout=DEMO_LOAD_WAIT_S) as tx:
        # a shop's own catalogue (products without the demo's mark) is never mixed with the demo
        if (
            tx.execute("SELECT 1 FROM meta WHERE key = 'demo_loaded'").fetchone()
            or tx.execute("SELECT 1 FROM products LIMIT 1").fetchone()
        ):
            return False
        log.info("loading the demo shop into %s", db.where)
        report = upsert_products(tx, items, problems)
        _load_history(tx, user, history)
        tx.execute(
            "INSERT INTO meta VALUES ('demo_loaded', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (datetime.now().isoformat(),),
        )
    if problems:
        log.warning("demo catalogue had %d bad rows", len(problems))
    log.info("demo shop: %d products, demo user %r with %d orders", report.created, user, len(history["user_orders"]))
    return True


def _load_history(tx: Connection, user: str, history: dict) -> None:
    """The demo user's past orders and 300 other shoppers' orders, from a fixed seed."""
    ids = {r["sku"]: (r["id"], r["price_pence"]) for r in tx.execute("SELECT id, sku, price_pence FROM products")}
    rng = random.Random(20261124)
    now = datetime.now().replace(microsecond=0)
    tx.execute("INSERT INTO users(name) VALUES (?) ON CONFLICT DO NOTHING", (user,))
    user_id = tx.execute("SELECT id FROM users WHERE name = ?", (user,)).fetchone()[0]
    bundles = history["bundles"]
    weights = [b.get("weight", 1) for b in bundles]
    by_category: dict[str, list[str]] = {}
    for row in tx.execute("SELECT sku, category FROM products"):
        by_category.setdefault(row["category"], []).append(row["sku"])
    # order numbers start at 1001, as a shop's do
    if tx.engine == "sqlite":
        tx.execute("INSERT INTO sqlite_sequence(name, seq) SELECT 'orders', 1000 WHERE NOT EXISTS "
                   "(SELECT 1 FROM sqlite_sequence WHERE name = 'orders')")  # fmt: skip
    else:
        tx.execute("SELECT setval(pg_get_serial_sequence('orders', 'id'), 1000)")
    for spec in history["user_orders"]:
        _insert_order(
            tx,
            user_id,
            now - timedelta(days=spec["days_ago"]),
            [(ln["sku"], ln["quantity"]) for ln in spec["lines"]],
            ids,
        )
    for n in range(SHOPPERS):
        tx.execute("INSERT INTO users(name) VALUES (?) ON CONFLICT DO NOTHING", (f"shopper-{n:03d}",))
        shopper = tx.execute("SELECT id FROM users WHERE name = ?", (f"shopper-{n:03d}",)).fetchone()[0]
        habits = rng.choices(bundles, weights=weights, k=rng.randint(1, 3))
        for _ in range(rng.randint(1, 4)):
            lines: dict[str, int] = {}
            for bundle in habits:
                picked = [s for s in bundle["skus"] if rng.random() < 0.75]
                for sku in picked:
                    lines[sku] = rng.randint(1, 2)
            # some noise from the same categories, as real baskets have
            for sku in list(lines)[:2]:
                category = next((c for c, skus in by_category.items() if sku in skus), None)
                if category and rng.random() < 0.4:
                    lines[rng.choice(by_category[category])] = 1
            if lines:
                when = now - timedelta(days=rng.randint(4, 200), hours=rng.randint(0, 23))
                _insert_order(tx, shopper, when, list(lines.items()), ids)


def _insert_order(
    tx, user_id: int, when: datetime, lines: list[tuple[str, int]], ids: dict[str, tuple[int, int]]
) -> None:
    known = [(ids[sku], qty) for sku, qty in lines if sku in ids]
    if not known:
        return
    total = sum(price * qty for (_, price), qty in known)
    order_id = tx.execute(
        "INSERT INTO orders(user_id, status, total_pence, address, placed_at, deliver_on) "
        "VALUES (?, 'delivered', ?, 'Home', ?, ?) RETURNING id",
        (user_id, total, when.isoformat(sep=" "), (when + timedelta(days=1)).date().isoformat()),
    ).fetchone()[0]
    tx.executemany(
        "INSERT INTO order_lines(order_id, product_id, quantity, price_pence) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(order_id, pid, qty, price) for (pid, price), qty in known],
    )
