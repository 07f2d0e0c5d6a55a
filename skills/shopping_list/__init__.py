"""The shopping list: things said in any words, merged as they come, read back by aisle, and ordered."""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from assistant.sdk import (
    LIST_LIMIT,
    Context,
    ListItem,
    Product,
    Reply,
    Request,
    Skill,
    confirm,
    elicit,
    intent,
    item_key,
    join,
    number,
    on_confirm,
    on_deny,
    plural,
    resemblance,
    say,
)

READ_AT_ONCE = 10
"""Items read before "and five more, shall I go on?"."""
ORDER_READ = 5
"""Matches read out for "order my list" before "and N more"."""
MAX_WORDS = 8
"""An item of more words than this is a sentence heard as one item, not a thing to buy."""
SAME = 85
"""rapidfuzz token_set_ratio from which an item's words are all in a product's (plurals folded)."""

MINE = re.compile(r"\bmy (?:own )?(?:shopping )?list\b|\bmy own\b")
TICK = re.compile(r"\b(?:got|bought|picked up|tick|ticked|found|done|have plenty)\b")
MORE = re.compile(r"\b(?:more|another|extra)\b")
LEADING = re.compile(r"^(?:(?:the|some|any|a couple of|another|more)\s+)+", re.I)
"""Words before an item that say how much, not what: "some more milk" is milk (``MORE`` keeps the more;
"extra" stays, as in extra virgin olive oil)."""


def _bare(words: str, request: Request) -> str:
    """``words`` less what says how much before the item: "another two", "some more", "a couple of"."""
    spoken = [
        request.text[e.start : e.end].lower() for e in request.entities if e.entity == "quantity" and e.end > e.start
    ]
    while True:
        before = words
        words = LEADING.sub("", words)
        for heard in spoken:
            if words.lower().startswith(heard + " "):
                words = words[len(heard) :].strip().removeprefix("of ").strip()
        if words == before:
            return words


_LIST_PHRASE = re.compile(
    r"\b(?:on|to|onto|in|down on) (?:the|my|our)(?: own| family| household)?(?: shopping)? list\b"
)
FRAME = re.compile(
    r"^(?:please |can you |could you |um |uh )*(?:add|put|stick|pop|write) (?P<item>.+?) "
    r"(?:to|on|onto|down on) (?:the|my|our)(?: own| family| household)?(?: shopping)? list(?: please)?$"
)
"""'put X on the list', the plainest way of saying it: X is all the item."""
_NOTE_FILLER = re.compile(r"\b(?:please|thanks|thank you|too|as well|would you|for me|again|also|then|now|ok|okay)\b")


def said(item: ListItem) -> str:
    """'milk', 'two milks', 'bread, the seeded one'."""
    words = f"{number(item.quantity)} {item.name}" if item.quantity > 1 else item.name
    return f"{words}, {item.note}" if item.note else words


def note_of(text: str) -> str:
    """What follows 'on the list' ('add milk to the list, semi-skimmed'), fillers dropped."""
    found = _LIST_PHRASE.search(text)
    if not found:
        return ""
    rest = _NOTE_FILLER.sub(" ", text[found.end() :]).strip(" ,.!?")
    return " ".join(rest.split())[:80]


