"""The hub's ASGI application (routes, limits, JSON errors) and `assistant serve`'s server."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.app import App
from assistant.errors import AssistantError, StoreBusy, StoreError
from assistant.hub import account, conversations, me, skills
from assistant.hub.caldav import caldav_app
from assistant.hub.deps import Hub, current_device
from assistant.hub.limits import Limits
from assistant.hub.models import ErrorOut
from assistant.hub.pairing import Pairing
from assistant.hub.push import push_forever

log = logging.getLogger(__name__)

WEB = Path(__file__).resolve().parent.parent / "web"
REAP_EVERY_S = 30.0
REVOKED_EVERY_S = 0.5
"""How often the store is asked which pairings stand: a revoke, from any process, closes the
device's sockets and ends its conversations within this (plus a turn in flight)."""
ERRORS = {
    401: "no token, or an unknown or revoked one",
    413: "the body is over the size limit",
    422: "a malformed body or parameter",
    429: "too many requests from this device",
}
GRACE_S = 30
"""On SIGTERM/Ctrl-C the hub stops taking requests and lets turns in flight finish, for up to this long."""


class HubRefused(AssistantError):
    """The hub will not start as asked (an unsafe address, missing TLS files)."""


PAGE_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]  # fmt: skip
"""On every response: the page runs only its own files, cannot be framed (a page on another port
framed it nearly invisibly, and three clicks on decoy buttons erased a member's data), and nothing
is sniffed into a script or leaks the URL (with its #pair= code) as a referrer."""


class SecurityHeaders:
    """Adds ``PAGE_HEADERS`` to every HTTP response, the page's files and the API's errors alike."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                named = {name for name, _ in PAGE_HEADERS}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in named]
                message = {**message, "headers": kept + PAGE_HEADERS}
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """413 for a request body over the limit, whether it says its length or streams it (chunked).

    Bodies are small JSON, so the whole body is read (up to the limit) before the route sees it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _too_large(scope, receive, send, self.limit)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await _too_large(scope, receive, send, self.limit)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = JSONResponse({"error": f"request body over {limit} bytes"}, status.HTTP_413_CONTENT_TOO_LARGE)
    await response(scope, receive, send)


def _errors(api: FastAPI) -> None:
    """Every failure is a JSON {"error": ...} with a 4xx (or a bare 500), never a traceback."""

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, exc.status_code, headers=getattr(exc, "headers", None))

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in exc.errors()[:5]
        ]
        return JSONResponse({"error": "invalid request: " + "; ".join(problems)}, status.HTTP_422_UNPROCESSABLE_CONTENT)

    @api.exception_handler(StoreError)
    async def store_failed(request: Request, exc: StoreError) -> JSONResponse:
        # the store's trouble (busy, the server restarting) is the hub's, not the request's: try again;
        # the client hears the spoken sentence, the log names the database
        log.warning("request %s %s: %s", request.method, request.url.path, exc)
        retry = {"Retry-After": "1"} if isinstance(exc, StoreBusy) else None
        return JSONResponse({"error": exc.spoken}, status.HTTP_503_SERVICE_UNAVAILABLE, headers=retry)

    @api.exception_handler(AssistantError)
    async def refused(request: Request, exc: AssistantError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status.HTTP_400_BAD_REQUEST)

    @api.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request %s %s failed", request.method, request.url.path)
        return JSONResponse({"error": "internal error; the hub's log has the details"}, 500)


