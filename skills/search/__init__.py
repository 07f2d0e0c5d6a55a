"""Search the catalogue by what the user says, with brand and price filters; reads the top results."""

from __future__ import annotations

from assistant.sdk import (
    Context,
    Product,
    Reply,
    Request,
    Skill,
    ask,
    elicit,
    intent,
    number,
    offer,
    say,
)


def price_limits(request: Request) -> tuple[float | None, float | None]:
    """(min, max) from 'under five pounds' / 'over 20 quid' / 'around a tenner'."""
    low, high = request.price("min"), request.price("max")
    target = request.price()
    if target is not None and low is None and high is None:
        high = round(target * 1.15, 2)  # "around ten pounds": not much more than ten
    return low, high


class SearchSkill(Skill):
    name = "search"
    description = "search products"
    permissions = frozenset({"catalog.read"})

    @intent("search_product")
    def search(self, ctx: Context, request: Request) -> Reply:
        product, brand = request.product, request.brand
        if not product and not brand:
            return elicit("product", "What are you looking for?")
        low, high = price_limits(request)
        results = ctx.catalog.search(product or "", brand=brand, min_price=low, max_price=high)
        what = " ".join(w for w in (brand, product) if w)
        if not results:
            return self._nothing(ctx, product or "", brand, low, high, what)
        top = results[: ctx.shop.items_read]
        if len(results) == 1:
            return offer(
                f"I found {ctx.describe(top[0])}. Add it to your basket?",
                "add_to_cart",
                focus=top[0],
                items=top,
            )
        read = "; ".join(ctx.describe(p) for p in top)
        lead = f"I found {number(len(results)) if len(results) < 20 else 'lots'}."
        heading = f"The top {number(len(top))}:" if len(results) > len(top) else "They are:"
        return ask(f"{lead} {heading} {read}. Want me to add one?", items=top, listed=len(top))

    def _nothing(
        self,
        ctx: Context,
        product: str,
        brand: str | None,
        low: float | None,
        high: float | None,
        what: str,
    ) -> Reply:
        if low is not None or high is not None:
            unfiltered = ctx.catalog.search(product, brand=brand)
            if unfiltered:
                cheapest = min(unfiltered, key=lambda p: p.price_pence)
                limit = (
                    f"under {ctx.money(round(high * 100))}"
                    if high is not None
                    else f"over {ctx.money(round(low * 100))}"
                )
                return offer(
                    f"I found {what}, but none {limit}. The closest is {ctx.describe(cheapest)}. Add it?",
                    "add_to_cart",
                    focus=cheapest,
                    items=[cheapest],
                )
        if brand and product:
            others = ctx.catalog.search(product)
            if others:
                top: list[Product] = others[: ctx.shop.items_read]
                read = "; ".join(ctx.describe(p) for p in top)
                return ask(
                    f"I couldn't find {brand} {product}, but I have {read}. Want one of those?",
                    items=top,
                )
        return say(f"Sorry, I couldn't find {what or 'that'}. Try another name or brand?")
