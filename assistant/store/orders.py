"""Baskets and orders. Checkout is two steps with a token, so a repeated yes or a crash never orders twice."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from assistant.store.catalog import Product
from assistant.store.db import Database


@dataclass(frozen=True)
class Line:
    product: Product
    quantity: int

    @property
    def total_pence(self) -> int:
        return self.product.price_pence * self.quantity


@dataclass(frozen=True)
class Quote:
    """A basket priced for checkout; placing it needs this token and nothing else."""

    token: str
    lines: tuple[Line, ...]
    total_pence: int

    @property
    def items(self) -> int:
        return sum(line.quantity for line in self.lines)


@dataclass(frozen=True)
class Order:
    id: int
    status: str
    total_pence: int
    placed_at: datetime
    deliver_on: date | None
    address: str
    lines: tuple[Line, ...] = field(default_factory=tuple)
    already_placed: bool = False
    """True when this token had been placed before: the caller asked twice."""

    @property
    def items(self) -> int:
        return sum(line.quantity for line in self.lines)

    def as_dict(self) -> dict:
        return {
            "id": self.id, "status": self.status, "total": self.total_pence / 100,
            "placed_at": self.placed_at.isoformat(sep=" "), "deliver_on": self.deliver_on.isoformat() if self.deliver_on else None,
            "address": self.address,
            "lines": [{**ln.product.as_dict(), "quantity": ln.quantity} for ln in self.lines],
        }  # fmt: skip


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
                "ON CONFLICT(user_id, product_id) DO UPDATE SET quantity = quantity + excluded.quantity",
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
    def quote(self, lines: list[Line] | None = None) -> Quote | None:
        """Price the basket (or the given lines, for a reorder) and record a checkout token."""
        lines = list(lines if lines is not None else self.cart())
        if not lines:
            return None
        token = secrets.token_hex(8)
        total = sum(line.total_pence for line in lines)
        payload = json.dumps([[ln.product.id, ln.quantity, ln.product.price_pence] for ln in lines])
        from_cart = lines == self.cart()
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO checkouts(token, user_id, lines, total_pence) VALUES (?, ?, ?, ?)",
                (
                    token,
                    self.user_id,
                    json.dumps({"lines": json.loads(payload), "from_cart": from_cart}),
                    total,
                ),
            )
        return Quote(token, tuple(lines), total)

    def place(self, token: str, address: str, delivery_days: int = 1) -> Order | None:
        """Place the order a quote describes, exactly once. Returns None for an unknown token."""
        with self.db.transaction() as tx:
            row = tx.execute(
                "SELECT * FROM checkouts WHERE token = ? AND user_id = ?", (token, self.user_id)
            ).fetchone()
            if row is None:
                return None
            if row["order_id"] is not None:
                existing = row["order_id"]
                placed = True
            else:
                spec = json.loads(row["lines"])
                now = datetime.now().replace(microsecond=0)
                deliver = (now + timedelta(days=delivery_days)).date()
                cur = tx.execute(
                    "INSERT INTO orders(user_id, token, total_pence, address, placed_at, deliver_on) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        self.user_id,
                        token,
                        row["total_pence"],
                        address,
                        now.isoformat(sep=" "),
                        deliver.isoformat(),
                    ),
                )
                existing = cur.lastrowid
                tx.executemany(
                    "INSERT INTO order_lines(order_id, product_id, quantity, price_pence) VALUES (?, ?, ?, ?)",
                    [(existing, pid, qty, price) for pid, qty, price in spec["lines"]],
                )
                tx.execute("UPDATE checkouts SET order_id = ? WHERE token = ?", (existing, token))
                if spec.get("from_cart"):
                    tx.execute("DELETE FROM cart_items WHERE user_id = ?", (self.user_id,))
                placed = False
        order = self.get(existing)
        assert order is not None
        return Order(**{**order.__dict__, "already_placed": placed})

    # -- history ------------------------------------------------------------------------------
    def get(self, order_id: int) -> Order | None:
        row = self.db.conn.execute(
            "SELECT * FROM orders WHERE id = ? AND user_id = ?", (order_id, self.user_id)
        ).fetchone()
        return self._order(row) if row else None

    def history(self, limit: int | None = None) -> list[Order]:
        rows = self.db.query(
            "SELECT * FROM orders WHERE user_id = ? ORDER BY placed_at DESC, id DESC LIMIT ?",
            (self.user_id, limit if limit is not None else -1),
        )
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
        """Erase this user's orders, basket, suggestions and transcripts, in one transaction."""
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM order_lines WHERE order_id IN (SELECT id FROM orders WHERE user_id = ?)",
                (self.user_id,),
            )
            tx.execute("DELETE FROM checkouts WHERE user_id = ?", (self.user_id,))
            tx.execute("DELETE FROM orders WHERE user_id = ?", (self.user_id,))
            for table in ("cart_items", "suggestions", "transcripts"):
                tx.execute(f"DELETE FROM {table} WHERE user_id = ?", (self.user_id,))  # noqa: S608
