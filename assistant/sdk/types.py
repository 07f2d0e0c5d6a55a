"""The data a skill sees: products, basket lines, orders and suggestions (the store fills them in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


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
