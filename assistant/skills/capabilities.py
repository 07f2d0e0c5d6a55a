"""The narrow objects a skill's context grants, one per permission; each wraps only what it names."""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.errors import PermissionDenied
from assistant.notices import sentence
from assistant.sdk.types import ListItem, PriceNews, Watch
from assistant.store import Catalog, Line, Order, Orders, Product, Recommender, Suggestion
from assistant.store.lists import ShoppingLists
from assistant.store.notices import MAX_TEXT, Notifications
from assistant.store.watches import PriceWatches, TooManyWatches


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


class ListReader:
    """list.read: the household's list, and the speaker's own (``mine=True``) on their own device.

    With no one person speaking (a household device), "my list" is the household's too."""

    def __init__(self, lists: ShoppingLists, member: int | None) -> None:
        self._lists = lists
        self._member = member

    @property
    def personal(self) -> bool:
        """True when ``mine=True`` means one member's own list rather than the household's."""
        return self._member is not None

    def _owner(self, mine: bool) -> int | None:
        return self._member if mine else None

    def items(self, *, mine: bool = False) -> list[ListItem]:
        """What is still to buy, in the order it was put on the list."""
        return self._lists.items(self._owner(mine))


class ListWriter(ListReader):
    """list.write: put things on a list, take them off, tick them, clear it."""

    def add(
        self, name: str, quantity: int | None = None, note: str = "", *, mine: bool = False, more: bool = False
    ) -> ListItem:
        """Merged into the item of the same name if there is one (``ShoppingLists.add``)."""
        item, _new = self._lists.add(self._owner(mine), name, quantity, note, more=more, added_by=self._member)
        return item

    def remove(self, item_id: int, quantity: int | None = None, *, mine: bool = False) -> ListItem | None:
        """What is left of the item, or None when it is off the list."""
        return self._lists.remove(self._owner(mine), item_id, quantity)

    def tick(self, item_id: int, *, mine: bool = False) -> bool:
        return self._lists.tick(self._owner(mine), item_id)

    def clear(self, *, mine: bool = False) -> int:
        return self._lists.clear(self._owner(mine))


class PriceWatchAccess:
    """prices.watch: one member's price watches, and the news they made."""

    def __init__(self, watches: PriceWatches) -> None:
        self._watches = watches

    def add(self, query: str, products: list[Product], below_pence: int | None = None) -> Watch | None:
        """Watch these products (the matches of ``query``): under ``below_pence``, or any drop when None.
        None when the member already holds as many watches as one may."""
        try:
            return self._watches.add(query, products, below_pence)
        except TooManyWatches:
            return None

    def watches(self) -> list[Watch]:
        return self._watches.watches()

    def remove(self, watch_id: int) -> bool:
        return self._watches.remove(watch_id)

    def unsaid(self) -> list[PriceNews]:
        """News not yet told, oldest first; from now on told."""
        return self._watches.unsaid()


class Notifier:
    """notify: something for this member to hear later, from this skill, rate-limited per skill and member."""

    def __init__(self, notifications: Notifications, member: int, skill: str, *, builtin: bool) -> None:
        self._notifications = notifications
        self._member = member
        self._skill = skill
        self._builtin = builtin

    def send(self, text: str) -> bool:
        """Queue ``text`` (1 to 200 characters, one line); False when over the limit (3 an hour, 10 a day)."""
        if not isinstance(text, str):
            raise TypeError("a notification is text")
        said = " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", text).split())
        if not 1 <= len(said) <= MAX_TEXT:
            raise ValueError(f"a notification is 1 to {MAX_TEXT} characters")
        return self._notifications.post(self._member, self._skill, said, builtin=self._builtin) is not None

    def missed(self) -> list[str]:
        """Built-in skills only ("what did I miss?"): every notification not yet told, from any skill, as the
        core says it; from now on told. A third-party skill reads no other skill's notes."""
        if not self._builtin:
            raise PermissionDenied(f"skill '{self._skill}' tried to read other skills' notifications")
        return [sentence(n) for n in self._notifications.take(self._member, "asked")]


class PrivacyAccess:
    """profile.erase"""

    def __init__(self, erase: Callable[[], None]) -> None:
        self._erase = erase

    def erase(self) -> None:
        """Everything of this member, everywhere (``App.forget``)."""
        self._erase()
