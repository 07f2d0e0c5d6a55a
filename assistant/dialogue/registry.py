"""The one owner of live conversations: keyed by (door, principal, the client's id), never by a name alone."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.principal import Principal

if TYPE_CHECKING:
    from assistant.dialogue.conversation import Conversation

log = logging.getLogger(__name__)

Key = tuple[str, str]
"""(principal.key, the id the client chose): the principal key holds the door."""


class ConversationRegistry:
    """Opens, finds and ends conversations. A client's id is only ever looked up together with the
    principal its door proved, so the same id from another door or principal is another conversation."""

    def __init__(self, make: Callable[[Principal, str], Conversation]) -> None:
        self._make = make
        self._held: dict[Key, Conversation] = {}
        self._lock = threading.Lock()

    def open(self, principal: Principal, id: str | None = None) -> Conversation:
        key = (principal.key, id or uuid.uuid4().hex)
        with self._lock:
            conv = self._held.get(key)
            if conv is None:
                conv = self._held[key] = self._make(principal, key[1])
            return conv

    def end(self, principal: Principal, id: str) -> None:
        with self._lock:
            conv = self._held.pop((principal.key, id), None)
        if conv is not None:
            conv.end()

    def end_where(self, gone: Callable[[Principal], bool]) -> int:
        """End every conversation of the principals ``gone`` names (revoked devices): their pending
        questions expire now, and nothing of theirs can be resumed."""
        with self._lock:
            ended = [self._held.pop(k) for k, c in list(self._held.items()) if gone(c.principal)]
        for conv in ended:
            threading.Thread(target=conv.end, name="end-revoked", daemon=True).start()  # a turn may hold it
        return len(ended)

    def held(self) -> list[Conversation]:
        """Every live conversation (a snapshot)."""
        with self._lock:
            return list(self._held.values())

    def reap(self, idle_s: float) -> int:
        """Conversations nobody spoke in for ``idle_s`` end (front ends such as Home Assistant make a
        new id per conversation and never say it is over); their pending questions expire with them."""
        cutoff = time.monotonic() - idle_s
        with self._lock:
            stale = [self._held.pop(k) for k, c in list(self._held.items()) if c.last_used < cutoff]
        for conv in stale:  # ended only if no process spoke in it meanwhile
            threading.Thread(target=conv.end, kwargs={"idle_s": idle_s}, name="end-idle", daemon=True).start()
        return len(stale)
