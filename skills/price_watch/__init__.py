"""Price watches: "tell me when Lavazza is under ten pounds", and "what did I miss?"."""

from __future__ import annotations

import re

from assistant.sdk import (
    Context,
    Reply,
    Request,
    Skill,
    elicit,
    intent,
    join,
    plural,
    price_news,
    resemblance,
    say,
)

WHEN = re.compile(
    r"\b(?:when|if|once) (?:the price of |the )?(?P<what>[a-z][\w' -]*?) "
    r"(?:is|are|goes|go|gets|get|drops?|falls?|comes?)\b"
)
SAME = 85
"""resemblance from which a product is what was named (a brand alone matches by the shop's brand filter)."""


class PriceWatchSkill(Skill):
    name = "price_watch"
    description = "tell you when a price drops"
    permissions = frozenset({"catalog.read", "prices.watch"})

    @intent("watch_price")
    def watch(self, ctx: Context, request: Request) -> Reply:
        named = request.product
        if not (named or request.brand):  # a thing the tagger did not know: "when unicorn saddles are ..."
            found = WHEN.search(request.text.lower())
            named = found.group("what") if found else None
        what = " ".join(w for w in (request.brand, named) if w)
        if not what:
            return elicit("product", "What should I watch the price of?")
        limit = request.price("max") or request.price()
        if limit is not None and not 0 < limit < 100_000:
            return elicit("price", f"Under how much should {what} be when I tell you?")
        found = ctx.catalog.search(named or "", brand=request.brand, limit=50)
        if named:
            found = [p for p in found if resemblance(named, p) >= SAME]
        if not found:
            return say(f"I couldn't find {what} in the shop, so there's nothing to watch. Try another name?")
        below = round(limit * 100) if limit is not None else None
        ctx.watches.add(what, found, below)
        cheapest = min(found, key=lambda p: p.price_pence)
        now = f"{cheapest.title} is {ctx.money(cheapest.price_pence)} now"
        if len(found) > 1:
            now = f"I'm watching {plural(len(found), 'product')}; the cheapest, {now}"
        if below is None:
            return say(f"Okay, I'll tell you when {what} goes down in price. {now}.")
        already = (
            " It's under that already; I'll tell you when another one drops under it."
            if cheapest.price_pence < below
            else ""
        )
        return say(f"Okay, I'll tell you when {what} is under {ctx.money(below)}. {now}.{already}")

    @intent("whats_new")
    def missed(self, ctx: Context, request: Request) -> Reply:
        news = ctx.watches.unsaid()
        if not news:
            held = len(ctx.watches.watches())
            if not held:
                return say(
                    "Nothing new. You aren't watching any prices; say, for example: tell me when coffee is under five pounds."
                )
            return say(
                f"Nothing new: none of your {plural(held, 'price watch', 'price watches')} has moved since you last heard."
            )
        return say(f"Here's what you missed: {join([price_news(n, ctx.shop.currency) for n in news])}.")
