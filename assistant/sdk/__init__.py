"""The public skill SDK: the only module a skill imports.

A skill is a class registered under the entry-point group ``assistant.skills``::

    from assistant.sdk import Skill, Request, Context, intent, say

    class HelloSkill(Skill):
        name = "hello"
        permissions = frozenset()

        @intent("greet")
        def hello(self, ctx: Context, request: Request) -> Reply:
            return say("Hello!")
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from assistant.errors import MemberNeeded, PermissionDenied, SkillError
from assistant.nlu.parse import Entity
from assistant.sdk.phrasing import join, money, number, ordinal, plural, price_news
from assistant.sdk.types import LIST_LIMIT, Line, ListItem, Order, PriceNews, Product, Suggestion, Watch, item_key

SDK_VERSION = 1
CORE_INTENTS = frozenset({"affirm", "deny", "cancel", "repeat"})
"""The dialogue's own intents: yes, no, cancel and "say that again" are the core's, never a skill's."""
"""Bumped only on a breaking change; a skill lists the versions it supports in ``sdk_versions``."""

PERMISSIONS: dict[str, str] = {
    "catalog.read": "search and read the product catalogue",
    "cart.write": "read your basket and add or remove items",
    "orders.read": "read your order history and get recommendations from it",
    "orders.place": "prepare orders for checkout (the assistant still asks you to confirm every order)",
    "profile.read": "read your name and delivery address",
    "profile.erase": "erase your order history, basket and stored data",
    "list.read": "read the household's shopping list and your own",
    "list.write": "put things on the shopping lists and take them off",
    "prices.watch": "watch prices for you and tell you when they drop",
    "notify": "tell you things later, on your companion pages and speakers (at most 3 an hour, never in quiet hours)",
    "network": "open network connections",
    "access_log.read": "read the log of what other skills used (given to built-in skills only)",
}

CAPABILITIES: dict[str, str] = {
    "catalog": "catalog.read",
    "cart": "cart.write",
    "orders": "orders.read",
    "profile": "profile.read",
    "privacy": "profile.erase",
    "lists": "list.read",
    "list_writer": "list.write",
    "watches": "prices.watch",
    "notify": "notify",
    "access_log": "access_log.read",
}
"""Context attribute -> the permission it needs: the one table the SDK, the core and the sandbox share.
(Placing an order is not a capability: a skill proposes lines with ``confirm_purchase`` and the core,
holding ``orders.place`` against the manifest, prices them, asks and places.)"""

if TYPE_CHECKING:
    from assistant.skills.access_log import AccessLogReader
    from assistant.skills.capabilities import (
        CartAccess,
        CatalogAccess,
        ListReader,
        ListWriter,
        Notifier,
        OrdersAccess,
        PriceWatchAccess,
        PrivacyAccess,
        ProfileAccess,
    )

__all__ = [
    "CAPABILITIES", "LIST_LIMIT", "OUT_OF_RANGE", "PERMISSIONS", "SDK_VERSION", "Context", "Conversation", "Entity", "Line", "ListItem",
    "NoSettings", "Order", "PriceNews", "Watch",
    "PermissionDenied", "Product", "Purchase", "Reply", "Request", "ShopInfo", "Skill", "SkillError", "Suggestion",
    "ask", "confirm", "confirm_purchase", "elicit", "intent", "item_key", "join", "money", "number", "offer", "on_confirm",
    "on_deny", "ordinal", "pick", "plural", "price_news", "resemblance", "say",
]  # fmt: skip


class NoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ShopInfo:
    """The shop's settings a skill may read."""

    currency: str
    buying_enabled: bool
    spending_cap: float | None
    delivery_address: str
    delivery_days: int
    max_quantity: int
    items_read: int
    """How many results a spoken list reads out."""


