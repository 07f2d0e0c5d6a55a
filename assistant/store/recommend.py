"""Recommendations from real signals only: shop-wide co-purchases and the user's own history."""

from __future__ import annotations

import json

from assistant.sdk.types import Product, Suggestion
from assistant.store.db import Database
from assistant.store.orders import Orders


class Recommender:
    def __init__(self, db: Database, orders: Orders) -> None:
        self.db = db
        self.orders = orders

    def _log(self, suggestion: Suggestion) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO suggestions(user_id, product_id, signal, reason) VALUES (?, ?, ?, ?)",
                (
                    self.orders.user_id,
                    suggestion.product.id,
                    suggestion.signal,
                    json.dumps(suggestion.evidence),
                ),
            )

    def recommend(self, query: str | None = None, exclude: set[int] | None = None, limit: int = 3) -> list[Suggestion]:
        """Co-purchase suggestions anchored on what the user buys most, then their own staples."""
        exclude = set(exclude or ())
        history = self.orders.purchase_counts()
        bought = {p.id for p, _, _ in history}
        out: list[Suggestion] = []
        for anchor, times, _ in history[:8]:
            rows = self.db.query(
                "SELECT l2.product_id AS pid, count(DISTINCT o.user_id) AS customers FROM order_lines l1 "
                "JOIN order_lines l2 ON l2.order_id = l1.order_id AND l2.product_id != l1.product_id "
                "JOIN orders o ON o.id = l1.order_id "
                "WHERE l1.product_id = ? AND o.user_id != ? GROUP BY l2.product_id ORDER BY customers DESC LIMIT 10",
                (anchor.id, self.orders.user_id),
            )
            anchor_buyers = self.db.conn.execute(
                "SELECT count(DISTINCT o.user_id) FROM order_lines l JOIN orders o ON o.id = l.order_id "
                "WHERE l.product_id = ? AND o.user_id != ?",
                (anchor.id, self.orders.user_id),
            ).fetchone()[0]
            for row in rows:
                if row["pid"] in bought or row["pid"] in exclude or row["customers"] < 2:
                    continue
                product = self._product(row["pid"])
                if query and not self._matches(product, query):
                    continue
                out.append(
                    Suggestion(
                        product,
                        "co_purchase",
                        {
                            "anchor": anchor.title,
                            "anchor_times": times,
                            "customers": row["customers"],
                            "anchor_customers": anchor_buyers,
                        },
                    )  # fmt: skip
                )
                exclude.add(row["pid"])
                break
            if len(out) >= limit:
                break
        if len(out) < limit:
            # the user's own staples they have not bought for a while
            for product, times, last in history:
                if product.id in exclude or times < 2 or (query and not self._matches(product, query)):
                    continue
                out.append(Suggestion(product, "history", {"times": times, "last": last.date().isoformat()}))
                exclude.add(product.id)
                if len(out) >= limit:
                    break
        for suggestion in out:
            self._log(suggestion)
        return out

    def discover(self, exclude: set[int] | None = None, limit: int = 3) -> list[Suggestion]:
        """Popular products from categories the user never buys from."""
        exclude = set(exclude or ())
        usual = [r[0] for r in self.db.query(
            "SELECT p.category FROM order_lines l JOIN orders o ON o.id = l.order_id JOIN products p ON p.id = l.product_id "
            "WHERE o.user_id = ? GROUP BY p.category ORDER BY count(*) DESC",
            (self.orders.user_id,),
        )]  # fmt: skip
        placeholders = ",".join("?" * len(usual)) or "''"
        rows = self.db.query(
            "SELECT p.id AS pid, p.category, count(DISTINCT o.user_id) AS customers FROM products p "
            "JOIN order_lines l ON l.product_id = p.id JOIN orders o ON o.id = l.order_id "
            f"WHERE p.category NOT IN ({placeholders}) AND o.user_id != ? "
            "GROUP BY p.id ORDER BY customers DESC, p.id LIMIT 60",
            (*usual, self.orders.user_id),
        )
        out: list[Suggestion] = []
        seen_categories: set[str] = set()
        # one per new category first, so "surprise me" really is varied
        for row in sorted(rows, key=lambda r: (r["category"] in seen_categories, -r["customers"])):
            if row["pid"] in exclude or row["category"] in seen_categories:
                continue
            seen_categories.add(row["category"])
            out.append(
                Suggestion(
                    self._product(row["pid"]),
                    "discover",
                    {
                        "usual": usual[:3],
                        "customers": row["customers"],
                        "category": row["category"],
                    },
                )
            )
            if len(out) >= limit:
                break
        for suggestion in out:
            self._log(suggestion)
        return out

    def _product(self, product_id: int) -> Product:
        row = self.db.conn.execute("SELECT * FROM products WHERE id = ?", (product_id,)).fetchone()
        return Product.from_row(row)

    @staticmethod
    def _matches(product: Product, query: str) -> bool:
        hay = f"{product.brand} {product.name} {product.category} {product.description}".lower()
        return any(word.rstrip("s") in hay for word in query.lower().split() if len(word) > 2)
