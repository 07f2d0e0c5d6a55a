"""/v1/conversations: typed turns over HTTP, and the live (text and audio) stream over a WebSocket."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, WebSocket, status

from assistant.hub.deps import WS_PROTOCOL, DeviceDep, HubDep
from assistant.hub.models import ConversationOut, TurnOut, TurnRequest
from assistant.hub.stream import StreamHandler

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])

ConversationId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="chosen by the device")]


@router.post("/{id}/turns")
async def take_turn(id: ConversationId, body: TurnRequest, hub: HubDep, device: DeviceDep) -> TurnOut:
    """One typed turn; the answer is `assistant chat --json`'s object."""
    held = await hub.run(hub.conversations.open, device.principal, id)
    turn = await hub.run(held.conversation.handle, body.text)
    record = turn.to_json()
    await hub.run(hub.conversations.log_turn, held, record)
    return TurnOut(**record)


@router.get("/{id}")
async def read_conversation(id: ConversationId, hub: HubDep, device: DeviceDep) -> ConversationOut:
    """This device's turns in the conversation; another device's conversation is not found."""
    turns = await hub.run(hub.conversations.turns, device.principal, id)
    if turns is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation on this device")
    return ConversationOut(id=id, turns=[TurnOut(**t) for t in turns])


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def end_conversation(id: ConversationId, hub: HubDep, device: DeviceDep) -> None:
    """End it: a question it was asking (a purchase) expires unanswered."""
    await hub.run(hub.conversations.end, device.principal, id)


@router.websocket("/{id}/stream")
async def stream(websocket: WebSocket, id: ConversationId, hub: HubDep, device: DeviceDep) -> None:
    offered = websocket.headers.get("sec-websocket-protocol", "")
    await websocket.accept(subprotocol=WS_PROTOCOL if offered.startswith(WS_PROTOCOL) else None)
    held = await hub.run(hub.conversations.open, device.principal, id)
    await StreamHandler(websocket, hub, device, held).run()
