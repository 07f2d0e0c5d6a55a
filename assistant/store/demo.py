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
    """The demo user's past orders and 300 other shoppers' orders, from a fixed seed: made here, then
    written in three statements (a round trip a statement costs seconds on a server, not on a file)."""
    ids = {r["sku"]: (r["id"], r["price_pence"]) for r in tx.execute("SELECT id, sku, price_pence FROM products")}
    rng = random.Random(20261124)
    now = datetime.now().replace(microsecond=0)
    names = [user] + [f"shopper-{n:03d}" for n in range(SHOPPERS)]
    tx.executemany("INSERT INTO users(name) VALUES (?) ON CONFLICT DO NOTHING", [(n,) for n in names])
    user_ids = {r["name"]: r["id"] for r in tx.execute("SELECT id, name FROM users")}
    bundles = history["bundles"]
    weights = [b.get("weight", 1) for b in bundles]
    by_category: dict[str, list[str]] = {}
    for row in tx.execute("SELECT sku, category FROM products"):
        by_category.setdefault(row["category"], []).append(row["sku"])
    made: list[tuple[int, datetime, list[tuple[str, int]]]] = [
        (user_ids[user], now - timedelta(days=spec["days_ago"]), [(ln["sku"], ln["quantity"]) for ln in spec["lines"]])
        for spec in history["user_orders"]
    ]
    for n in range(SHOPPERS):
        shopper = user_ids[f"shopper-{n:03d}"]
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
                made.append((shopper, when, list(lines.items())))
    orders, order_lines = [], []
    order_id = 1000  # order numbers start at 1001, as a shop's do
    for user_id, when, lines in made:
        first = {sku: qty for sku, qty in reversed(lines)}  # a product said twice: its first line, once
        known = [(ids[sku], first.pop(sku)) for sku, _ in lines if sku in ids and sku in first]
        if not known:
            continue
        order_id += 1
        total = sum(price * qty for (_, price), qty in known)
        orders.append((order_id, user_id, total, when.isoformat(sep=" "), (when + timedelta(days=1)).date().isoformat()))
        order_lines += [(order_id, pid, qty, price) for (pid, price), qty in known]
    tx.executemany(
        "INSERT INTO orders(id, user_id, status, total_pence, address, placed_at, deliver_on) "
        "VALUES (?, ?, 'delivered', ?, 'Home', ?, ?)",
        orders,
    )
    tx.executemany("INSERT INTO order_lines(order_id, product_id, quantity, price_pence) VALUES (?, ?, ?, ?)", order_lines)
    if tx.engine == "postgresql":  # SQLite's numbering goes on after the largest id written; a sequence doesn't
        tx.execute("SELECT setval(pg_get_serial_sequence('orders', 'id'), ?)", (order_id,))
