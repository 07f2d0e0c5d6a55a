"""The basket: add, remove and read it back with quantities and the total; check out with a yes."""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from assistant.sdk import (
    Context,
    Line,
    Product,
    Reply,
    Request,
    Skill,
    confirm_purchase,
    elicit,
    intent,
    number,
    ordinal,
    pick,
    plural,
    say,
)

REFERENCE = re.compile(r"\b(that|it|this|those|them|these|one|ones|same)\b")
"""Words that point back at something already shown: 'add that', 'add it'."""


EVERYTHING = re.compile(r"\b(everything|all of it|empty|clear)\b")


def out_of_range(ctx: Context) -> Reply:
    listed = ctx.conversation.listed_count or len(ctx.conversation.last_list)
    if not listed:
        return say("I haven't read out a list yet. What are you looking for?")
    choices = ", ".join(ordinal(i) for i in range(1, listed)) + f" or {ordinal(listed)}" if listed > 1 else "the first"
    return say(f"I only read out {number(listed)}. Say {choices}, or ask me to search again.")


def check_quantity(ctx: Context, quantity: int | None) -> Reply | None:
    if quantity is None:
        return None
    if quantity <= 0:
        return elicit("quantity", f"How many would you like, from 1 to {ctx.shop.max_quantity}?")
    if quantity > ctx.shop.max_quantity:
        return elicit(
            "quantity",
            f"That's a lot. I can add up to {ctx.shop.max_quantity} at a time. How many would you like?",
        )
    return None


def cart_summary(ctx: Context) -> str:
    lines = ctx.cart.lines()
    items = sum(line.quantity for line in lines)
    return f"That's {plural(items, 'item')}, {ctx.money(sum(ln.total_pence for ln in lines))}."


class CartSkill(Skill):
    name = "cart"
    description = "manage your basket and check out"
    permissions = frozenset({"catalog.read", "cart.write", "orders.place"})

    def _resolve(self, ctx: Context, request: Request) -> Product | Reply:
        """The product meant: an ordinal from the last list, a name said, or 'that'."""
        if request.ordinal:
            chosen = pick(ctx.conversation, request.ordinal)
            return chosen if chosen is not None else out_of_range(ctx)
        if request.product or request.brand:
            found = ctx.catalog.search(request.product or "", brand=request.brand, limit=1)
            if not found:
                what = " ".join(w for w in (request.brand, request.product) if w)
                return say(f"Sorry, I couldn't find {what}. Try another name?")
            return found[0]
        if not (request.confirmed or REFERENCE.search(request.text.lower())):
            return elicit("product", "What should I add?")
        chosen = pick(ctx.conversation, None)
        if chosen is not None:
            return chosen
        if len(ctx.conversation.last_list) > 1:
            return elicit("ordinal", "Which one? Say first, second or third.")
        return elicit("product", "What should I add?")

    @intent("add_to_cart")
    def add(self, ctx: Context, request: Request) -> Reply:
        problem = check_quantity(ctx, request.quantity)
        if problem:
            return problem
        target = self._resolve(ctx, request)
        if isinstance(target, Reply):
            return target
        quantity = request.quantity or 1
        total = ctx.cart.add(target, quantity)
        if total > ctx.shop.max_quantity:
            ctx.cart.remove(target, total - ctx.shop.max_quantity)
            return say(
                f"You can have at most {ctx.shop.max_quantity} of one thing, so your basket now has {ctx.shop.max_quantity} of {target.title}."
            )
        what = (
            f"{number(quantity)} of {ctx.describe(target, price=False)}"
            if quantity > 1
            else ctx.describe(target, price=False)
        )
        if target.size:
            what += ","  # "Added Alpro Oat, 1 litre, to your basket."
        return say(f"Added {what} to your basket. {cart_summary(ctx)}", focus=target)

    def _in_cart(self, ctx: Context, request: Request, lines: list[Line]) -> Line | Reply:
        if request.ordinal:
            chosen = pick(ctx.conversation, request.ordinal)
            if chosen is None:
                return out_of_range(ctx)
            match = next((ln for ln in lines if ln.product.id == chosen.id), None)
            return match or say(f"{chosen.title} isn't in your basket.")
        words = " ".join(w for w in (request.brand, request.product) if w)
        if words:
            scored = max(
                lines,
                key=lambda ln: fuzz.token_set_ratio(
                    words, f"{ln.product.brand} {ln.product.name} {ln.product.description}".lower()
                ),
            )
            if (
                fuzz.token_set_ratio(
                    words,
                    f"{scored.product.brand} {scored.product.name} {scored.product.description}".lower(),
                )
                >= 60
            ):
                return scored
            return say(f"There's no {words} in your basket.")
        focus = ctx.conversation.focus
        match = next((ln for ln in lines if focus and ln.product.id == focus.id), None)
        if match:
            return match
        if len(lines) == 1:
            return lines[0]
        return elicit("product", "Which item should I take out?")

    @intent("remove_from_cart")
    def remove(self, ctx: Context, request: Request) -> Reply:
        lines = ctx.cart.lines()
        if not lines:
            return say("Your basket is already empty.")
        if EVERYTHING.search(request.text.lower()) and not (request.product or request.ordinal):
            ctx.cart.clear()
            return say(f"I've emptied your basket: {plural(sum(ln.quantity for ln in lines), 'item')} taken out.")
        target = self._in_cart(ctx, request, lines)
        if isinstance(target, Reply):
            return target
        quantity = request.quantity
        left = ctx.cart.remove(target.product, quantity)
        if left:
            return say(
                f"Took out {number(target.quantity - left)}; {number(left)} of {target.product.title} left. {cart_summary(ctx)}"
            )
        rest = ctx.cart.lines()
        tail = cart_summary(ctx) if rest else "Your basket is now empty."
        return say(f"Removed {target.product.title} from your basket. {tail}")

    @intent("view_cart")
    def view(self, ctx: Context, request: Request) -> Reply:
        lines = ctx.cart.lines()
        if not lines:
            return say("Your basket is empty. What would you like to add?")
        items = sum(ln.quantity for ln in lines)
        total = ctx.money(sum(ln.total_pence for ln in lines))
        read = "; ".join(f"{number(ln.quantity)} {ln.product.title}, {ctx.money(ln.total_pence)}" for ln in lines[:5])
        more = f"; and {plural(len(lines) - 5, 'more line')}" if len(lines) > 5 else ""
        return say(
            f"Your basket has {plural(items, 'item')}, {total}: {read}{more}.",
            items=[ln.product for ln in lines],
            listed=min(5, len(lines)),
        )

    @intent("checkout")
    def checkout(self, ctx: Context, request: Request) -> Reply:
        if not ctx.cart.lines():
            return say("Your basket is empty, so there's nothing to check out. What would you like to add?")
        return confirm_purchase()
