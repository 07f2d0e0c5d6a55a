"""Each device's conversations, kept apart: a conversation id is only ever looked up with its device."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from assistant.app import App, Conversation
from assistant.hub.pairing import Device

KEPT_TURNS = 50


@dataclass
class HubConversation:
    """One device's conversation and the turns it has had (for the page to show again)."""

    device: str
    id: str
    """The id the device chose; the App's conversation id is the pair."""
    conversation: Conversation
    turns: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=KEPT_TURNS))
    last_used: float = field(default_factory=time.monotonic)
    streams: int = 0
    """Open WebSockets on it: a conversation in use is never reaped."""


class DeviceConversations:
    """(device, id) -> conversation. The App's conversation id is the pair, so ids never cross devices."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._held: dict[tuple[str, str], HubConversation] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _app_id(device: str, id: str) -> str:
        return f"{device}/{id}"

    def open(self, device: Device, id: str) -> HubConversation:
        with self._lock:
            held = self._held.get((device.name, id))
            if held is None:
                conversation = self.app.conversation(
                    user=device.user, device=device.name, id=self._app_id(device.name, id)
                )
                held = self._held[(device.name, id)] = HubConversation(device.name, id, conversation)
            held.last_used = time.monotonic()
            return held

    def find(self, device: Device, id: str) -> HubConversation | None:
        with self._lock:
            return self._held.get((device.name, id))

    def end(self, device: str, id: str) -> None:
        with self._lock:
            held = self._held.pop((device, id), None)
        if held is not None:
            self.app.end_conversation(held.conversation.id)

    def end_device(self, device: str) -> None:
        for name, id in [key for key in list(self._held) if key[0] == device]:
            self.end(name, id)

    def reap(self, idle_s: float) -> int:
        """End conversations idle for ``idle_s``: their pending questions expire with them."""
        cutoff = time.monotonic() - idle_s
        with self._lock:
            stale = [key for key, h in self._held.items() if h.last_used < cutoff and not h.streams]
        for device, id in stale:
            self.end(device, id)
        return len(stale)

    def end_all(self) -> None:
        for device, id in list(self._held):
            self.end(device, id)