def create_hub(
    app: App, pairing: Pairing | None = None, limits: Limits | None = None, *, preload_speech: bool = False
) -> FastAPI:
    """The ASGI app for one App; the App stays the caller's to close. ``preload_speech`` loads the
    recognizer and synthesizer at start, so the first spoken turn does not wait for them."""
    hub = Hub(app, pairing or Pairing(app.db, app.household), limits or Limits())

    @contextlib.asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        async def reap() -> None:
            while True:
                await asyncio.sleep(REAP_EVERY_S)
                try:  # the store busy or away: the next tick tries again (the reaper must not stop)
                    ended = await hub.run(hub.conversations.reap, hub.limits.conversation_idle_s)
                    if ended:
                        log.info("ended %d idle conversations", ended)
                    # "delete my data" another replica heard: this disk's skill folders of that member go too
                    await hub.run(hub.app.folders.catch_up)
                except AssistantError as exc:
                    log.warning("could not end idle conversations or apply other replicas' erasures: %s", exc)

        async def watch_revocations() -> None:
            while True:
                await asyncio.sleep(REVOKED_EVERY_S)
                try:
                    revoked = await hub.run(hub.conversations.revoked, await hub.run(hub.pairing.live))
                except AssistantError as exc:  # the store is busy: the next look comes soon
                    log.warning("could not check for revoked devices: %s", exc)
                    continue
                for held in revoked:
                    log.info("'%s' was revoked: its conversation ended", held.principal.label)
                    for close in list(held.sockets.values()):
                        await close()

        reaper = asyncio.create_task(reap())
        watcher = asyncio.create_task(watch_revocations())
        pusher = asyncio.create_task(push_forever(hub))
        if preload_speech:
            loading = asyncio.create_task(asyncio.to_thread(hub.load_speech))
            loading.add_done_callback(
                lambda t: (
                    t.cancelled()
                    or not t.exception()
                    or log.warning("speech is not available (typed turns still work): %s", t.exception())
                )
            )
        try:
            yield
        finally:
            reaper.cancel()
            watcher.cancel()
            pusher.cancel()
            await asyncio.to_thread(hub.turns.shutdown, wait=True)  # turns in flight finish
            await asyncio.to_thread(hub.conversations.end_all)  # store writes: off the event loop too

    api = FastAPI(
        title="Shopping assistant hub",
        version="1",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        description="Every route but /healthz, /v1/pair and the page's files needs a paired device's token.",
    )
    api.state.hub = hub
    errors = {code: {"model": ErrorOut, "description": text} for code, text in ERRORS.items()}
    for module in (conversations, account, skills, me):
        api.include_router(module.router, responses=errors)
    _errors(api)

    @api.get("/openapi.json", include_in_schema=False, dependencies=[Depends(current_device)])
    async def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = get_openapi(
                title=api.title, version=api.version, description=api.description, routes=api.routes
            )
        return api.openapi_schema

    @api.api_route("/.well-known/caldav", methods=["GET", "PROPFIND"], include_in_schema=False)
    async def caldav_here() -> RedirectResponse:
        return RedirectResponse("/dav/", status.HTTP_301_MOVED_PERMANENTLY)

    api.mount("/dav", caldav_app(app, hub.pairing), name="caldav")
    api.mount("/", StaticFiles(directory=WEB, html=True), name="page")
    api.add_middleware(BodyLimit, limit=hub.limits.body_bytes)
    api.add_middleware(SecurityHeaders)
    return api


# -- `assistant serve` ----------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, certfile: str | None, keyfile: str | None, paired: int) -> None:
    """Loopback is always allowed; any other address needs TLS and at least one paired device."""
    if bool(certfile) != bool(keyfile):
        raise HubRefused("TLS needs both --certfile and --keyfile")
    for path in filter(None, (certfile, keyfile)):
        if not Path(path).is_file():
            raise HubRefused(f"{path}: no such TLS file")
    if is_loopback(host):
        return
    if not certfile:
        raise HubRefused(
            f"refusing to listen on {host} without TLS: give --certfile and --keyfile, or use --host 127.0.0.1"
        )
    if not paired:
        raise HubRefused(f"refusing to listen on {host} with no paired device: run 'assistant devices pair NAME' first")


def serve(
    app: App,
    host: str,
    port: int,
    *,
    certfile: str | None = None,
    keyfile: str | None = None,
    browser_user: str | None = None,
    limits: Limits | None = None,
    forwarded_allow_ips: str | None = None,
    announce: Any = print,
) -> None:
    """Run the hub until SIGINT/SIGTERM; turns in flight finish first. ``X-Forwarded-For`` is believed
    only from ``forwarded_allow_ips`` (a reverse proxy's addresses): otherwise any local client could
    set its own address, and with it its rate-limit key."""
    import uvicorn

    from assistant.hub.guard import guarded_protocol
    from assistant.openfiles import raise_open_files_limit

    limits = limits or Limits()
    raise_open_files_limit()
    pairing = Pairing(app.db, app.household)
    check_bind(host, certfile, keyfile, len(pairing.devices()))
    api = create_hub(app, pairing, limits, preload_speech=True)
    scheme = "https" if certfile else "http"
    shown = f"[{host}]" if ":" in host else host
    if is_loopback(host):
        code = pairing.pairing_code("this-browser", browser_user or app.config.user)
        announce(f"Open {scheme}://{shown}:{port}/#pair={code} in this computer's browser (the link works once).")
    else:
        announce(f"Listening on {scheme}://{shown}:{port}/ (pair devices with 'assistant devices pair NAME').")
    # uvicorn stops gracefully on SIGTERM, then raises the signal again with the handler it found:
    # with a quiet one here, the caller's clean-up (closing the App) runs and the exit status is 0
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        uvicorn.run(
            api,
            host=host,
            port=port,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
            ws_max_size=limits.frame_bytes,
            http=guarded_protocol(limits),
            proxy_headers=bool(forwarded_allow_ips),
            forwarded_allow_ips=forwarded_allow_ips or "",
            timeout_keep_alive=limits.keep_alive_s,
            timeout_graceful_shutdown=GRACE_S,
            log_level="warning",
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