# -- what a handler receives ------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    """One understood user turn."""

    intent: str
    text: str
    confidence: float = 1.0
    entities: tuple[Entity, ...] = ()
    confirmed: bool = False
    """True when this is a yes to an ``offer``: act on ``ctx.conversation.focus``."""

    def value(self, entity: str, role: str | None = None) -> str | None:
        for ent in self.entities:
            if ent.entity == entity and (role is None or ent.role == role):
                return ent.value
        return None

    def values(self, entity: str) -> list[str]:
        return [e.value for e in self.entities if e.entity == entity]

    @property
    def product(self) -> str | None:
        return self.value("product")

    @property
    def brand(self) -> str | None:
        return self.value("brand")

    @property
    def quantity(self) -> int | None:
        """The number said; an absurd one ('a 400-digit number of them') reads as OUT_OF_RANGE."""
        value = _bounded(self.value("quantity"))
        return int(value) if value is not None else None

    @property
    def ordinal(self) -> str | None:
        """'1'..'10' or 'last'."""
        return self.value("ordinal")

    def price(self, role: str | None = None) -> float | None:
        for ent in self.entities:
            if ent.entity == "price" and (role is None or ent.role == role):
                return _bounded(ent.value)
        return None


OUT_OF_RANGE = 10**9
"""What a number beyond any shop's limits reads as, so a skill says it is out of range rather than crash
(a 309-digit number is infinity as a float, and int(inf) raised OverflowError in 48 of 15,000 fuzzed turns)."""


