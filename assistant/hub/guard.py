"""The hub's HTTP connections, guarded before any request reaches the app: a deadline for each request
to arrive, and caps on connections in all and from one address.

An ASGI middleware only sees a request once its headers are complete, so half-sent requests (which
held 1,000 connections open until the 1,024 open files ran out) are dealt with here, in uvicorn's
h11 protocol: each connection counts against its address from its first byte, and a request not
fully received within the deadline is answered 408 and closed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from assistant.hub.limits import Limits

log = logging.getLogger(__name__)


def _refusal(status: int, reason: str, error: str) -> bytes:
    body = json.dumps({"error": error}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


def guarded_protocol(limits: Limits) -> type[H11Protocol]:
    """uvicorn's h11 protocol with ``limits``' request deadline and connection caps (one class per hub)."""
    open_from: Counter[str] = Counter()

    class GuardedH11Protocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._address: str | None = None
            self._deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            address = self.client[0] if self.client else "?"
            if sum(open_from.values()) >= limits.connections or open_from[address] >= limits.connections_per_address:
                log.warning("refused a connection from %s: too many open connections", address)
                transport.write(_refusal(503, "Service Unavailable", "too many open connections; try again soon"))
                transport.close()
                return
            self._address = address
            open_from[address] += 1
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._release()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            # the deadline runs while a request is arriving; a finished one (or one upgraded to a
            # WebSocket) is the app's to answer, and an idle keep-alive connection is uvicorn's
            if self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
                self._arm()
            else:
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._disarm()  # uvicorn's keep-alive timer takes over until the next request's first byte

        def handle_websocket_upgrade(self, event: h11.Request) -> None:
            self._release()  # from here the socket is the WebSocket's: a device token, rates and idle limits
            super().handle_websocket_upgrade(event)

        def _arm(self) -> None:
            if self._deadline is None and self._address is not None:
                self._deadline = self.loop.call_later(limits.request_s, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _release(self) -> None:
            self._disarm()
            if self._address is not None:
                open_from[self._address] -= 1
                if open_from[self._address] <= 0:
                    del open_from[self._address]
                self._address = None

        def _too_slow(self) -> None:
            self._deadline = None
            if self.conn.their_state in (h11.IDLE, h11.SEND_BODY) and not self.transport.is_closing():
                error = f"the request did not arrive within {limits.request_s:g} s"
                self.transport.write(_refusal(408, "Request Timeout", error))
                self.transport.close()

    return GuardedH11Protocol
