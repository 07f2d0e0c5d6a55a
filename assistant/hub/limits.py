"""What one client may send: body and frame sizes, request rates per device, idle timeouts."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    body_bytes: int = 16 * 1024
    """A JSON body: a turn is a sentence (500 characters), so 16 KB is generous."""
    frame_bytes: int = 64 * 1024
    """One WebSocket message: 2 s of 16 kHz s16le audio; browsers send 20-100 ms at a time."""
    rate_per_s: float = 20.0
    """Requests (HTTP requests and WebSocket text messages) a device may make per second, sustained..."""
    burst: int = 40
    """...and at once."""
    ws_idle_s: float = 120.0
    """A WebSocket with nothing from the client for this long is closed."""
    conversation_idle_s: float = 900.0
    """A conversation not used for this long ends; a purchase question pending in it expires."""
    keep_alive_s: int = 5
    request_s: float = 10.0
    """A request (headers and body) must arrive within this; a half-sent one is answered 408 and closed."""
    connections: int = 800
    """Open HTTP connections at once, in all (the open-files limit is raised to the hard one at start)..."""
    connections_per_address: int = 64
    """...and from one address, so one client cannot hold them all."""


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    """A token bucket per device."""

    rate: float
    burst: int
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, device: str) -> float:
        """0 when the device may go ahead now (and a token is spent), else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.setdefault(device, _Bucket(float(self.burst), now))
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate
