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
    code: str | None = Query(None, max_length=16, description="the member's purchase code, when they have one"),
) -> ForgetOut:
    """Two steps: the first DELETE says what goes and returns a token; the DELETE with ?confirm= erases.
    The purchase code guards erasing as it guards orders: a member with one sends it with the confirm."""
    household = hub.app.household
    member = account.member
    needs_code = await hub.run(household.needs_code, member.id)
    if not hub.confirmations.take(device.principal.key, "forget", confirm):
        response.status_code = status.HTTP_202_ACCEPTED
        ask = " Confirm with your purchase code to go ahead." if needs_code else " Confirm to go ahead."
        return ForgetOut(
            done=False,
            confirm=hub.confirmations.issue(device.principal.key, "forget"),
            code_needed=needs_code,
            message=f"This erases {ERASES}, for {member.name}, and can't be undone.{ask}",
        )
    if needs_code:
        door = device.principal.lock_key
        if not code or not await hub.run(household.check_code, member.id, code, door):
            locked = await hub.run(household.locked_for, member.id, door)
            why = f"buying and erasing are locked here for {max(1, round(locked / 60))} more minutes" if locked else (
                "that purchase code isn't right" if code else "your purchase code is needed")  # fmt: skip
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"Nothing was erased: {why}.")

    await hub.run(hub.app.forget, account.member)
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
