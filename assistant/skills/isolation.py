"""Runs a skill in its own process, so a hang can be killed and a crash, exit or leak stays there.

The skill's context in the worker holds proxies: each capability call crosses a pipe to the core,
which checks the permission again (the worker is not trusted) and runs it on the real store.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from assistant.errors import SkillCrashed, SkillTimedOut

log = logging.getLogger(__name__)

CAPABILITY_PERMISSION = {
    "catalog": "catalog.read",
    "cart": "cart.write",
    "orders": "orders.read",
    "checkout": "orders.place",
    "profile": "profile.read",
    "privacy": "profile.erase",
}
MEMORY_LIMIT_MB = 768


@dataclass
class _RemoteError:
    kind: str
    message: str


# -- inside the worker ------------------------------------------------------------------------
class _Proxy:
    def __init__(self, conn: Connection, capability: str) -> None:
        self._conn = conn
        self._capability = capability

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._conn.send(("cap", self._capability, method, args, kwargs))
            kind, value = self._conn.recv()
            if kind == "raise":
                from assistant.errors import PermissionDenied

                raise (PermissionDenied(value) if value.startswith("permission:") else RuntimeError(value))
            return value

        return call


def _guard(granted: frozenset[str], protected: list[str]) -> None:
    """An audit hook: no sockets without 'network', no opening the store's files at all."""

    protected_paths = [os.path.realpath(p) for p in protected]

    def hook(event: str, args: tuple) -> None:
        if (
            event in ("socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo")
            and "network" not in granted
        ):
            raise PermissionError(f"this skill has no 'network' permission ({event})")
        if event in ("open", "sqlite3.connect", "os.remove", "os.rename", "shutil.rmtree") and args:
            target = args[0]
            if isinstance(target, (str, bytes, os.PathLike)):
                path = os.path.realpath(os.fsdecode(target))
                if any(path == p or path.startswith(p + os.sep) for p in protected_paths):
                    raise PermissionError(f"skills may not open the assistant's data ({path})")

    sys.addaudithook(hook)


def _worker(conn: Connection) -> None:
    """The worker's main loop: set up from the first message, then one handler call per message."""
    _exit_with_parent()
    target, settings, granted, protected, memory_mb = conn.recv()
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    from assistant.sdk import Context, Reply, ShopInfo  # noqa: F401 - unpickling needs them

    module_name, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
        skill = cls(cls.Settings.model_validate(settings))
    except BaseException as exc:  # noqa: BLE001 - reported to the core by name
        conn.send(("fatal", f"{type(exc).__name__}: {exc}"))
        return
    _guard(frozenset(granted), protected)
    proxies = {name: _Proxy(conn, name) for name in CAPABILITY_PERMISSION}
    memory: dict[str, Any] = {}
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        _, method, request, data, conversation, shop, skills = message
        ctx = Context(cls.name, frozenset(granted), proxies, conversation, memory, shop, skills)
        try:
            fn = getattr(skill, method)
            reply = fn(ctx, request, data) if data is not None else fn(ctx, request)
            conn.send(("done", reply))
        except SystemExit as exc:
            conn.send(("error", "SystemExit", f"the skill called sys.exit({exc.code})"))
        except MemoryError:
            memory.clear()
            conn.send(("error", "MemoryError", f"the skill ran out of its {memory_mb} MB memory limit"))
        except BaseException as exc:  # noqa: BLE001
            conn.send(("error", type(exc).__name__, str(exc)))


