"""Reorder the usual or the last order, read the order history, and say where an order is."""

from __future__ import annotations

import re
from datetime import date, datetime

from rapidfuzz import fuzz

from assistant.sdk import (
    Context,
    Line,
    Reply,
    Request,
    Skill,
    confirm_purchase,
    intent,
    number,
    on_deny,
    plural,
    say,
)

_LAST_TIME = re.compile(r"\blast (time|order|week|shop)|same again|same as before|previous order|my last\b")


def ago(when: datetime | date) -> str:
    days = (date.today() - (when.date() if isinstance(when, datetime) else when)).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{number(days)} days ago"
    if days < 60:
        return f"{number(days // 7)} weeks ago"
    return f"{number(days // 30)} months ago"


class OrdersSkill(Skill):
    name = "orders"
    description = "reorder things you buy often and tell you about your orders"
    permissions = frozenset({"catalog.read", "orders.read", "orders.place"})

    @intent("reorder")
    def reorder(self, ctx: Context, request: Request) -> Reply:
        if request.quantity is not None and not 0 < request.quantity <= ctx.shop.max_quantity:
            return say(f"I can order between 1 and {ctx.shop.max_quantity} of something. How many would you like?")
        history = ctx.orders.purchase_counts()
        if not history:
            return say("You haven't ordered anything yet, so there's nothing to reorder. What are you looking for?")
        wanted = " ".join(w for w in (request.brand, request.product) if w)
        if wanted:
            best = max(
                history,
                key=lambda h: fuzz.token_set_ratio(wanted, f"{h[0].brand} {h[0].name} {h[0].description}".lower()),
            )
            if fuzz.token_set_ratio(wanted, f"{best[0].brand} {best[0].name} {best[0].description}".lower()) < 60:
                return say(
                    f"I can't find {wanted} in your past orders. Want me to search for it instead? Say: search for {wanted}."
                )
            product, times, last = best
            return self._offer(ctx, product, request.quantity or 1, f"You last bought {product.title} {ago(last)}.")
        if _LAST_TIME.search(request.text.lower()):
            orders = ctx.orders.history(limit=1)
            lines = list(orders[0].lines)
            if request.quantity:
                lines = [Line(ln.product, request.quantity) for ln in lines]
            read = "; ".join(f"{number(ln.quantity)} {ln.product.title}" for ln in lines[:4])
            more = f" and {plural(len(lines) - 4, 'more line')}" if len(lines) > 4 else ""
            return confirm_purchase(
                lines,
                f"Your last order, {ago(orders[0].placed_at)}, was {read}{more}.",
                action="reorder",
            )
        product, times, last = history[0]
        return self._offer(
            ctx,
            product,
            request.quantity or 1,
            f"Your usual is {ctx.describe(product)}. You last bought it {ago(last)}.",
        )

    def _offer(self, ctx: Context, product, quantity: int, intro: str) -> Reply:
        return confirm_purchase([Line(product, quantity)], intro, action="reorder", data={"sku": product.sku})

    @on_deny("reorder")
    def changed_mind(self, ctx: Context, request: Request, data: dict) -> Reply:
        """'no, make it two' changes the quantity and asks again; a plain no orders nothing."""
        quantity = request.quantity
        sku = data.get("sku")
        if quantity and sku and 0 < quantity <= ctx.shop.max_quantity:
            product = ctx.catalog.by_sku(sku)
            if product is not None:
                return self._offer(ctx, product, quantity, f"{number(quantity).capitalize()} of {product.title}.")
        return say("Okay, I haven't ordered anything. What else?")

    @intent("order_history")
    def history(self, ctx: Context, request: Request) -> Reply:
        orders = ctx.orders.history(limit=3)
        if not orders:
            return say("You have no past orders yet.")
        parts = []
        for order in orders:
            names = ", ".join(ln.product.title for ln in order.lines[:3])
            more = " and more" if len(order.lines) > 3 else ""
            parts.append(
                f"{ago(order.placed_at)}, {plural(order.items, 'item')} for {ctx.money(order.total_pence)}: {names}{more}"
            )
        return say(f"Your last {plural(len(orders), 'order')}: " + "; ".join(parts) + ".")

    @intent("order_status")
    def status(self, ctx: Context, request: Request) -> Reply:
        orders = ctx.orders.history(limit=1)
        if not orders:
            return say("You have no orders yet, so there's nothing on its way.")
        order = orders[0]
        when = order.deliver_on
        if order.status == "delivered":
            return say(f"Your last order, {order.id}, was delivered {ago(when) if when else 'already'}.")
        eta = (
            "tomorrow"
            if when and (when - date.today()).days == 1
            else ("today" if when == date.today() else f"on {when:%A %d %B}" if when else "soon")
        )
        return say(f"Order {order.id}, placed {ago(order.placed_at)}, is on its way; it should arrive {eta}.")
