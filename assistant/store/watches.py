"""Price watches: what each member asked to hear about, checked against every price change at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from assistant.sdk.types import PriceNews, Product, Watch
from assistant.store.db import Connection, Database

MAX_WATCHES = 100
"""Watches one member may hold; more is refused (and nobody listens to a hundred alerts)."""
MAX_PRODUCTS = 50
"""Products one watch covers: 'coffee' watches the fifty best matches, not the whole aisle."""


@dataclass(frozen=True)
class PriceChange:
    product_id: int
    old_pence: int
    new_pence: int


class TooManyWatches(ValueError):
    """A member already holds MAX_WATCHES watches."""


class PriceWatches:
    """One member's watches and news (``user_id``); ``check`` serves every member at once."""

    def __init__(self, db: Database, user_id: int) -> None:
        self.db = db
        self.user_id = user_id

    def add(self, query: str, products: Iterable[Product], below_pence: int | None) -> Watch:
        ids = list(dict.fromkeys(p.id for p in products))[:MAX_PRODUCTS]
        if not ids:
            raise ValueError("a watch needs at least one product")
        with self.db.transaction() as tx:
            held = tx.execute("SELECT count(*) FROM watches WHERE user_id = ?", (self.user_id,)).fetchone()[0]
            if held >= MAX_WATCHES:
                raise TooManyWatches(f"{MAX_WATCHES} watches already")
            watch_id = tx.execute(
                "INSERT INTO watches(user_id, query, below_pence) VALUES (?, ?, ?) RETURNING id",
                (self.user_id, query, below_pence),
            ).fetchone()[0]
            tx.executemany(
                "INSERT INTO watch_products(watch_id, product_id) VALUES (?, ?)", [(watch_id, i) for i in ids]
            )
        return Watch(int(watch_id), query, below_pence, len(ids))

    def watches(self) -> list[Watch]:
        rows = self.db.query(
            "SELECT w.id, w.query, w.below_pence, count(wp.product_id) AS n FROM watches w "
            "LEFT JOIN watch_products wp ON wp.watch_id = w.id WHERE w.user_id = ? GROUP BY w.id ORDER BY w.id",
            (self.user_id,),
        )
        return [Watch(r["id"], r["query"], r["below_pence"], r["n"]) for r in rows]

    def remove(self, watch_id: int) -> bool:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM watch_products WHERE watch_id IN "
                       "(SELECT id FROM watches WHERE id = ? AND user_id = ?)", (watch_id, self.user_id))  # fmt: skip
            cur = tx.execute("DELETE FROM watches WHERE id = ? AND user_id = ?", (watch_id, self.user_id))
        return cur.rowcount == 1

    def pending(self) -> int:
        return int(self.db.conn.execute(
            "SELECT count(*) FROM price_news WHERE user_id = ? AND said_at IS NULL", (self.user_id,)
        ).fetchone()[0])  # fmt: skip

    def unsaid(self, limit: int = 20) -> list[PriceNews]:
        """News not yet told, oldest first, marked told in the same transaction: each is said once."""
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT n.id, n.old_pence, n.new_pence, n.below_pence, p.* FROM price_news n "
                "JOIN products p ON p.id = n.product_id WHERE n.user_id = ? AND n.said_at IS NULL "
                "ORDER BY n.id LIMIT ?",
                (self.user_id, limit),
            ).fetchall()
            tx.executemany(
                "UPDATE price_news SET said_at = datetime('now'), said_via = 'asked' WHERE id = ?",
                [(r[0],) for r in rows],
            )
        return [PriceNews(Product.from_row(r), r["old_pence"], r["new_pence"], r["below_pence"]) for r in rows]


def check(tx: Connection, changes: list[PriceChange]) -> int:
    """Inside the transaction that changed the prices: news for every watch a change satisfies.

    A threshold watch speaks when a price crosses below it; an 'any drop' watch when a price falls.
    One piece of news per watch per change of prices, for its cheapest product. Returns how many."""
    drops = [c for c in changes if c.new_pence < c.old_pence]
    if not drops:
        return 0
    tx.execute(
        "CREATE TEMP TABLE IF NOT EXISTS price_moves (product_id INTEGER PRIMARY KEY, was INTEGER, now INTEGER)"
    )
    tx.execute("DELETE FROM price_moves")
    tx.executemany(
        "INSERT INTO price_moves VALUES (?, ?, ?)", [(c.product_id, c.old_pence, c.new_pence) for c in drops]
    )
    # each watch's cheapest product among the moves that satisfy it
    rows = tx.execute(
        "SELECT id, user_id, below_pence, product_id, was, now FROM ("
        " SELECT w.id, w.user_id, w.below_pence, d.product_id, d.was, d.now,"
        " row_number() OVER (PARTITION BY w.id ORDER BY d.now, d.product_id) AS rank"
        " FROM price_moves d JOIN watch_products wp ON wp.product_id = d.product_id"
        " JOIN watches w ON w.id = wp.watch_id"
        " WHERE w.below_pence IS NULL OR (d.now < w.below_pence AND d.was >= w.below_pence)"
        ") AS best WHERE rank = 1 ORDER BY id"
    ).fetchall()
    tx.executemany(
        "INSERT INTO price_news(user_id, watch_id, product_id, old_pence, new_pence, below_pence) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(r["user_id"], r["id"], r["product_id"], r["was"], r["now"], r["below_pence"]) for r in rows],
    )
    tx.execute("DELETE FROM price_moves")
    return len(rows)
