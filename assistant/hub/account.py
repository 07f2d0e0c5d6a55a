"""GET /v1/basket, /v1/orders, /v1/recommendations: the device owner's account, read-only."""

from __future__ import annotations

from fastapi import APIRouter, Query

from assistant.hub.deps import AccountDep, DeviceDep, HubDep
from assistant.hub.models import (
    BasketOut,
    LineOut,
    OrderOut,
    OrdersOut,
    Product,
    RecommendationOut,
    RecommendationsOut,
)
from assistant.store import Line, Suggestion

router = APIRouter(prefix="/v1", tags=["account"])


def _line(line: Line) -> LineOut:
    p = line.product
    return LineOut(
        product=Product(id=p.id, title=p.title, price=p.price_pence / 100),
        quantity=line.quantity,
        total=line.total_pence / 100,
    )


def why(s: Suggestion) -> str:
    """The suggestion's own evidence in one line, as the page shows it beside the product."""
    ev = s.evidence
    if s.signal == "co_purchase":
        return (
            f"{ev['customers']} of the {ev['anchor_customers']} customers who bought {ev['anchor']} "
            f"(you did, {ev['anchor_times']}x) also bought this."
        )
    if s.signal == "history":
        return f"You have bought this {ev['times']} times, most recently on {ev['last']}."
    usual = ", ".join(ev.get("usual", [])) or "nothing yet"
    return (
        f"Something different: you usually buy {usual}; {ev['customers']} customers here bought this {ev['category']}."
    )


@router.get("/basket")
async def basket(account: AccountDep, device: DeviceDep, hub: HubDep) -> BasketOut:
    lines = await hub.run(account.basket)
    return BasketOut(
        user=account.member.name, lines=[_line(ln) for ln in lines], total=sum(ln.total_pence for ln in lines) / 100
    )


@router.get("/orders")
async def orders(
    account: AccountDep, device: DeviceDep, hub: HubDep, limit: int = Query(20, ge=1, le=100)
) -> OrdersOut:
    history = await hub.run(account.history, limit)
    return OrdersOut(
        user=account.member.name,
        orders=[
            OrderOut(
                id=o.id,
                status=o.status,
                total=o.total_pence / 100,
                placed_at=o.placed_at.isoformat(sep=" ", timespec="minutes"),
                deliver_on=o.deliver_on.isoformat() if o.deliver_on else None,
                lines=[_line(ln) for ln in o.lines],
            )
            for o in history
        ],
    )


@router.get("/recommendations")
async def recommendations(
    account: AccountDep, device: DeviceDep, hub: HubDep, limit: int = Query(5, ge=1, le=20)
) -> RecommendationsOut:
    found = await hub.run(account.recommendations, limit)
    return RecommendationsOut(
        user=account.member.name,
        recommendations=[
            RecommendationOut(
                product=Product(id=s.product.id, title=s.product.title, price=s.product.price_pence / 100),
                signal=s.signal,
                evidence=s.evidence,
                why=why(s),
            )
            for s in found
        ],
    )
