"""The Wyoming server: one listening socket, a handler per client, and the hub's satellite links beside it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections import Counter
from collections.abc import Callable
from functools import partial

from assistant.app import App
from assistant.errors import AssistantError
from assistant.wyoming.address import parse_uri
from assistant.wyoming.clients import ClientDoor, WyomingClients, is_loopback
from assistant.wyoming.handler import AUDIO_IDLE_S, AssistantHandler
from assistant.wyoming.info import SERVICES
from assistant.wyoming.satellites import Hub
from assistant.wyoming.speech import Speech
from assistant.wyoming.wire import MAX_HEADER

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 256
"""Open Wyoming connections at once (Home Assistant opens one per request and closes it)."""
MAX_PER_ADDRESS = 32
"""...and from one address, so one busy or hostile client cannot take them all."""
REFUSAL_LOG_S = 10.0
"""One log line per refused address this often, not one per connection of a flood."""


def check_bind(host: str, door: ClientDoor) -> None:
    """Loopback is always served; any other address only with named clients."""
    if not is_loopback(host) and not door.any_named():
        raise AssistantError(
            f"refusing to listen on {host} with no allowed clients: name them with --allow ADDRESS or "
            "'assistant wyoming clients add NAME ADDRESS' (e.g. Home Assistant's), or listen on tcp://127.0.0.1:10700"
        )


async def start_server(
    speech: Speech,
    uri: str,
    services: tuple[str, ...] = SERVICES,
    audio_idle_s: float = AUDIO_IDLE_S,
    door: ClientDoor | None = None,
) -> tuple[asyncio.AbstractServer, str]:
    """Listen on ``uri``; returns the server and the address it is reachable at (port 0 picks one)."""
    scheme, where, port = parse_uri(uri)
    door = door or ClientDoor(WyomingClients(speech.app.db, speech.app.household))
    if scheme == "tcp":
        check_bind(where or "", door)
    handlers: set[asyncio.Task] = set()
    per_address: Counter[str] = Counter()
    refused_at: dict[str, float] = {}

    def refuse(peer: str, why: str) -> None:
        now = time.monotonic()
        if now - refused_at.get(peer, -REFUSAL_LOG_S) >= REFUSAL_LOG_S:
            refused_at[peer] = now
            log.warning("wyoming: refused a connection from %s: %s", peer, why)

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer_info = writer.get_extra_info("peername")
        peer = str(peer_info[0]) if isinstance(peer_info, tuple) else ""
        try:
            principal = await asyncio.to_thread(door.principal, peer)
        except AssistantError as exc:
            principal = None
            log.error("wyoming: cannot check the client %s: %s", peer, exc)
        if principal is None:
            refuse(peer, f"not an allowed client (allow it with: assistant wyoming clients add NAME {peer})")
        elif len(handlers) >= MAX_CONNECTIONS or per_address[peer] >= MAX_PER_ADDRESS:
            refuse(peer, f"too many open connections (at most {MAX_PER_ADDRESS} per address, {MAX_CONNECTIONS} in all)")
            principal = None
        if principal is None:
            writer.close()
            return
        handler = AssistantHandler(reader, writer, speech, principal, services, audio_idle_s)
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        per_address[peer] += 1
        try:
            await handler.run()
        except Exception:  # one client's failure is logged, never the server's end
            log.exception("wyoming: a client's connection failed")
        finally:
            handlers.discard(task)
            per_address[peer] -= 1
            if not per_address[peer]:
                del per_address[peer]

    try:
        if scheme == "tcp":
            server = await asyncio.start_server(client, where, port, limit=MAX_HEADER)
            host, bound = server.sockets[0].getsockname()[:2]
            return server, f"tcp://{host}:{bound}"
        server = await asyncio.start_unix_server(client, where, limit=MAX_HEADER)
        return server, f"unix://{where}"
    except OSError as exc:
        raise AssistantError(f"cannot listen on {uri}: {exc.strerror or exc}") from exc


async def run(
    app: App,
    uri: str,
    services: tuple[str, ...] = SERVICES,
    *,
    satellites: bool = True,
    ready: Callable[[str], None] | None = None,
    audio_idle_s: float = AUDIO_IDLE_S,
    allow: frozenset[str] = frozenset(),
) -> None:
    """Serve until SIGINT/SIGTERM: the Wyoming services, and the registered satellites when asked."""
    from assistant.openfiles import raise_open_files_limit

    raise_open_files_limit()
    door = ClientDoor(WyomingClients(app.db, app.household), allow)
    speech = await asyncio.to_thread(Speech, app)
    server, address = await start_server(speech, uri, services, audio_idle_s, door)
    hub = None
    if satellites:
        hub = Hub(speech)
        hub.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready(address)
    try:
        async with server:
            await stop.wait()
    finally:
        if hub is not None:
            await hub.stop()
        speech.close()


def serve(app: App, uri: str, services: tuple[str, ...] = SERVICES, **kwargs) -> None:
    asyncio.run(partial(run, app, uri, services, **kwargs)())
