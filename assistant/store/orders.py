"""Baskets and orders, and the store's half of checkout: quotes with single-use tokens, settled once."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from assistant.sdk.types import Line, Order, Product
from assistant.store.db import Connection, Database

STALE_QUOTE_SECONDS = 24 * 3600


class Outcome(StrEnum):
    """What became of a yes to a quote."""

    PLACED = "placed"
    ALREADY_PLACED = "already_placed"
    """This token was placed before: the order id is the earlier order's."""
    CHANGED = "changed"
    """The basket or a price changed since the quote (maybe ordered from another device): re-quote."""
    EXPIRED = "expired"
    DECLINED = "declined"
    """The user said no to this quote; it can never be placed."""
    UNKNOWN = "unknown"
    """No such token for this user and conversation."""


@dataclass(frozen=True)
class Quote:
    """Lines priced by the store for checkout; placing them needs this token."""

    token: str
    lines: tuple[Line, ...]
    total_pence: int
    conversation: str = ""
    """The conversation the question is asked in; the token is good only there."""
    basket_version: int | None = None
    """The basket's version when priced; None for lines that are not the basket (a reorder)."""
    expires_at: float = 0.0
    """Seconds since the epoch after which the token cannot be placed."""

    @property
    def items(self) -> int:
        return sum(line.quantity for line in self.lines)


