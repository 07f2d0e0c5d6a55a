"""The narrow objects a skill's context grants, one per permission; each wraps only what it names."""

from __future__ import annotations

from assistant.store import Catalog, Line, Order, Orders, Product, Recommender, Suggestion


class CatalogAccess:
    """catalog.read"""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def search(
        self,
        query: str = "",
        *,
        brand: str | None = None,
        max_price: float | None = None,
        min_price: float | None = None,
        category: str | None = None,
        limit: int = 20,
    ) -> list[Product]:
        return self._catalog.search(
            query,
            brand=brand,
            max_price=max_price,
            min_price=min_price,
            category=category,
            limit=limit,
        )

    def by_sku(self, sku: str) -> Product | None:
        return self._catalog.by_sku(sku)

    def brands(self) -> list[str]:
        return self._catalog.brands()


class CartAccess:
    """cart.write"""

    def __init__(self, orders: Orders) -> None:
        self._orders = orders

    def lines(self) -> list[Line]:
        return self._orders.cart()

    def add(self, product: Product, quantity: int = 1) -> int:
        return self._orders.add(product.id, quantity)

    def remove(self, product: Product, quantity: int | None = None) -> int:
        return self._orders.remove(product.id, quantity)

    def clear(self) -> None:
        self._orders.clear_cart()

    def total_pence(self) -> int:
        return sum(line.total_pence for line in self._orders.cart())


class OrdersAccess:
    """orders.read"""

    def __init__(self, orders: Orders, recommender: Recommender) -> None:
        self._orders = orders
        self._recommender = recommender

    def history(self, limit: int | None = None) -> list[Order]:
        return self._orders.history(limit)

    def get(self, order_id: int) -> Order | None:
        return self._orders.get(order_id)

    def purchase_counts(self):
        return self._orders.purchase_counts()

    def recommend(self, query: str | None = None, exclude: set[int] | None = None, limit: int = 3) -> list[Suggestion]:
        return self._recommender.recommend(query, exclude, limit)

    def discover(self, exclude: set[int] | None = None, limit: int = 3) -> list[Suggestion]:
        return self._recommender.discover(exclude, limit)


class ProfileAccess:
    """profile.read"""

    def __init__(self, user: str, address: str) -> None:
        self._user = user
        self._address = address

    def name(self) -> str:
        return self._user

    def address(self) -> str:
        return self._address


class PrivacyAccess:
    """profile.erase"""

    def __init__(self, orders: Orders, on_erase) -> None:
        self._orders = orders
        self._on_erase = on_erase

    def erase(self) -> None:
        self._orders.forget()
        self._on_erase()
