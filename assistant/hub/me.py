"""The device owner's data (DELETE /v1/me), pairing a page with a one-time code, and /healthz."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from assistant.hub.deps import AccountDep, DeviceDep, HubDep
from assistant.hub.models import ForgetOut, Health, PairOut, PairRequest
from assistant.hub.pairing import PairingError

router = APIRouter(tags=["me"])

ERASES = "your order history, basket, recommendations and what skills stored about you"


@router.delete("/v1/me", responses={202: {"model": ForgetOut, "description": "confirmation needed"}})
async def forget_me(
    account: AccountDep,
    device: DeviceDep,
    hub: HubDep,
    response: Response,
    confirm: str | None = Query(None, max_length=64, description="the token from the first DELETE"),
) -> ForgetOut:
    """Two steps: the first DELETE says what goes and returns a token; the DELETE with ?confirm= erases."""
    if not hub.confirmations.take(device.principal.key, "forget", confirm):
        response.status_code = status.HTTP_202_ACCEPTED
        return ForgetOut(
            done=False,
            confirm=hub.confirmations.issue(device.principal.key, "forget"),
            message=f"This erases {ERASES}, for {account.member.name}, and can't be undone. Confirm to go ahead.",
        )

    def erase() -> None:
        account.orders.forget()
        hub.app.forget_skills_data(account.member.name)

    await hub.run(erase)
    return ForgetOut(done=True, message=f"Done: {ERASES} are gone for {account.member.name}.")


@router.post("/v1/pair")
async def pair(body: PairRequest, hub: HubDep, request: Request) -> PairOut:
    """Trade the one-time code `assistant serve` or `assistant devices pair --code` printed for a token."""
    if hub.rate.wait_for(f"pairing from {request.client.host if request.client else '?'}"):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many pairing attempts")
    try:
        device, token = await run_in_threadpool(hub.pairing.redeem, body.code)
    except PairingError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from exc
    return PairOut(device=device.name, user=device.user, token=token)


@router.get("/healthz")
async def healthz(hub: HubDep) -> Health:
    return Health(status="ok", engine=hub.app.engine_name, skills=len(hub.app.dispatcher.skills))
