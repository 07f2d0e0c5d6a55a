"""The hub's view of its conversations: the sockets open on each, and the turns each has had.

The App's registry owns the conversations themselves, keyed by the principal (a device's pairing,
not its name) and the id the device chose; this adds what a revoke closes. The turns the page shows
again are the store's (``TurnLog``), so any replica shows a conversation another one took.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.app import App, Conversation
from assistant.dialogue.conversation import record_key
from assistant.principal import Principal


@dataclass
class HubConversation:
    """One device's conversation in this process, and the sockets open on it."""

    principal: Principal
    id: str
    """The id the device chose."""
    conversation: Conversation
    last_used: float = field(default_factory=time.monotonic)
    sockets: dict[object, Callable[[], Awaitable[None]]] = field(default_factory=dict)
    """Open WebSockets on it, each with how to close it: a conversation in use is never reaped, and a
    revoked device's are closed."""


class DeviceConversations:
    """(principal, id) -> conversation: ids never cross devices, nor a device's old and new pairing."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._held: dict[tuple[str, str], HubConversation] = {}
        self._lock = threading.Lock()

    def open(self, principal: Principal, id: str) -> HubConversation:
        with self._lock:
            held = self._held.get((principal.key, id))
            if held is None:
                conversation = self.app.conversation(principal, id)
                held = self._held[(principal.key, id)] = HubConversation(principal, id, conversation)
            held.last_used = time.monotonic()
            return held

    def find(self, principal: Principal, id: str) -> HubConversation | None:
        with self._lock:
            return self._held.get((principal.key, id))

    def listening(self) -> list[HubConversation]:
        """The conversations with a socket open on them."""
        with self._lock:
            return [h for h in self._held.values() if h.sockets]

    def log_turn(self, held: HubConversation, turn: dict[str, Any]) -> None:
        """Keep a turn for the page to show again (a store write: not on the event loop)."""
        member = held.conversation.member
        self.app.turn_log.append(held.conversation.id, turn, member_id=member.id if member else None)

    def turns(self, principal: Principal, id: str) -> list[dict[str, Any]] | None:
        """The turns of ``principal``'s conversation ``id``, whichever replica took them; None: no such
        conversation of that principal (another device's id is not found)."""
        turns = self.app.turn_log.turns(record_key(principal, id))
        if not turns and self.find(principal, id) is None:
            return None
        return turns

    def end(self, principal: Principal, id: str) -> None:
        with self._lock:
            held = self._held.pop((principal.key, id), None)
        if held is not None:
            self.app.end_conversation(principal, id)
        self.app.turn_log.end(record_key(principal, id))

    def revoked(self, live: set[str]) -> list[HubConversation]:
        """Forget the conversations of pairings no longer in ``live`` and end them in the App; the
        caller closes their sockets."""
        with self._lock:
            gone = [key for key, h in self._held.items() if h.principal.id not in live]
            held = [self._held.pop(key) for key in gone]
        ids = {h.principal.key for h in held}
        self.app.conversations.end_where(lambda p: p.key in ids)
        for h in held:
            self.app.turn_log.end(h.conversation.id)
        return held

    def reap(self, idle_s: float) -> int:
        """End conversations idle for ``idle_s``: their pending questions expire with them."""
        cutoff = time.monotonic() - idle_s
        with self._lock:
            stale = [(h.principal, h.id) for h in self._held.values() if h.last_used < cutoff and not h.sockets]
        for principal, id in stale:
            self.end(principal, id)
        return len(stale)

    def end_all(self) -> None:
        for held in list(self._held.values()):
            self.end(held.principal, held.id)
