"""What every route is given: the hub's shared objects and the calling device (FastAPI dependencies)."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, WebSocketException, status
from starlette.requests import HTTPConnection

from assistant.app import Account, App, Conversation
from assistant.errors import EngineNotAvailable
from assistant.hub.confirmations import Confirmations
from assistant.hub.limits import Limits, RateLimiter
from assistant.hub.pairing import Device, Pairing
from assistant.hub.sessions import DeviceConversations
from assistant.stt import Recognizer
from assistant.stt.closed import FirstPassRecognizer
from assistant.stt.pool import RecognizerPool
from assistant.tts import Synthesizer, create_synthesizer
from assistant.voice import Voice, shop_recognizer

log = logging.getLogger(__name__)
T = TypeVar("T")
TURN_THREADS = 4
"""Turns run on this many threads, in arrival order. Turns are mostly CPU under one GIL, and each
writes to SQLite: with Starlette's 40 threads, 50 clients' turns fought for the write lock and
SQLite's busy back-off made p95 4.6 s (bench/hub.py); a short queue before a few threads does not."""
TOUCH_EVERY_S = 60.0
"""A device's "last used" is written at most once a minute, not on every request."""
WS_PROTOCOL = "bearer"
"""Browsers cannot set headers on a WebSocket: the page sends ["bearer", token] as its subprotocols."""


@dataclass
class Hub:
    """The objects one hub shares between all requests."""

    app: App
    pairing: Pairing
    limits: Limits = field(default_factory=Limits)
    conversations: DeviceConversations = field(init=False)
    confirmations: Confirmations = field(default_factory=Confirmations)
    rate: RateLimiter = field(init=False)
    _touched: dict[str, float] = field(default_factory=dict)
    _speech: tuple[Recognizer, Synthesizer] | None = None
    _speech_built: threading.Lock = field(default_factory=threading.Lock)
    recognizers: RecognizerPool | None = None
    """Lent to one utterance at a time (a recognizer keeps state from accept() to final()): the same
    pool as Wyoming's (`assistant.stt.pool`)."""
    partials: Recognizer | None = None
    """A fast recognizer for what is heard so far while the user speaks, when the main one is slow."""
    partial_lock: threading.Lock = field(default_factory=threading.Lock)

    turns: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        self.conversations = DeviceConversations(self.app)
        self.rate = RateLimiter(self.limits.rate_per_s, self.limits.burst)
        self.turns = ThreadPoolExecutor(TURN_THREADS, thread_name_prefix="turn")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on a turn thread: for anything that reads or writes the store."""
        return await asyncio.get_running_loop().run_in_executor(self.turns, functools.partial(fn, *args))

    def load_speech(self) -> tuple[Recognizer, Synthesizer]:
        """The recognizer and synthesizer all conversations share, loaded once (whisper takes ~3 s)."""
        with self._speech_built:
            if self._speech is None:
                settings = self.app.config.voice
                self.recognizers = RecognizerPool(lambda: shop_recognizer(self.app))
                recognizer = self.recognizers.primary
                self.partials = recognizer
                if isinstance(recognizer, FirstPassRecognizer):
                    # the closed pass's own engine shows the words as they come, with a lock of its own
                    self.partials = recognizer.closed.twin()
                elif recognizer.name == "whisper":
                    # whisper costs a whole transcription per partial (~0.35 s, 1-1.7 s on a busy
                    # machine), and the final waited for the partial in flight: pocketsphinx (RTF 0.06)
                    # shows the words as they come and whisper alone decides what was said
                    fast = settings.stt.model_copy(update={"engine": "pocketsphinx"})
                    try:
                        self.partials = shop_recognizer(self.app, fast)
                    except EngineNotAvailable as exc:
                        log.info("partials come from %s: %s", recognizer.name, exc)
                self._speech = (recognizer, create_synthesizer(settings.tts))
            return self._speech

    def voice(self, conversation: Conversation) -> Voice:
        """Ears and a mouth for a conversation."""
        return Voice(self.app, conversation, *self.load_speech())

    def seen(self, device: str) -> None:
        now = time.monotonic()
        if now - self._touched.get(device, 0.0) > TOUCH_EVERY_S:
            self._touched[device] = now
            self.turns.submit(self.pairing.touch, device)  # a write: never on the event loop


async def get_hub(conn: HTTPConnection) -> Hub:
    return conn.app.state.hub


HubDep = Annotated[Hub, Depends(get_hub)]


def _token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if conn.scope["type"] == "websocket":
        offered = [p.strip() for p in conn.headers.get("sec-websocket-protocol", "").split(",")]
        if len(offered) == 2 and offered[0] == WS_PROTOCOL and offered[1]:
            return offered[1]
    return None


async def current_device(conn: HTTPConnection, hub: HubDep) -> Device:
    """The paired device making this request; 401 (or a closed WebSocket) otherwise, 429 when too fast.

    Async on purpose: two indexed reads (WAL readers never wait for writers) cost less than the hop
    to a worker thread that a plain `def` dependency takes; that hop made HTTP turns' p95 6x the
    WebSocket's at 50 clients (bench/hub.py)."""
    websocket = conn.scope["type"] == "websocket"
    token = _token(conn)
    device = hub.pairing.authenticate(token) if token else None
    if device is None:
        reason = (
            "a paired device's token is needed (Authorization: Bearer ...)" if not token else "unknown or revoked token"
        )
        if websocket:
            raise WebSocketException(status.WS_1008_POLICY_VIOLATION, reason)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"})
    wait = hub.rate.wait_for(device.name)
    if wait:
        if websocket:
            raise WebSocketException(status.WS_1013_TRY_AGAIN_LATER, "too many requests")
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many requests from this device",
            headers={"Retry-After": f"{wait:.0f}"},
        )
    hub.seen(device.name)
    return device


DeviceDep = Annotated[Device, Depends(current_device)]


async def device_account(device: DeviceDep, hub: HubDep) -> Account:
    """The account of the device's owner; a household device has none of its own."""
    if device.user is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"'{device.name}' is a household device: pair it with --user NAME to see one person's account",
        )
    return hub.app.account(device.user)


AccountDep = Annotated[Account, Depends(device_account)]