def _exit_with_parent() -> None:
    """In the worker: exit as soon as the assistant is gone, so a hung skill is never orphaned.

    (PR_SET_PDEATHSIG would fire when the *thread* that started the worker ends, not the process.)
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


# -- in the core ------------------------------------------------------------------------------
class SkillWorker:
    """One skill's process; started on first use, restarted after it is killed."""

    def __init__(
        self,
        name: str,
        target: str,
        settings: dict,
        granted: frozenset[str],
        protected: list[Path],
        memory_mb: int = MEMORY_LIMIT_MB,
    ) -> None:
        self.name = name
        self.target = target
        self.settings = settings
        self.granted = granted
        self.protected = [str(p) for p in protected]
        self.memory_mb = memory_mb
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._starting: threading.Thread | None = None

    def start(self, timeout: float = 20.0) -> None:
        """Start the worker: a fresh interpreter (not a fork of this one) connected by a socket pair."""
        ours, theirs = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.skills.isolation", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            env=env,
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        conn = Connection(ours.detach())
        conn.send((self.target, self.settings, sorted(self.granted), self.protected, self.memory_mb))
        if not conn.poll(timeout):
            proc.kill()
            raise SkillCrashed(f"skill '{self.name}' did not start within {timeout:.0f} s")
        try:
            kind, detail = conn.recv()
        except EOFError:
            proc.wait()
            raise SkillCrashed(f"skill '{self.name}' exited while starting (exit code {proc.returncode})") from None
        if kind != "ready":
            proc.kill()
            raise SkillCrashed(f"skill '{self.name}' failed to start: {detail}")
        self._proc, self._conn = proc, conn

    def start_in_background(self) -> None:
        """Start now without waiting, so the user's first request to this skill is not slowed."""

        def run() -> None:
            try:
                self.start()
            except Exception as exc:  # noqa: BLE001 - the first call retries and reports it
                log.warning("%s", exc)

        self._starting = threading.Thread(target=run, name=f"start-{self.name}", daemon=True)
        self._starting.start()

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def call(
        self,
        method: str,
        request: Any,
        data: Any,
        conversation: Any,
        shop: Any,
        skills: Any,
        capabilities: dict[str, Any],
        timeout: float,
    ) -> Any:
        """Run one handler; capability calls are served from here. Raises SkillTimedOut/SkillCrashed."""
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        if not self.alive():
            try:
                self.start()
            except (OSError, EOFError) as exc:
                self.stop()
                raise SkillCrashed(f"skill '{self.name}' could not start: {exc}") from None
        deadline = time.monotonic() + timeout
        assert self._conn is not None
        conn = self._conn
        try:
            conn.send(("call", method, request, data, conversation, shop, skills))
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not conn.poll(remaining):
                    self.stop()
                    raise SkillTimedOut(f"skill '{self.name}' did not answer within {timeout:.1f} s; it was stopped")
                message = conn.recv()
                kind = message[0]
                if kind == "done":
                    return message[1]
                if kind == "error":
                    err = _RemoteError(message[1], message[2])
                    if err.kind in ("SystemExit", "MemoryError"):
                        self.stop()  # start afresh next time
                    raise _as_exception(err)
                if kind == "cap":
                    conn.send(self._serve(capabilities, *message[1:]))
                    continue
                self.stop()
                raise SkillCrashed(f"skill '{self.name}' sent an unexpected message")
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError) as exc:
            self.stop()
            raise SkillCrashed(f"skill '{self.name}' process died ({type(exc).__name__})") from None

    def _serve(
        self, capabilities: dict[str, Any], capability: str, method: str, args: tuple, kwargs: dict
    ) -> tuple[str, Any]:
        permission = CAPABILITY_PERMISSION.get(capability)
        if permission is None or permission not in self.granted:
            return (
                "raise",
                f"permission: skill '{self.name}' used {capability} without the '{permission}' permission",
            )
        target = capabilities[capability]
        if method.startswith("_") or not callable(getattr(target, method, None)):
            return ("raise", f"{capability} has no method {method!r}")
        try:
            return ("ret", getattr(target, method)(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - the skill hears about it, the core lives on
            return ("raise", f"{type(exc).__name__}: {exc}")


def _as_exception(err: _RemoteError) -> Exception:
    from assistant.errors import PermissionDenied

    if err.kind == "PermissionDenied":
        return PermissionDenied(err.message)
    exc = RuntimeError(f"{err.kind}: {err.message}")
    exc.remote_kind = err.kind  # type: ignore[attr-defined]
    return exc


if __name__ == "__main__":
    _worker(Connection(int(sys.argv[1])))
