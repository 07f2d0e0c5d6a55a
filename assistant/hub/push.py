"""Notifications pushed to members' open companion pages: a `notification` event on their WebSockets."""

from __future__ import annotations

import asyncio
import logging

from starlette.websockets import WebSocketDisconnect

from assistant.errors import AssistantError
from assistant.hub.deps import Hub
from assistant.hub.stream import StreamHandler
from assistant.notices import take_for, told

log = logging.getLogger(__name__)

PUSH_EVERY_S = 1.0
"""How often the store is asked whether a member with an open page has something to hear: one indexed
read when nobody has (price news from a catalogue import in another process shows within this)."""


def open_pages(hub: Hub) -> dict[str, list[StreamHandler]]:
    """Member -> their own devices' open sockets. A household device's page is nobody's: a member's
    notification is not for whoever stands at the hall's tablet."""
    pages: dict[str, list[StreamHandler]] = {}
    for held in hub.conversations.listening():
        for handler in list(held.sockets):
            if isinstance(handler, StreamHandler) and handler.device.user is not None:
                pages.setdefault(handler.device.user, []).append(handler)
    return pages


async def push_once(hub: Hub) -> int:
    """Send each member with an open page what they have not heard yet, once; how many members got some."""
    pages = open_pages(hub)
    if not pages:
        return 0
    waiting = await hub.run(hub.app.notifications.waiting)
    if not waiting:
        return 0
    live = await hub.run(hub.pairing.live)  # a revoke in another process counts before anything is sent
    pushed = 0
    for user, handlers in pages.items():
        member = hub.app.household.get(user)
        handlers = [h for h in handlers if h.device.token_id in live]
        if member is None or member.id not in waiting or not handlers:
            continue
        news = await hub.run(take_for, hub.app, member, "page")
        if not news:
            continue
        event = {"type": "notification", "text": told(news)}
        delivered = [await _deliver(handler, event) for handler in handlers]
        if not any(delivered):  # every page closed in the meantime: it waits for the next way to the member
            await hub.run(hub.app.notifications.give_back, news, "page")
            continue
        pushed += 1
    return pushed


async def _deliver(handler: StreamHandler, event: dict) -> bool:
    try:
        return await handler.send(event)
    except (RuntimeError, OSError, WebSocketDisconnect):  # closed between the look and the send
        return False


async def push_forever(hub: Hub) -> None:
    while True:
        await asyncio.sleep(PUSH_EVERY_S)
        try:
            pushed = await push_once(hub)
        except AssistantError as exc:  # the store is busy: the notifications wait for the next look
            log.warning("could not push notifications: %s", exc)
            continue
        if pushed:
            log.info("pushed notifications to %d members' pages", pushed)
