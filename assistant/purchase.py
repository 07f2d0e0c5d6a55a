"""The purchase gate: the one place an order is placed, of store-priced lines, after a yes to its own question."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from assistant.config import ShopSettings
from assistant.sdk.phrasing import money, plural
from assistant.store.catalog import Catalog
from assistant.store.db import Database
from assistant.store.orders import Line, Order, Orders, Outcome, Quote, cancel_quote

log = logging.getLogger(__name__)

__all__ = ["Outcome", "PlaceResult", "PurchaseGate", "Quote", "Refusal", "Refused", "when"]


class Refused(StrEnum):
    """Why the gate would not quote."""

    BUYING_OFF = "buying_off"
    EMPTY = "empty"
    UNKNOWN_PRODUCT = "unknown_product"
    BAD_QUANTITY = "bad_quantity"
    OVER_CAP = "over_cap"


@dataclass(frozen=True)
class Refusal:
    """No question is asked and no token exists; ``speech`` says why, as the reply."""

    reason: Refused
    speech: str


@dataclass(frozen=True)
class PlaceResult:
    """What a yes did; ``speech`` is the reply that tells the user."""

    outcome: Outcome
    """A StrEnum: compares equal to 'placed', 'already_placed', 'changed', 'expired', 'declined', 'unknown'."""
    speech: str
    order: Order | None = None
    """The order placed now (PLACED) or before (ALREADY_PLACED)."""

    @property
    def placed(self) -> bool:
        return self.outcome is Outcome.PLACED

    @property
    def order_id(self) -> int | None:
        return self.order.id if self.order else None

    @property
    def deliver_on(self) -> date | None:
        return self.order.deliver_on if self.order else None


def when(days: int) -> str:
    """How a delivery day is said: today, tomorrow, in 3 days."""
    return {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")


class PurchaseGate:
    """Prices proposed lines from the store, applies the shop's rules, asks, and places after a yes."""

    def __init__(self, db: Database, shop: ShopSettings, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.shop = shop
        self.catalog = Catalog(db)
        self.clock = clock
        """Seconds since the epoch; the tests move it to expire tokens."""

    def quote(self, user_id: int, conversation: str, lines: Sequence[tuple[int, int]] | None = None) -> Quote | Refusal:
        """Price ``lines`` (product id, quantity) as a skill proposed them, or the basket if None.

        Only ids and quantities are taken from the proposal: prices, the total and the item count
        are the store's. A quote comes with a single-use token bound to this user and conversation."""
        shop = self.shop
        if not shop.buying_enabled:
            return Refusal(
                Refused.BUYING_OFF,
                "Buying is switched off in the settings, so I can't place orders. Your basket is kept.",
            )
        orders = Orders(self.db, user_id)
        version: int | None
        if lines is None:
            priced, version = orders.basket()
            if not priced:
                return Refusal(Refused.EMPTY, "Your basket is empty, so there's nothing to order.")
        else:
            version = None
            found = self._price(lines)
            if isinstance(found, Refusal):
                return found
            priced = found
        total = sum(line.total_pence for line in priced)
        if shop.spending_cap is not None and total > round(shop.spending_cap * 100):
            cap = money(round(shop.spending_cap * 100), shop.currency)
            hint = "You could remove something from your basket." if lines is None else "You could order fewer."
            return Refusal(
                Refused.OVER_CAP,
                f"That comes to {money(total, shop.currency)}, which is over your spending cap of {cap}, "
                f"so I can't place it. {hint}",
            )
        expires = self.clock() + shop.quote_minutes * 60
        return orders.record_quote(priced, conversation=conversation, basket_version=version, expires_at=expires)

    def _price(self, proposed: Sequence[tuple[int, int]]) -> list[Line] | Refusal:
        wanted: dict[int, int] = {}
        for product_id, quantity in proposed:
            # a skill's numbers cross a wire: only whole numbers count, never bools or floats
            if type(quantity) is not int or type(product_id) is not int:
                return Refusal(Refused.BAD_QUANTITY, "Sorry, I couldn't tell how many to order.")
            wanted[product_id] = wanted.get(product_id, 0) + quantity
        if not wanted:
            return Refusal(Refused.EMPTY, "There's nothing to order.")
        limit = self.shop.max_quantity
        priced = []
        for product_id, quantity in wanted.items():
            if quantity < 1:
                return Refusal(Refused.BAD_QUANTITY, f"How many would you like? I can order from 1 to {limit}.")
            if quantity > limit:
                return Refusal(
                    Refused.BAD_QUANTITY, f"I can order up to {limit} of each item, so I can't order that many."
                )
            product = self.catalog.get(product_id)
            if product is None:
                return Refusal(Refused.UNKNOWN_PRODUCT, "Sorry, one of those products isn't in the shop any more.")
            priced.append(Line(product, quantity))
        return priced

    def question(self, quote: Quote) -> str:
        """The core's own reading of the quote: the question a yes answers."""
        shop = self.shop
        total = money(quote.total_pence, shop.currency)
        return (
            f"That's {plural(quote.items, 'item')} for {total}, delivered to {shop.delivery_address} "
            f"{when(shop.delivery_days)}. Shall I place the order?"
        )

    def place(self, token: str, user_id: int, conversation: str) -> PlaceResult:
        """Order exactly the quoted lines, once, if the quote still stands (one transaction)."""
        shop = self.shop
        orders = Orders(self.db, user_id)
        outcome, order_id = orders.settle(
            token,
            conversation=conversation,
            address=shop.delivery_address,
            delivery_days=shop.delivery_days,
            now=self.clock(),
        )
        if order_id is None:
            return PlaceResult(outcome, _REFUSED_SPEECH[outcome])
        order = orders.get(order_id)
        if outcome is Outcome.ALREADY_PLACED:
            return PlaceResult(outcome, f"Order {order_id} is already placed. Anything else?", order)
        log.info("order %s placed: %s pence", order_id, order.total_pence if order else "?")
        return PlaceResult(
            outcome, f"Done. Order {order_id} is placed; it should arrive {when(shop.delivery_days)}.", order
        )

    def cancel(self, token: str) -> bool:
        """The user said no (or moved on): this token can never place an order. False if it was not open."""
        return cancel_quote(self.db, token)


_REFUSED_SPEECH = {
    Outcome.CHANGED: "Your basket or a price changed since I read you the total, so I haven't ordered anything.",
    Outcome.EXPIRED: "Sorry, that checkout has expired, so I haven't ordered anything. Say check out to start again.",
    Outcome.DECLINED: "You said no to that order, so I haven't placed it. Say check out to start again.",
    Outcome.UNKNOWN: "There's no order waiting for your yes here, so I haven't ordered anything.",
}
