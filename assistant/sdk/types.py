"""The data a skill sees: products, basket lines, orders and suggestions (the store fills them in)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from assistant.nlu.text import singular


@dataclass(frozen=True)
class Product:
    id: int
    sku: str
    name: str
    brand: str
    category: str
    size: str
    price_pence: int
    description: str = ""

    @property
    def title(self) -> str:
        """What a voice reply calls it: 'Oatly Barista Oat Milk'."""
        if self.brand and not self.name.lower().startswith(self.brand.lower()):
            return f"{self.brand} {self.name}"
        return self.name

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku, "name": self.name, "brand": self.brand, "category": self.category,
            "size": self.size, "price": self.price_pence / 100,
        }  # fmt: skip

    @classmethod
    def from_row(cls, row: Any) -> Product:
        return cls(
            row["id"],
            row["sku"],
            row["name"],
            row["brand"],
            row["category"],
            row["size"],
            row["price_pence"],
            row["description"],
        )


@dataclass(frozen=True)
class Line:
    product: Product
    quantity: int

    @property
    def total_pence(self) -> int:
        return self.product.price_pence * self.quantity


@dataclass(frozen=True)
class Order:
    id: int
    status: str
    total_pence: int
    placed_at: datetime
    deliver_on: date | None
    address: str
    lines: tuple[Line, ...] = field(default_factory=tuple)

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


@dataclass(frozen=True)
class Suggestion:
    """A product suggested and the evidence for it, so 'why?' is answered truthfully."""

    product: Product
    signal: str
    """'co_purchase', 'history' or 'discover'."""
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ListItem:
    """One thing on a shopping list, in the words it was said: 'washing-up liquid', two, 'the big one'."""

    id: int
    name: str
    quantity: int = 1
    note: str = ""
    ticked: bool = False
    """Bought ('I've got the milk'): kept, but no longer read out."""


LIST_LIMIT = 500
"""Things on one list; the next is refused rather than keep a list nobody can listen to."""
_FILLER = {"the", "a", "an", "some", "more", "any", "of", "my", "our"}


def item_key(name: str) -> str:
    """What makes two items the same one: 'Milks', 'the milk' and 'some milk' are all 'milk'."""
    words = re.findall(r"[\w']+", name.lower())
    return " ".join(singular(w) for w in words if w not in _FILLER)


@dataclass(frozen=True)
class Watch:
    """A price watch: 'tell me when Lavazza is under ten pounds' (below_pence 1000) or any drop (None)."""

    id: int
    query: str
    below_pence: int | None
    products: int
    """How many of the shop's products it covers."""


@dataclass(frozen=True)
class PriceNews:
    """A watched product's price moved as the watch asked: to be said once."""

    product: Product
    old_pence: int
    new_pence: int
    below_pence: int | None
    """The watch's threshold; None for 'tell me when it goes on offer'."""
