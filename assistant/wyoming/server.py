"""The Wyoming server: one listening socket, a handler per client, and the hub's satellite links beside it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from functools import partial
from urllib.parse import urlparse

from assistant.app import App
from assistant.errors import AssistantError
from assistant.wyoming.handler import AUDIO_IDLE_S, AssistantHandler
from assistant.wyoming.info import SERVICES
from assistant.wyoming.speech import Speech
from assistant.wyoming.wire import MAX_HEADER

log = logging.getLogger(__name__)


def parse_uri(uri: str) -> tuple[str, str | None, int | None]:
    """tcp://HOST:PORT or unix:///path -> (scheme, host or path, port)."""
    parsed = urlparse(uri)
    if parsed.scheme == "tcp":
        try:
            port = parsed.port
        except ValueError:
            port = None
        if not parsed.hostname or port is None:
            raise AssistantError(f"{uri}: a Wyoming address is tcp://HOST:PORT, e.g. tcp://0.0.0.0:10700")
        return "tcp", parsed.hostname, port
    if parsed.scheme == "unix" and parsed.path:
        return "unix", parsed.path, None
    raise AssistantError(f"{uri}: a Wyoming address is tcp://HOST:PORT or unix:///path/to/socket")


async def start_server(
    speech: Speech, uri: str, services: tuple[str, ...] = SERVICES, audio_idle_s: float = AUDIO_IDLE_S
) -> tuple[asyncio.AbstractServer, str]:
    """Listen on ``uri``; returns the server and the address it is reachable at (port 0 picks one)."""
    scheme, where, port = parse_uri(uri)
    handlers: set[asyncio.Task] = set()

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = AssistantHandler(reader, writer, speech, services, audio_idle_s)
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            await handler.run()
        except Exception:  # one client's failure is logged, never the server's end
            log.exception("wyoming: a client's connection failed")
        finally:
            handlers.discard(task)

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
) -> None:
    """Serve until SIGINT/SIGTERM: the Wyoming services, and the registered satellites when asked."""
    speech = await asyncio.to_thread(Speech, app)
    server, address = await start_server(speech, uri, services, audio_idle_s)
    hub = None
    if satellites:
        from assistant.wyoming.satellites import Hub

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
