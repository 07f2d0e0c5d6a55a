"""The assistant's side of a skill worker: starts it in its sandbox, calls it over the wire, kills it on a timeout.

Everything the worker sends is validated here (assistant/skills/wire.py); capability calls are
checked against the manifest's permissions here, because the worker is not trusted; its stdout and
stderr go to the log (bounded), never to the user's terminal.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import functools
import json
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assistant.errors import PermissionDenied, SkillCrashed, SkillError, SkillTimedOut
from assistant.sdk import CAPABILITIES, Purchase, Reply
from assistant.sdk.types import Line, Product
from assistant.skills.codec import MAX_MEMORY, Channel, WireError, decode, encode
from assistant.skills.registry import LoadedSkill, third_party_folders
from assistant.skills.sandbox import Limits, bwrap_available, sandbox_args, storage_dir, worker_command, worker_env
from assistant.skills.wire import (
    CapabilityCall,
    Done,
    Failed,
    Fatal,
    FromWorker,
    ProductRef,
    PurchaseLines,
    Ready,
    WireReply,
)

log = logging.getLogger(__name__)

_SPAWNER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="skill-spawner")
"""Every worker is started from this one long-lived thread: bwrap's --die-with-parent is the
kernel's PR_SET_PDEATHSIG, which fires when the *thread* that started bwrap ends. Started from
start_in_background's short-lived thread, a worker was killed 0.5 s after it was ready."""

OUTPUT_KEPT = 64 * 1024
"""Bytes of a worker's stdout/stderr kept for the log; the rest is dropped."""
START_TIMEOUT = 20.0


Recorder = Callable[[str, str, tuple, dict, Any], None]
"""Told of each capability call a worker makes: capability, method, args, kwargs, result or exception."""


