"""Recommendations with honest reasons: co-purchases, the user's own history, and something new."""

from __future__ import annotations

from assistant.sdk import (
    Context,
    Reply,
    Request,
    Skill,
    Suggestion,
    confirm,
    intent,
    join,
    number,
    offer,
    on_confirm,
    say,
)


def _pitch(ctx: Context, s: Suggestion) -> str:
    price = ctx.money(s.product.price_pence)
    if s.signal == "co_purchase":
        return f"People who buy {s.evidence['anchor']} often get the {s.product.title}, {price}."
    if s.signal == "history":
        return f"You often buy {s.product.title}, {price}; you last got it on {s.evidence['last']}."
    return f"Something outside your usual {join(s.evidence.get('usual', []))}: {s.product.title}, {price}, popular with shoppers here."


def explain(ctx: Context, s: Suggestion) -> str:
    ev = s.evidence
    if s.signal == "co_purchase":
        times = (
            "once"
            if ev["anchor_times"] == 1
            else ("twice" if ev["anchor_times"] == 2 else f"{number(ev['anchor_times'])} times")
        )
        return (
            f"Because {ev['customers']} of the {ev['anchor_customers']} customers who bought {ev['anchor']}, as you did {times}, "
            f"also bought the {s.product.title}. That comes from the shop's co-purchase figures and your own order history, "
            "nothing else; it isn't an ad."
        )
    if s.signal == "history":
        return f"Because you've bought {s.product.title} {number(ev['times'])} times, most recently on {ev['last']}. That comes from your own order history; it isn't an ad."
    usual = join(ev.get("usual", [])) or "nothing yet"
    return (
        f"Because you asked for something different: you usually buy {usual}, and this is from {ev['category']}, "
        f"which you haven't bought from. {ev['customers']} customers here bought it. It isn't an ad."
    )


class RecommendSkill(Skill):
    name = "recommend"
    description = "recommend things and tell you why"
    permissions = frozenset({"catalog.read", "orders.read"})

    def _seen(self, ctx: Context) -> set[int]:
        return ctx.memory.setdefault("seen", set())

    @intent("recommend")
    def recommend(self, ctx: Context, request: Request) -> Reply:
        found = ctx.orders.recommend(query=request.product or request.brand, exclude=self._seen(ctx), limit=3)
        if not found:
            if request.product:
                return say(
                    f"I don't have a recommendation for {request.product} from your history yet. Want me to search for it? Say: search for {request.product}."
                )
            return say("I don't have anything new to recommend right now. Try: surprise me.")
        return self._present(ctx, found)

    def _present(self, ctx: Context, found: list[Suggestion]) -> Reply:
        first, rest = found[0], found[1:]
        self._seen(ctx).add(first.product.id)
        ctx.memory["last"] = first
        ctx.memory["queue"] = rest
        if rest:
            return confirm(f"{_pitch(ctx, first)} Want to hear more?", action="more", focus=first.product)
        return offer(
            f"{_pitch(ctx, first)} Add it?",
            "add_to_cart",
            focus=first.product,
            items=[first.product],
        )

    @on_confirm("more")
    def more(self, ctx: Context, request: Request, data: dict) -> Reply:
        queue = ctx.memory.get("queue") or []
        if not queue:
            return say("That's all I have for now.")
        return self._present(ctx, queue)

    @intent("discover")
    def discover(self, ctx: Context, request: Request) -> Reply:
        found = ctx.orders.discover(exclude=self._seen(ctx), limit=3)
        if not found:
            return say("I've shown you everything new I have. Ask me to recommend something instead?")
        first = found[0]
        self._seen(ctx).add(first.product.id)
        ctx.memory["last"] = first
        ctx.memory["queue"] = found[1:]
        return offer(
            f"{_pitch(ctx, first)} Add it?",
            "add_to_cart",
            focus=first.product,
            items=[first.product],
        )

    @intent("explain_recommendation")
    def why(self, ctx: Context, request: Request) -> Reply:
        last: Suggestion | None = ctx.memory.get("last")
        if last is None:
            return say("I haven't recommended anything yet. Ask me: what do you recommend?")
        return say(explain(ctx, last), focus=last.product)
