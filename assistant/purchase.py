"""The purchase gate: the one place orders are placed, after a yes to the total it read out itself."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.config import ShopSettings
from assistant.sdk.phrasing import money, plural
from assistant.store import Catalog, Database, Line, Order, Orders, Quote

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refusal:
    speech: str


@dataclass(frozen=True)
class PlaceResult:
    outcome: str
    """'placed', 'already_placed', 'changed', 'expired' or 'unknown'."""
    order: Order | None = None


def when(days: int) -> str:
    return {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")


class PurchaseGate:
    def __init__(self, db: Database, shop: ShopSettings) -> None:
        self.db = db
        self.shop = shop
        self.catalog = Catalog(db)

    def quote(self, user_id: int, conversation: str, lines: Sequence[tuple[int, int]] | None) -> Quote | Refusal:
        shop = self.shop
        if not shop.buying_enabled:
            return Refusal("Buying is switched off in the settings, so I can't place orders. Your basket is kept.")
        orders = Orders(self.db, user_id)
        if lines is None:
            priced = orders.cart()
        else:
            priced = []
            for product_id, quantity in lines:
                product = self.catalog.get(int(product_id))
                if product is None or not 1 <= int(quantity) <= shop.max_quantity:
                    return Refusal("Sorry, I can't order that: it isn't something the shop sells in that amount.")
                priced.append(Line(product, int(quantity)))
        if not priced:
            return Refusal("Your basket is empty, so there's nothing to check out. What would you like to add?")
        total = sum(line.total_pence for line in priced)
        if shop.spending_cap is not None and total > round(shop.spending_cap * 100):
            cap = money(round(shop.spending_cap * 100), shop.currency)
            return Refusal(
                f"That comes to {money(total, shop.currency)}, which is over your spending cap of {cap}, "
                "so I can't place it. You could remove something from your basket."
            )
        return orders.quote(priced)

    def question(self, quote: Quote) -> str:
        shop = self.shop
        total = money(quote.total_pence, shop.currency)
        summary = f"{plural(quote.items, 'item')} for {total}, delivered to {shop.delivery_address} {when(shop.delivery_days)}"
        return f"That's {summary}. Shall I place the order?"

    def place(self, token: str, user_id: int, conversation: str) -> PlaceResult:
        order = Orders(self.db, user_id).place(token, self.shop.delivery_address, self.shop.delivery_days)
        if order is None:
            return PlaceResult("unknown")
        if order.already_placed:
            return PlaceResult("already_placed", order)
        log.info("order %s placed: %s items, %s pence", order.id, order.items, order.total_pence)
        return PlaceResult("placed", order)

    def cancel(self, token: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM checkouts WHERE token = ? AND order_id IS NULL", (token,))
