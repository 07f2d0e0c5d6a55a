"""Second steps for what needs a yes over HTTP (enabling a skill, erasing my data): one-use tokens per device."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

CONFIRM_SECONDS = 120


@dataclass
class Confirmations:
    """Second-step tokens for what needs a yes (enabling a skill, erasing my data), per device."""

    _pending: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, device: str, action: str) -> str:
        token = secrets.token_urlsafe(12)
        with self._lock:
            self._pending[(device, action)] = (token, time.monotonic() + CONFIRM_SECONDS)
        return token

    def take(self, device: str, action: str, token: str | None) -> bool:
        """True once for the token just issued to this device for this action, within two minutes."""
        if not token:
            return False
        with self._lock:
            pending = self._pending.get((device, action))
            if pending is None or not secrets.compare_digest(pending[0], token) or pending[1] < time.monotonic():
                return False
            del self._pending[(device, action)]
            return True
