"""Price watches: "tell me when Lavazza is under ten pounds", and "what did I miss?"."""

from __future__ import annotations

import re

from assistant.sdk import (
    Context,
    Reply,
    Request,
    Skill,
    Watch,
    confirm,
    elicit,
    intent,
    item_key,
    join,
    number,
    on_confirm,
    plural,
    resemblance,
    say,
)

WHEN = re.compile(
    r"\b(?:when|if|once) (?:the price of |the )?(?P<what>[a-z][\w' -]*?) "
    r"(?:is|are|goes|go|gets|get|drops?|falls?|comes?)\b"
)
EVERY = re.compile(r"\b(?:all|every|everything)\b")
READ = 5
"""Watches read out before "and N more"."""
SAME = 85
"""resemblance from which a product is what was named (a brand alone matches by the shop's brand filter)."""


class PriceWatchSkill(Skill):
    name = "price_watch"
    description = "tell you when a price drops"
    permissions = frozenset({"catalog.read", "prices.watch", "notify"})

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
        if ctx.watches.add(what, found, below) is None:
            return say("You're watching as many prices as I can keep. Say: what am I watching, and stop one first.")
        cheapest = min(found, key=lambda p: p.price_pence)
        now = f"{cheapest.title} is {ctx.money(cheapest.price_pence)} now"
        if len(found) > 1:
            now = f"That's {plural(len(found), 'product')}; the cheapest is {ctx.describe(cheapest, size=False)}"
        if below is None:
            return say(f"Okay, I'll tell you when {what} goes down in price. {now}.")
        already = (
            " It's under that already; I'll tell you when another one drops under it."
            if cheapest.price_pence < below
            else ""
        )
        return say(f"Okay, I'll tell you when {what} is under {ctx.money(below)}. {now}.{already}")

    def _said(self, ctx: Context, watch: Watch) -> str:
        if watch.below_pence is None:
            return f"{watch.query} going down"
        return f"{watch.query} under {ctx.money(watch.below_pence)}"

    @intent("list_watches")
    def listed(self, ctx: Context, request: Request) -> Reply:
        held = ctx.watches.watches()
        if not held:
            return say("You aren't watching any prices. Say, for example: tell me when coffee is under five pounds.")
        said = join([self._said(ctx, w) for w in held[:READ]])
        more = f", and {number(len(held) - READ)} more" if len(held) > READ else ""
        return say(f"You're watching {plural(len(held), 'price')}: {said}{more}.")

    @intent("stop_watch")
    def stop(self, ctx: Context, request: Request) -> Reply:
        held = ctx.watches.watches()
        if not held:
            return say("You aren't watching any prices, so there's nothing to stop.")
        what = " ".join(w for w in (request.brand, request.product) if w)
        if not what:
            if EVERY.search(request.text.lower()):
                if len(held) == 1:
                    return confirm(f"Stop watching {self._said(ctx, held[0])}?", "stop_all")
                return confirm(f"Stop all {plural(len(held), 'price watch', 'price watches')}?", "stop_all")
            return elicit("product", f"Which one? You're watching {join([w.query for w in held[:READ]], 'or')}.")
        gone = [w for w in held if item_key(what) in item_key(w.query) or item_key(w.query) in item_key(what)]
        if not gone:
            return say(f"You aren't watching {what}. You're watching {join([w.query for w in held[:READ]])}.")
        for watch in gone:
            ctx.watches.remove(watch.id)
        return say(f"Okay, I've stopped watching {join([self._said(ctx, w) for w in gone])}.")

    @on_confirm("stop_all")
    def stop_all(self, ctx: Context, request: Request, data: dict) -> Reply:
        held = ctx.watches.watches()
        for watch in held:
            ctx.watches.remove(watch.id)
        return say(f"Done: I've stopped {plural(len(held), 'price watch', 'price watches')}.")

    @intent("whats_new")
    def missed(self, ctx: Context, request: Request) -> Reply:
        news = ctx.notify.missed()  # price news and other skills' notes alike
        if not news:
            held = len(ctx.watches.watches())
            if not held:
                return say(
                    "Nothing new. You aren't watching any prices; say, for example: tell me when coffee is under five pounds."
                )
            return say(
                f"Nothing new: none of your {plural(held, 'price watch', 'price watches')} has moved since you last heard."
            )
        return say(f"Here's what you missed: {join(news)}.")