class ShoppingListSkill(Skill):
    name = "shopping_list"
    description = "keep the shopping list and order it"
    permissions = frozenset({"list.read", "list.write", "catalog.read", "orders.read", "cart.write"})

    # -- which list ---------------------------------------------------------------------------
    @staticmethod
    def _mine(ctx: Context, request: Request) -> bool:
        """'my list' on a member's own device; 'the list' (and anything on a household device) is the household's."""
        return ctx.lists.personal and bool(MINE.search(request.text.lower()))

    def _to_read(self, ctx: Context, request: Request) -> tuple[bool, list[ListItem], str]:
        """The list to read or order, its items, and a word when "my list" is empty but the household's isn't."""
        mine = self._mine(ctx, request)
        items = ctx.lists.items(mine=mine)
        if mine and not items:
            shared = ctx.lists.items()
            if shared:
                return False, shared, "Your own list is empty, so here's the household's. "
        return mine, items, ""

    @staticmethod
    def _called(mine: bool) -> str:
        return "your list" if mine else "the list"

    def _item_named(self, ctx: Context, request: Request) -> str | None:
        name = request.value("item") or request.product
        framed = self._framed(request)
        if name is not None:
            name = _bare(" ".join(name.split()), request)
        if framed and (not name or name.lower() in framed.lower()):
            name = framed  # the tagger left words out: "put red beans on the list" heard as "beans"
        if name is None:
            return None
        return name.strip(" ,.!?") or None

    @staticmethod
    def _framed(request: Request) -> str | None:
        """The words between 'put' and 'on the list', less the number said, when the sentence is that plain."""
        found = FRAME.match(request.text.lower())
        if not found:
            return None
        return _bare(found.group("item"), request) or None

    def _matching(self, items: list[ListItem], name: str) -> list[ListItem]:
        """Items that are this one: the same words first; else every one whose name holds all its words."""
        key = item_key(name)
        same = [i for i in items if item_key(i.name) == key]
        if same:
            return same
        return [i for i in items if fuzz.token_set_ratio(key, item_key(i.name)) >= SAME]

    # -- adding -------------------------------------------------------------------------------
    @intent("add_to_list")
    def add(self, ctx: Context, request: Request) -> Reply:
        mine = self._mine(ctx, request)
        name = self._item_named(ctx, request)
        said_words = len(request.text.split())
        if name is None and said_words <= 12:
            return elicit("item", f"What should I put on {self._called(mine)}?")
        if name is None or len(name.split()) > MAX_WORDS or (said_words > 12 and len(name.split()) < said_words / 2):
            # a sentence heard as one item, or one the tagger picked a few words out of, or none
            return elicit(
                "item",
                "That sounded like a whole sentence rather than one thing. What should I put on the list?",
            )
        quantity = request.quantity
        if quantity is not None and not 0 < quantity <= ctx.shop.max_quantity:
            return elicit("quantity", f"How many {name} should go on the list, from 1 to {ctx.shop.max_quantity}?")
        more = bool(MORE.search(request.text.lower()))
        note = note_of(request.text.lower())
        items = ctx.lists.items(mine=mine)
        if not any(item_key(i.name) == item_key(name) for i in items):
            wider = [i for i in items if set(item_key(name).split()) < set(item_key(i.name).split())]
            if wider:  # "milk" when "oat milk" is there: the same thing, or another?
                other = wider[0]
                data = {
                    "name": name,
                    "quantity": quantity,
                    "note": note,
                    "mine": mine,
                    "more": more,
                    "into": other.name,
                }
                return confirm(
                    f"There's {other.name} on {self._called(mine)}. Is that the {name} you mean?", "merge", data
                )
        return self._put(ctx, name, quantity, note, mine, more, items)

    def _put(
        self, ctx: Context, name: str, quantity: int | None, note: str, mine: bool, more: bool, before: list[ListItem]
    ) -> Reply:
        if len(before) >= LIST_LIMIT and not self._matching(before, name):
            return say(f"{self._called(mine).capitalize()} is full at {LIST_LIMIT} things. Take some off first.")
        had = next((i for i in before if item_key(i.name) == item_key(name)), None)
        item = ctx.list_writer.add(name, quantity, note, mine=mine, more=more)
        where = self._called(mine)
        if had is None:
            return say(f"Added {said(item)} to {where}.")
        if item.quantity == had.quantity and item.note == had.note:
            return say(f"{where.capitalize()} already has {said(item)}.")
        return say(f"{where.capitalize()} now has {said(item)}.")

    @on_confirm("merge")
    def merge(self, ctx: Context, request: Request, data: dict) -> Reply:
        before = ctx.lists.items(mine=data["mine"])
        return self._put(ctx, data["into"], data["quantity"], data["note"], data["mine"], data["more"], before)

    @on_deny("merge")
    def separate(self, ctx: Context, request: Request, data: dict) -> Reply:
        before = ctx.lists.items(mine=data["mine"])
        return self._put(ctx, data["name"], data["quantity"], data["note"], data["mine"], data["more"], before)

    # -- taking off ---------------------------------------------------------------------------
    @intent("remove_from_list")
    def remove(self, ctx: Context, request: Request) -> Reply:
        mine = self._mine(ctx, request)
        where = self._called(mine)
        items = ctx.lists.items(mine=mine)
        if not items:
            return say(f"{where.capitalize()} is empty already.")
        name = self._item_named(ctx, request)
        if name is None:
            return elicit("item", f"What should I take off {where}?")
        found = self._matching(items, name)
        if not found:
            return say(f"There's no {name} on {where}, so I haven't changed it. Say: what's on the list, to hear it.")
        if len(found) > 1:
            return elicit("item", f"Which one: {join([i.name for i in found[:3]], 'or')}?")
        item = found[0]
        if TICK.search(request.text.lower()) and not request.quantity:
            ctx.list_writer.tick(item.id, mine=mine)
            left = len(items) - 1
            return say(f"Ticked off {item.name}. {self._left(left, where)}")
        rest = ctx.list_writer.remove(item.id, request.quantity, mine=mine)
        if rest is not None:
            return say(f"Took {number(item.quantity - rest.quantity)} off; {where} has {said(rest)}.")
        return say(f"Took {item.name} off {where}. {self._left(len(items) - 1, where)}")

    @staticmethod
    def _left(count: int, where: str) -> str:
        if count == 0:
            return f"{where.capitalize()} is empty now."
        return f"{plural(count, 'thing').capitalize()} left on {where}."

    @intent("clear_list")
    def clear(self, ctx: Context, request: Request) -> Reply:
        mine = self._mine(ctx, request)
        where = self._called(mine)
        items = ctx.lists.items(mine=mine)
        count = len(items)
        if count == 0:
            return say(f"{where.capitalize()} is empty already.")
        question = f"Clear all {number(count)}?" if count > 1 else f"It's {items[0].name}. Clear it?"
        return confirm(
            f"{where.capitalize()} has {plural(count, 'thing')} on it. {question}",
            "clear",
            {"mine": mine, "count": count},
        )

    @on_confirm("clear")
    def cleared(self, ctx: Context, request: Request, data: dict) -> Reply:
        gone = ctx.list_writer.clear(mine=data["mine"])
        return say(f"Done: {self._called(data['mine'])} is empty; {plural(gone, 'thing')} taken off.")

    @on_deny("clear")
    def kept(self, ctx: Context, request: Request, data: dict) -> Reply:
        count = len(ctx.lists.items(mine=data["mine"]))
        return say(f"Okay, I've kept {self._called(data['mine'])} as it is: {plural(count, 'thing')}.")

    # -- reading ------------------------------------------------------------------------------
    def _by_aisle(self, ctx: Context, items: list[ListItem]) -> list[tuple[str, ListItem]]:
        """Items grouped by the shop's category of their best match, in order of first mention; the rest last."""
        groups: dict[str, list[ListItem]] = {}
        for item in items:
            match = self._best(ctx, item.name)
            groups.setdefault(match.category if match else "", []).append(item)
        ordered = [(c, i) for c, group in groups.items() if c for i in group]
        return ordered + [("", i) for i in groups.get("", [])]

    @staticmethod
    def _best(ctx: Context, name: str) -> Product | None:
        found = ctx.catalog.search(name, limit=5)
        scored = sorted(((resemblance(name, p), p) for p in found), key=lambda sp: -sp[0])
        return scored[0][1] if scored and scored[0][0] >= SAME else None

    @intent("view_list")
    def view(self, ctx: Context, request: Request) -> Reply:
        mine, items, instead = self._to_read(ctx, request)
        where = self._called(mine)
        if not items:
            return say(f"{where.capitalize()} is empty. Say, for example: put milk on the list.")
        ordered = self._by_aisle(ctx, items)
        intro = f"{instead}{where.capitalize()} has {plural(len(items), 'thing')}."
        return self._read(ordered, 0, intro, mine)

    def _read(self, ordered: list[tuple[str, ListItem]], start: int, intro: str, mine: bool) -> Reply:
        part = ordered[start : start + READ_AT_ONCE]
        groups: dict[str, list[str]] = {}
        for category, item in part:
            groups.setdefault(category, []).append(said(item))
        named = [c for c in groups if c]
        sentences = [f"{c.capitalize()}: {join(groups[c])}." for c in named]
        if "" in groups:
            sentences.append(f"{'Also' if named else 'On it'}: {join(groups[''])}.")
        rest = len(ordered) - start - len(part)
        text = " ".join([intro, *sentences]).strip()
        if rest:
            return confirm(
                f"{text} And {number(rest)} more, shall I go on?", "more", {"start": start + len(part), "mine": mine}
            )
        return say(text)

    @on_confirm("more")
    def more(self, ctx: Context, request: Request, data: dict) -> Reply:
        items = ctx.lists.items(mine=data["mine"])
        return self._read(self._by_aisle(ctx, items), data["start"], "", data["mine"])

    # -- ordering -----------------------------------------------------------------------------
    @intent("order_list")
    def order(self, ctx: Context, request: Request) -> Reply:
        mine, items, instead = self._to_read(ctx, request)
        if not items:
            return say(f"{self._called(mine).capitalize()} is empty, so there's nothing to order.")
        history = ctx.orders.purchase_counts()
        found: list[tuple[ListItem, Product, str]] = []
        missing: list[ListItem] = []
        for item in items:
            usual = max(history, key=lambda h: resemblance(item.name, h[0]), default=None)
            if usual is not None and resemblance(item.name, usual[0]) >= SAME:
                product, times, last = usual
                reason = f"you've bought {product.title} {plural(times, 'time')}, most recently on {last:%d %B}"
                found.append((item, product, "usual:" + reason))
                continue
            best = self._best(ctx, item.name)
            if best is None:
                missing.append(item)
            else:
                reason = f"you haven't bought {item.name} here before, and {best.title} is the shop's closest match"
                found.append((item, best, "search:" + reason))
        if not found:
            return say(f"I couldn't find anything in the shop for {join([i.name for i in missing[:5]], 'or')}.")
        spoken = []
        for item, product, reason in found[:ORDER_READ]:
            usual = "your usual " if reason.startswith("usual:") else ""
            quantity = f"{number(item.quantity)} of " if item.quantity > 1 else ""
            spoken.append(f"{item.name}: {quantity}{usual}{ctx.describe(product, size=not usual)}")
        if len(found) > ORDER_READ:
            spoken.append(f"and {plural(len(found) - ORDER_READ, 'more match', 'more matches')}")
        text = "; ".join(spoken) + "."
        if missing:
            text += f" I couldn't find {join([i.name for i in missing[:3]], 'or')}"
            text += f" or {plural(len(missing) - 3, 'other thing')}." if len(missing) > 3 else "."
        why = "; ".join(f"{item.name}: {reason.split(':', 1)[1]}" for item, _, reason in found[:ORDER_READ])
        why = f"{why[:1].upper()}{why[1:]}. Matches come from your own order history first, then the shop's search; nothing else."
        lines = [[p.sku, min(item.quantity, ctx.shop.max_quantity)] for item, p, _ in found]
        return confirm(
            f"{instead}{text[:1].upper()}{text[1:]} Add them to the basket?",
            "to_basket",
            {"lines": lines},
            items=[p for _, p, _ in found],
            why=why,
        )

    @on_confirm("to_basket")
    def to_basket(self, ctx: Context, request: Request, data: dict) -> Reply:
        added = 0
        for sku, quantity in data["lines"]:
            product = ctx.catalog.by_sku(sku)
            if product is not None:
                ctx.cart.add(product, quantity)
                added += quantity
        lines = ctx.cart.lines()
        total = ctx.money(sum(ln.total_pence for ln in lines))
        items = sum(ln.quantity for ln in lines)
        return say(
            f"Added {plural(added, 'item')} to your basket. It has {plural(items, 'item')}, {total}. "
            "Say check out when you're ready."
        )

    @on_deny("to_basket")
    def not_to_basket(self, ctx: Context, request: Request, data: dict) -> Reply:
        return say("Okay, I haven't touched your basket, and the list is as it was.")