def _bounded(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw is not None else None
    except (ValueError, OverflowError):
        return None
    if value is None or math.isnan(value):
        return None
    return max(-OUT_OF_RANGE, min(OUT_OF_RANGE, value))


@dataclass
class Conversation:
    """What this conversation has shown the user, shared by all skills (read-mostly)."""

    last_list: list[Product] = field(default_factory=list)
    """The last list read out, so 'the second one' resolves."""
    listed_count: int = 0
    """How many of last_list were read out loud."""
    focus: Product | None = None
    """The item last singled out ('that', 'it')."""


def pick(conversation: Conversation, which: str | None) -> Product | None:
    """Resolve 'the second one' / 'the last one' / 'that' against what was last read out."""
    items = conversation.last_list[: conversation.listed_count or len(conversation.last_list)]
    if which is None:
        return conversation.focus or (items[0] if len(items) == 1 else None)
    if which == "last":
        return items[-1] if items else None
    try:
        index = int(which)
    except ValueError:
        return None
    return items[index - 1] if 1 <= index <= len(items) else None


def resemblance(words: str, product: Product) -> float:
    """How fully the words said are in a product's brand, name, category and description, 0-100, plurals
    folded: 'milk' in Oatly Barista ('plant milk for coffee') is 100, 'cat birthday present' in cat food is not."""
    from rapidfuzz import fuzz

    text = f"{product.brand} {product.name} {product.category} {product.description}"
    return fuzz.token_set_ratio(item_key(words), item_key(text))


# -- what a handler returns -------------------------------------------------------------------
@dataclass(frozen=True)
class Purchase:
    """What a skill proposes to buy; the core prices it from the store, reads the total, and asks."""

    lines: tuple[tuple[int, int], ...] | None = None
    """(product id, quantity) pairs, or None for the user's basket as it is."""


@dataclass(frozen=True)
class Reply:
    """What the assistant says, and what it expects next."""

    speech: str
    display: str | None = None
    items: tuple[Product, ...] | None = None
    """A list the user can refer to by ordinal next turn (None keeps the previous list)."""
    listed: int | None = None
    """How many of ``items`` were read out (default: all)."""
    focus: Product | None = None
    expect: Literal["none", "answer", "confirm", "slot"] = "none"
    action: str | None = None
    """For confirm: the name of the @on_confirm / @on_deny handler."""
    data: dict[str, Any] = field(default_factory=dict)
    slot: str | None = None
    purchase: Purchase | None = None
    """For a purchase: the core, not the skill, prices it, asks, and places it after a yes."""
    end: bool = False
    why: str | None = None
    """The honest reason for what this reply chose, said if the user asks "why that one?" next."""


def say(
    text: str,
    *,
    items: Sequence[Product] | None = None,
    listed: int | None = None,
    focus: Product | None = None,
    display: str | None = None,
    why: str | None = None,
) -> Reply:
    return Reply(text, display, tuple(items) if items is not None else None, listed, focus, why=why)


def ask(
    text: str,
    *,
    items: Sequence[Product] | None = None,
    listed: int | None = None,
    focus: Product | None = None,
) -> Reply:
    """A follow-up question: the assistant listens for the answer without the wake phrase."""
    return Reply(text, None, tuple(items) if items is not None else None, listed, focus, expect="answer")


def confirm(
    text: str,
    action: str,
    data: dict[str, Any] | None = None,
    *,
    focus: Product | None = None,
    items: Sequence[Product] | None = None,
    why: str | None = None,
) -> Reply:
    """A yes/no question; a yes calls the skill's ``@on_confirm(action)`` handler with ``data``."""
    listed = tuple(items) if items is not None else None
    return Reply(text, focus=focus, items=listed, expect="confirm", action=action, data=dict(data or {}), why=why)


def offer(
    text: str,
    intent: str,
    *,
    focus: Product | None = None,
    items: Sequence[Product] | None = None,
    listed: int | None = None,
) -> Reply:
    """A yes/no offer such as 'Add it?': a yes runs ``intent`` (whichever skill handles it) on ``focus``."""
    return Reply(
        text,
        None,
        tuple(items) if items is not None else None,
        listed,
        focus,
        expect="confirm",
        action=f"intent:{intent}",
    )


def confirm_purchase(
    lines: Sequence[Line] | None = None, intro: str = "", action: str = "purchase", data: dict[str, Any] | None = None
) -> Reply:
    """Propose an order of these lines (default: the basket). The core prices them from the store,
    reads the real total in its own question, and places the order only after the user's yes.
    Needs the ``orders.place`` permission."""
    proposed = None if lines is None else tuple((line.product.id, line.quantity) for line in lines)
    return Reply(intro, expect="confirm", action=action, data=dict(data or {}), purchase=Purchase(proposed))


def elicit(slot: str, question: str, data: dict[str, Any] | None = None) -> Reply:
    """Ask for a missing value; the answer comes back to the same intent's handler with it filled in."""
    return Reply(question, expect="slot", slot=slot, data=dict(data or {}))


# -- declaring handlers -----------------------------------------------------------------------
Handler = Callable[..., Reply]


def intent(*names: str) -> Callable[[Handler], Handler]:
    """Mark a method as the handler for these intents."""

    def mark(fn: Handler) -> Handler:
        fn.__skill_intents__ = getattr(fn, "__skill_intents__", ()) + names  # type: ignore[attr-defined]
        return fn

    return mark


def on_confirm(action: str) -> Callable[[Handler], Handler]:
    """Handler for a yes to ``confirm(..., action)``: called as ``fn(ctx, request, data)``."""

    def mark(fn: Handler) -> Handler:
        fn.__skill_confirm__ = action  # type: ignore[attr-defined]
        return fn

    return mark


def on_deny(action: str) -> Callable[[Handler], Handler]:
    """Handler for a no (or 'no, make it two') to a confirmation: ``fn(ctx, request, data)``."""

    def mark(fn: Handler) -> Handler:
        fn.__skill_deny__ = action  # type: ignore[attr-defined]
        return fn

    return mark


class Skill:
    """Base class of every skill. Declare, don't inherit behaviour: the class body is the manifest."""

    name: ClassVar[str] = ""
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = ""
    """One phrase for 'what can you do': 'search products'."""
    sdk_versions: ClassVar[tuple[int, ...]] = (1,)
    permissions: ClassVar[frozenset[str]] = frozenset()
    nlu: ClassVar[str | None] = "nlu.yml"
    """The skill's Rasa-format training data, relative to its module's folder."""
    Settings: ClassVar[type[BaseModel]] = NoSettings

    def __init__(self, settings: BaseModel) -> None:
        self.settings = settings

    @classmethod
    def intent_handlers(cls) -> dict[str, str]:
        out: dict[str, str] = {}
        for attr in dir(cls):
            for name in getattr(getattr(cls, attr, None), "__skill_intents__", ()):
                out[name] = attr
        return out

    @classmethod
    def confirm_handlers(cls, kind: Literal["confirm", "deny"]) -> dict[str, str]:
        marker = f"__skill_{kind}__"
        return {getattr(getattr(cls, a), marker): a for a in dir(cls) if hasattr(getattr(cls, a, None), marker)}


class Context:
    """What a handler may use: only the capabilities its skill was granted."""

    def __init__(
        self,
        skill: str,
        granted: frozenset[str],
        capabilities: dict[str, Any],
        conversation: Conversation,
        memory: dict[str, Any],
        shop: ShopInfo,
        skills: list[tuple[str, str]],
        storage: Path | None = None,
        storage_ready: Callable[[], None] | None = None,
    ) -> None:
        self._skill = skill
        self._storage = storage
        self._storage_ready = storage_ready
        """Called before the folder is first used in a call (it applies erasures other replicas heard)."""
        self._granted = granted
        self._caps = capabilities
        self.conversation = conversation
        self.memory = memory
        """This skill's own memory for the rest of this conversation (no other conversation sees it)."""
        self.shop = shop
        """Shop settings (read-only): currency, buying_enabled, spending_cap, items_read, ..."""
        self.skills = skills
        """(name, description) of every enabled skill, for help."""

    def _cap(self, name: str) -> Any:
        permission = CAPABILITIES[name]
        if permission not in self._granted:
            raise PermissionDenied(f"skill '{self._skill}' used {name} without the '{permission}' permission")
        if name not in self._caps:  # granted, but a household device speaks for no one person
            raise MemberNeeded(f"skill '{self._skill}' used {name}, which needs to know who is speaking")
        return self._caps[name]

    @property
    def catalog(self) -> CatalogAccess:
        return self._cap("catalog")

    @property
    def cart(self) -> CartAccess:
        return self._cap("cart")

    @property
    def orders(self) -> OrdersAccess:
        return self._cap("orders")

    @property
    def profile(self) -> ProfileAccess:
        return self._cap("profile")

    @property
    def privacy(self) -> PrivacyAccess:
        return self._cap("privacy")

    @property
    def lists(self) -> ListReader:
        """The shopping lists, to read: ``items(mine=False)``; ``personal`` says whether "mine" is one person's."""
        return self._cap("lists")

    @property
    def list_writer(self) -> ListWriter:
        """The shopping lists, to change: ``add``, ``remove``, ``tick``, ``clear`` (each ``mine=False``)."""
        return self._cap("list_writer")

    @property
    def watches(self) -> PriceWatchAccess:
        """This member's price watches: ``add(query, products, below_pence)``, ``watches()``, ``remove(id)``,
        ``unsaid()`` (news not yet told, marked told)."""
        return self._cap("watches")

    @property
    def notify(self) -> Notifier:
        """Tell this member something later: ``send(text) -> bool``. The core says it, naming your skill,
        when it next reaches them (a conversation, a companion page, a speaker), once; False when your
        skill has sent them 3 in the last hour or 10 in the last day. Needs a known speaker."""
        return self._cap("notify")

    @property
    def storage(self) -> Path:
        """This skill's own folder for its data (created on first use; erased by 'delete my data')."""
        if self._storage is None:
            raise PermissionDenied(f"skill '{self._skill}' has no storage folder here")
        if self._storage_ready is not None:
            ready, self._storage_ready = self._storage_ready, None
            ready()
        self._storage.mkdir(parents=True, exist_ok=True)
        return self._storage

    @property
    def access_log(self) -> AccessLogReader:
        """What third-party skills read and did: ``entries(skill=None, since=None, limit=200)``, newest first."""
        return self._cap("access_log")

    def money(self, pence: int) -> str:
        return money(pence, self.shop.currency)

    def describe(self, product: Product, *, size: bool = True, price: bool = True) -> str:
        """'Oatly Barista Oat Milk, 1 litre, 2 pounds 10'."""
        parts = [product.title]
        if size and product.size:
            parts.append(product.size)
        if price:
            parts.append(self.money(product.price_pence))
        return ", ".join(parts)