class SkillWorker:
    """One third-party skill's sandboxed process; started on first use, restarted after it is killed."""

    def __init__(
        self,
        loaded: LoadedSkill,
        data_dir: Path,
        *,
        allow_unsandboxed: bool = False,
        limits: Limits | None = None,
        hide: Sequence[Path] | None = None,
        catalog: Any = None,
    ) -> None:
        """``allow_unsandboxed`` is config.yml's ``skills_unsandboxed``: without bubblewrap the skill
        runs with only rlimits and a clean environment, instead of being refused. ``hide`` lists other
        skills' package folders the sandbox covers up (default: every installed third-party skill's).
        ``catalog`` (anything with ``by_sku``) is where products the worker names are read again;
        by default the call's ``capabilities["catalog"]``, but pass an unlogged one so the core's own
        checks are not recorded as the skill's reads."""
        self.loaded = loaded
        self.name = loaded.name
        self.granted = frozenset(loaded.permissions)
        self.storage = storage_dir(data_dir, loaded.name)
        self.allow_unsandboxed = allow_unsandboxed
        self.limits = limits or Limits()
        self.hide = list(hide) if hide is not None else None
        self.catalog = catalog
        self.sandboxed = False
        self._proc: subprocess.Popen | None = None
        self._channel: Channel | None = None
        self._starting: threading.Thread | None = None
        self._output: collections.deque[bytes] = collections.deque()
        self._output_size = 0
        self._output_lock = threading.Lock()

    # -- life -----------------------------------------------------------------------------------
    def command(self, fd: int) -> list[str]:
        """The full command line: bwrap's arguments then the worker, or the worker alone if allowed."""
        reason = bwrap_available()
        if reason is None:
            self.sandboxed = True
            if self.hide is None:
                self.hide = third_party_folders()
            return sandbox_args(self.loaded, self.granted, self.storage, hide=self.hide) + worker_command(
                self.loaded, fd
            )
        if not self.allow_unsandboxed:
            raise SkillError(
                f"skill '{self.name}' is not started: {reason}. Third-party skills run only in the sandbox "
                "unless config.yml says skills_unsandboxed: true (see docs/skills.md)"
            )
        log.warning("skill '%s' runs WITHOUT a sandbox (skills_unsandboxed: true): %s", self.name, reason)
        self.sandboxed = False
        return worker_command(self.loaded, fd)

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the worker in its sandbox and wait until it has checked the skill against its manifest."""
        self.storage.mkdir(parents=True, exist_ok=True)
        ours, theirs = socket.socketpair()
        try:
            command = self.command(theirs.fileno())
            popen = functools.partial(
                subprocess.Popen,
                command,
                pass_fds=(theirs.fileno(),),
                env=worker_env(self.loaded, self.storage),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=self.storage,
                start_new_session=True,  # its own process group: stop() kills everything it started
            )
            proc = _SPAWNER.submit(popen).result()
        finally:
            theirs.close()
        threading.Thread(target=self._drain, args=(proc,), name=f"output-{self.name}", daemon=True).start()
        channel = Channel(ours)
        self._proc, self._channel = proc, channel
        manifest = {
            "name": self.name,
            "version": self.loaded.version,
            "permissions": sorted(self.granted),
            "intents": self.loaded.intents,
            "confirm": self.loaded.confirm_actions,
            "deny": self.loaded.deny_actions,
            "nlu": False,
        }
        try:
            channel.send(
                {
                    "type": "start",
                    "target": self.loaded.target,
                    "settings": self.loaded.settings,
                    "manifest": manifest,
                    "storage": str(self.storage),
                    "limits": asdict(self.limits),
                    "sandboxed": self.sandboxed,
                }
            )
            first = self._receive(timeout)
        except (OSError, EOFError, WireError, ValidationError) as exc:
            self.stop()
            raise SkillCrashed(f"skill '{self.name}' failed to start ({type(exc).__name__}){self._tail()}") from None
        if first is None:
            self.stop()
            raise SkillCrashed(f"skill '{self.name}' did not start within {timeout:.0f} s")
        if isinstance(first, Fatal):
            self.stop()
            raise SkillCrashed(f"skill '{self.name}' is refused: {first.message}")
        if not isinstance(first, Ready):
            self.stop()
            raise SkillCrashed(f"skill '{self.name}' sent {first.type!r} before it was ready")

    def _member_folder(self, storage: Path | None) -> str:
        """``storage`` as the worker names it: a folder inside this skill's storage, or "" for all of it."""
        if storage is None:
            return ""
        relative = Path(storage).relative_to(self.storage)  # ValueError: the core's bug, not the skill's
        if relative.is_absolute() or ".." in relative.parts:
            raise ValueError(f"{storage} is not inside {self.storage}")
        (self.storage / relative).mkdir(parents=True, exist_ok=True)
        return relative.as_posix()

    def start_in_background(self) -> None:
        """Start now without waiting, so the user's first request to this skill is not slowed."""

        def run() -> None:
            try:
                self.start()
            except SkillError as exc:  # the first call retries and reports it
                log.warning("%s", exc)

        self._starting = threading.Thread(target=run, name=f"start-{self.name}", daemon=True)
        self._starting.start()

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def stop(self) -> None:
        """Kill the worker and everything it started (its process group; in the sandbox, its PID namespace)."""
        proc, channel = self._proc, self._channel
        self._proc = self._channel = None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                log.error("skill '%s': its worker %s did not die", self.name, proc.pid)
        if channel is not None:
            channel.close()

    # -- output ---------------------------------------------------------------------------------
    def _drain(self, proc: subprocess.Popen) -> None:
        """The worker's stdout and stderr, to the log and a bounded tail; never to the user's terminal.

        Read in chunks, not lines: a skill printing gigabytes without a newline costs 64 KB here."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        logged = 0
        while chunk := os.read(fd, 65536):
            with self._output_lock:
                self._output.append(chunk)
                self._output_size += len(chunk)
                while self._output_size - len(self._output[0]) >= OUTPUT_KEPT:
                    self._output_size -= len(self._output.popleft())
            if logged < OUTPUT_KEPT:
                log.debug("skill '%s' printed: %s", self.name, chunk[:2000].decode("utf-8", "replace").rstrip())
                logged += len(chunk)
        proc.stdout.close()

    def output(self) -> str:
        """The last 64 KB or so the worker printed (for the log and for tests)."""
        with self._output_lock:
            return b"".join(self._output)[-OUTPUT_KEPT:].decode("utf-8", "replace")

    def _tail(self) -> str:
        time.sleep(0.05)  # let the drain thread read what the dying worker printed
        lines = self.output().strip().splitlines()
        return f": {lines[-1][:300]}" if lines else ""

    # -- calls ----------------------------------------------------------------------------------
    def _receive(self, timeout: float) -> Any:
        assert self._channel is not None
        message = self._channel.receive(timeout)
        return None if message is None else FromWorker.validate_python(message)

    def call(
        self,
        method: str,
        request: Any,
        data: dict | None,
        conversation: Any,
        shop: Any,
        skills: Any,
        capabilities: dict[str, Any],
        timeout: float,
        record: Recorder | None = None,
        *,
        memory: dict[str, Any] | None = None,
        storage: Path | None = None,
    ) -> Reply:
        """Run one handler in the worker; capability calls are served from here (each one given to
        ``record``, for the access log). Raises SkillTimedOut/SkillCrashed.

        ``memory`` is the conversation's memory of this skill: it goes to the worker with the call and
        is replaced by what the worker sends back with its answer (a failed call leaves it as it was),
        so it lives in the conversation's record, not in the worker. ``storage`` is the member's folder
        inside this skill's storage (default: the skill's whole folder)."""
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        if not self.alive():
            self.stop()
            self.start()
        deadline = time.monotonic() + timeout
        assert self._channel is not None
        try:
            self._channel.send(
                {
                    "type": "call",
                    "method": method,
                    "request": encode(request),
                    "data": encode(data),
                    "conversation": encode(conversation),
                    "shop": encode(shop),
                    "skills": encode([list(s) for s in skills]),
                    "memory": encode(memory or {}, sets=True),
                    "storage": self._member_folder(storage),
                }
            )
            while True:
                message = self._receive(max(0.0, deadline - time.monotonic()))
                if message is None:
                    self.stop()
                    raise SkillTimedOut(f"skill '{self.name}' did not answer within {timeout:.1f} s; it was stopped")
                if isinstance(message, CapabilityCall):
                    self._channel.send(self._serve(capabilities, message, record))
                    continue
                if isinstance(message, Done):
                    reply = self._reply(message.reply, capabilities)
                    if memory is not None:
                        self._keep(memory, message.memory)
                    return reply
                if isinstance(message, Failed):
                    if message.kind in ("SystemExit", "MemoryError"):
                        self.stop()  # start afresh next time
                    if message.kind == "PermissionDenied":
                        raise PermissionDenied(message.message)
                    raise SkillCrashed(f"skill '{self.name}' failed: {message.kind}: {message.message}")
                self.stop()
                raise SkillCrashed(f"skill '{self.name}' sent {message.type!r} during a call")
        except ValidationError as exc:
            self.stop()
            raise SkillCrashed(f"skill '{self.name}' sent an invalid message: {_first(exc)}") from None
        except WireError as exc:
            self.stop()
            raise SkillCrashed(f"skill '{self.name}' broke the protocol: {exc}") from None
        except (EOFError, OSError) as exc:
            self.stop()
            raise SkillCrashed(f"skill '{self.name}' process died ({type(exc).__name__}){self._tail()}") from None

    def _serve(self, capabilities: dict[str, Any], call: CapabilityCall, record: Recorder | None) -> dict[str, Any]:
        """A capability call from the worker: the permission is checked here, arguments re-read from the store."""
        permission = CAPABILITIES.get(call.capability)
        if permission is None or permission not in self.granted:
            message = f"skill '{self.name}' used {call.capability} without the '{permission}' permission"
            if record is not None:  # the user may ask what a skill tried, not only what it did
                record(call.capability, call.method, (), {}, PermissionDenied(message))
            return {"type": "raise", "kind": "permission", "message": message}
        target = capabilities.get(call.capability)
        if target is None:  # granted, but a household device speaks for no one person (as ``Context._cap`` says)
            message = f"skill '{self.name}' used {call.capability}, which needs to know who is speaking"
            return {"type": "raise", "kind": "error", "message": message}
        if not callable(getattr(target, call.method, None)):
            return {"type": "raise", "kind": "error", "message": f"{call.capability} has no method {call.method!r}"}
        try:
            catalog = self.catalog or capabilities.get("catalog")
            args = [_argument(a, catalog) for a in call.args]
            kwargs = {k: _argument(v, catalog) for k, v in call.kwargs.items()}
            try:
                value = getattr(target, call.method)(*args, **kwargs)
            except Exception as exc:
                if record is not None:
                    record(call.capability, call.method, tuple(args), kwargs, exc)
                raise
            if record is not None:
                record(call.capability, call.method, tuple(args), kwargs, value)
            return {"type": "return", "value": encode(value)}
        except (TypeError, ValueError, LookupError, WireError) as exc:  # the skill's bad call, not the store's
            return {"type": "raise", "kind": "error", "message": f"{type(exc).__name__}: {exc}"[:500]}

    def _keep(self, memory: dict[str, Any], sent: dict[str, Any] | None) -> None:
        """The memory the worker sent back, in place of the one it was given; dropped (and logged)
        when it is not plain data of the SDK's types or is larger than MAX_MEMORY."""
        kept: Any = None
        if sent is not None:
            try:
                if len(json.dumps(sent, separators=(",", ":"))) <= MAX_MEMORY:
                    kept = decode(sent)
            except (WireError, RecursionError, TypeError, ValueError):
                kept = None
        memory.clear()
        if isinstance(kept, dict):
            memory.update(kept)
        else:
            log.error(
                "skill '%s' keeps something in its memory that is not plain data or is over %d KB; it is dropped",
                self.name,
                MAX_MEMORY // 1024,
            )

    def _reply(self, wire: WireReply, capabilities: dict[str, Any]) -> Reply:
        catalog = self.catalog or capabilities.get("catalog")
        purchase = None
        if wire.purchase is not None:
            lines = wire.purchase.lines if isinstance(wire.purchase, PurchaseLines) else None
            purchase = Purchase(None if lines is None else tuple((int(p), int(q)) for p, q in lines))
        try:
            items = None if wire.items is None else tuple(_product(ref, catalog) for ref in wire.items)
            focus = None if wire.focus is None else _product(wire.focus, catalog)
        except LookupError as exc:
            self.stop()  # whatever else it sent after this reply is not to be read as the next one
            raise SkillCrashed(f"skill '{self.name}' sent an invalid reply: {exc}") from None
        return Reply(
            wire.speech,
            wire.display,
            items,
            wire.listed,
            focus,
            wire.expect,
            wire.action,
            dict(wire.data),
            wire.slot,
            purchase,
            wire.end,
            wire.why,
        )


def _product(ref: ProductRef, catalog: Any) -> Product:
    """The store's own product for a reference from a worker: its price is the store's, not the skill's."""
    product = catalog.by_sku(ref.sku) if catalog is not None else None
    if product is None or product.id != ref.id:
        raise LookupError(f"no product {ref.id} with sku {ref.sku!r}")
    return product


def _argument(value: Any, catalog: Any) -> Any:
    """A capability argument from a worker: plain data, with product references resolved from the store."""
    if isinstance(value, list):
        return [_argument(v, catalog) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("__type__")
    if kind is None:
        return {k: _argument(v, catalog) for k, v in value.items()}
    if kind == "Product" and set(value) == {"__type__", "id", "sku"}:
        return _product(ProductRef(id=value["id"], sku=value["sku"]), catalog)
    if kind == "Line" and set(value) == {"__type__", "product", "quantity"} and isinstance(value["quantity"], int):
        return Line(_argument(value["product"], catalog), value["quantity"])
    raise WireError(f"a capability argument of type {kind!r} is not allowed")


def _first(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