class Orders:
    """One user's basket and orders."""

    def __init__(self, db: Database, user: str | int) -> None:
        """``user`` is a name (created on first use) or a user id."""
        self.db = db
        self.user_id = user if isinstance(user, int) else db.user_id(user)

    # -- basket -------------------------------------------------------------------------------
    def cart(self) -> list[Line]:
        rows = self.db.query(
            "SELECT p.*, c.quantity FROM cart_items c JOIN products p ON p.id = c.product_id "
            "WHERE c.user_id = ? ORDER BY c.added_at, p.id",
            (self.user_id,),
        )
        return [Line(Product.from_row(r), r["quantity"]) for r in rows]

    def add(self, product_id: int, quantity: int = 1) -> int:
        """Add to the basket; returns the new quantity of that product."""
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO cart_items(user_id, product_id, quantity) VALUES (?, ?, ?) "
                "ON CONFLICT(user_id, product_id) DO UPDATE SET quantity = cart_items.quantity + excluded.quantity",
                (self.user_id, product_id, quantity),
            )
            row = tx.execute(
                "SELECT quantity FROM cart_items WHERE user_id = ? AND product_id = ?",
                (self.user_id, product_id),
            ).fetchone()
        return int(row[0])

    def remove(self, product_id: int, quantity: int | None = None) -> int:
        """Take some (or all) of a product out; returns what is left of it."""
        with self.db.transaction() as tx:
            row = tx.execute(
                "SELECT quantity FROM cart_items WHERE user_id = ? AND product_id = ?",
                (self.user_id, product_id),
            ).fetchone()
            if not row:
                return 0
            left = 0 if quantity is None else max(0, row[0] - quantity)
            if left:
                tx.execute(
                    "UPDATE cart_items SET quantity = ? WHERE user_id = ? AND product_id = ?",
                    (left, self.user_id, product_id),
                )
            else:
                tx.execute(
                    "DELETE FROM cart_items WHERE user_id = ? AND product_id = ?",
                    (self.user_id, product_id),
                )
        return left

    def clear_cart(self) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM cart_items WHERE user_id = ?", (self.user_id,))

    # -- checkout -----------------------------------------------------------------------------
    def basket(self) -> tuple[list[Line], int]:
        """The basket and its version, read in one statement so the two agree."""
        rows = self.db.query(
            "SELECT p.*, c.quantity, "
            "(SELECT version FROM basket_versions v WHERE v.user_id = c.user_id) AS basket_version "
            "FROM cart_items c JOIN products p ON p.id = c.product_id "
            "WHERE c.user_id = ? ORDER BY c.added_at, p.id",
            (self.user_id,),
        )
        version = int(rows[0]["basket_version"] or 0) if rows else self.basket_version()
        return [Line(Product.from_row(r), r["quantity"]) for r in rows], version

    def basket_version(self) -> int:
        row = self.db.conn.execute("SELECT version FROM basket_versions WHERE user_id = ?", (self.user_id,)).fetchone()
        return int(row[0]) if row else 0

    def record_quote(
        self, lines: Sequence[Line], *, conversation: str, basket_version: int | None, expires_at: float
    ) -> Quote:
        """Store a single-use token for exactly these lines at these prices."""
        token = secrets.token_urlsafe(16)
        total = sum(line.total_pence for line in lines)
        payload = json.dumps([[ln.product.id, ln.quantity, ln.product.price_pence] for ln in lines])
        with self.db.transaction() as tx:
            # quotes nobody can place any more are kept a day (a late yes still hears why), then dropped
            tx.execute(
                "DELETE FROM quotes WHERE user_id = ? AND state != 'placed' AND expires_at < ?",
                (self.user_id, time.time() - STALE_QUOTE_SECONDS),
            )
            tx.execute(
                "INSERT INTO quotes(token, user_id, conversation, lines, total_pence, basket_version, "
                "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (token, self.user_id, conversation, payload, total, basket_version, time.time(), expires_at),
            )
        return Quote(token, tuple(lines), total, conversation, basket_version, expires_at)

    def settle(
        self, token: str, *, conversation: str, address: str, delivery_days: int = 1, now: float | None = None
    ) -> tuple[Outcome, int | None]:
        """Order exactly the quoted lines, in one transaction, if the quote still stands.

        Returns the outcome and the order id (for PLACED and ALREADY_PLACED)."""
        now = time.time() if now is None else now
        with self.db.transaction() as tx:
            row = tx.execute("SELECT * FROM quotes WHERE token = ?", (token,)).fetchone()
            if row is None or row["user_id"] != self.user_id or row["conversation"] != conversation:
                return Outcome.UNKNOWN, None
            if row["state"] == "placed":
                return Outcome.ALREADY_PLACED, row["order_id"]
            if row["state"] == "cancelled":
                return Outcome.DECLINED, None
            if now >= row["expires_at"]:
                return Outcome.EXPIRED, None
            lines = [(int(pid), int(qty), int(price)) for pid, qty, price in json.loads(row["lines"])]
            if row["state"] == "changed" or not self._still_stands(tx, lines, row["basket_version"]):
                # a quote that no longer stands never comes back, even if the basket or price does
                tx.execute("UPDATE quotes SET state = 'changed' WHERE token = ?", (token,))
                return Outcome.CHANGED, None
            placed_at = datetime.fromtimestamp(now).replace(microsecond=0)
            deliver = (placed_at + timedelta(days=delivery_days)).date()
            order_id = tx.execute(
                "INSERT INTO orders(user_id, token, total_pence, address, placed_at, deliver_on) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (self.user_id, token, row["total_pence"], address, placed_at.isoformat(sep=" "), deliver.isoformat()),
            ).fetchone()[0]
            tx.executemany(
                "INSERT INTO order_lines(order_id, product_id, quantity, price_pence) VALUES (?, ?, ?, ?)",
                [(order_id, pid, qty, price) for pid, qty, price in lines],
            )
            if row["basket_version"] is not None:
                # exactly the quoted quantities leave the basket; nothing else does
                for pid, qty, _ in lines:
                    tx.execute(
                        "DELETE FROM cart_items WHERE user_id = ? AND product_id = ? AND quantity <= ?",
                        (self.user_id, pid, qty),
                    )
                    tx.execute(
                        "UPDATE cart_items SET quantity = quantity - ? WHERE user_id = ? AND product_id = ?",
                        (qty, self.user_id, pid),
                    )
            tx.execute("UPDATE quotes SET state = 'placed', order_id = ? WHERE token = ?", (order_id, token))
        return Outcome.PLACED, order_id

    def _still_stands(self, tx: Connection, lines: list[tuple[int, int, int]], version: int | None) -> bool:
        """Same prices now, and (for a basket quote) the basket untouched since it was read."""
        ids = [pid for pid, _, _ in lines]
        marks = ",".join("?" * len(ids))
        prices = dict(tx.execute(f"SELECT id, price_pence FROM products WHERE id IN ({marks})", ids).fetchall())  # noqa: S608
        if any(prices.get(pid) != price for pid, _, price in lines):
            return False
        if version is None:
            return True
        row = tx.execute("SELECT version FROM basket_versions WHERE user_id = ?", (self.user_id,)).fetchone()
        if (int(row[0]) if row else 0) != version:
            return False  # changed here or on another device, or already ordered from there
        held = dict(
            tx.execute(
                f"SELECT product_id, quantity FROM cart_items WHERE user_id = ? AND product_id IN ({marks})",  # noqa: S608
                (self.user_id, *ids),
            ).fetchall()
        )
        return all(held.get(pid, 0) >= qty for pid, qty, _ in lines)

    # -- history ------------------------------------------------------------------------------
    def get(self, order_id: int) -> Order | None:
        row = self.db.conn.execute(
            "SELECT * FROM orders WHERE id = ? AND user_id = ?", (order_id, self.user_id)
        ).fetchone()
        return self._order(row) if row else None

    def history(self, limit: int | None = None) -> list[Order]:
        sql = "SELECT * FROM orders WHERE user_id = ? ORDER BY placed_at DESC, id DESC"
        rows = self.db.query(sql, (self.user_id,)) if limit is None else self.db.query(f"{sql} LIMIT ?", (self.user_id, limit))
        return [self._order(r) for r in rows]

    def _order(self, row) -> Order:
        lines = self.db.query(
            "SELECT p.*, l.quantity, l.price_pence AS paid FROM order_lines l JOIN products p ON p.id = l.product_id WHERE l.order_id = ? ORDER BY p.name",
            (row["id"],),
        )
        deliver = date.fromisoformat(row["deliver_on"]) if row["deliver_on"] else None
        status = row["status"]
        if status == "placed" and deliver and deliver <= date.today():
            status = "delivered"
        return Order(
            id=row["id"],
            status=status,
            total_pence=row["total_pence"],
            placed_at=datetime.fromisoformat(row["placed_at"]),
            deliver_on=deliver,
            address=row["address"],
            lines=tuple(Line(Product.from_row(r), r["quantity"]) for r in lines),
        )

    def purchase_counts(self) -> list[tuple[Product, int, datetime]]:
        """Each product this user bought: how many orders it was in, and when last."""
        rows = self.db.query(
            "SELECT p.*, count(*) AS n, max(o.placed_at) AS last FROM order_lines l "
            "JOIN orders o ON o.id = l.order_id JOIN products p ON p.id = l.product_id "
            "WHERE o.user_id = ? GROUP BY p.id ORDER BY n DESC, last DESC",
            (self.user_id,),
        )
        return [(Product.from_row(r), r["n"], datetime.fromisoformat(r["last"])) for r in rows]

    def forget(self) -> None:
        """Erase this user's orders, basket, suggestions, transcripts, own shopping list and price watches, in one
        transaction."""
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM order_lines WHERE order_id IN (SELECT id FROM orders WHERE user_id = ?)",
                (self.user_id,),
            )
            tx.execute("DELETE FROM quotes WHERE user_id = ?", (self.user_id,))
            tx.execute("DELETE FROM orders WHERE user_id = ?", (self.user_id,))
            tx.execute(
                "DELETE FROM watch_products WHERE watch_id IN (SELECT id FROM watches WHERE user_id = ?)",
                (self.user_id,),
            )
            for table in (
                "cart_items",
                "suggestions",
                "transcripts",
                "list_items",
                "price_news",
                "notifications",
                "watches",
            ):
                tx.execute(f"DELETE FROM {table} WHERE user_id = ?", (self.user_id,))  # noqa: S608


def cancel_quote(db: Database, token: str) -> bool:
    """The user said no (or moved on): the token can never place an order. False if it was not open.

    The token is a 128-bit secret that only the conversation that asked holds."""
    with db.transaction() as tx:
        cur = tx.execute("UPDATE quotes SET state = 'cancelled' WHERE token = ? AND state = 'open'", (token,))
    return cur.rowcount == 1
