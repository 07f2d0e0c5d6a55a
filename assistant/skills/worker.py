"""A skill worker's main: limits itself, imports the skill, checks it against its manifest, serves calls.

Runs inside the sandbox (`python -S -m assistant.skills.worker FD`), talking JSON over the socket FD.
The skill's capability calls go back to the assistant through proxies; the assistant checks them.
"""

from __future__ import annotations

import importlib
import os
import socket
import sys
import threading
import time
from typing import Any

from assistant.skills.codec import MAX_MEMORY, Channel, WireError, decode, encode, encode_argument

"""Conversations whose memories a worker keeps; the least recently used one is dropped first."""


def apply_limits(limits: dict[str, int]) -> None:
    """Before any of the skill's code runs; it can lower these but never raise them again."""
    import resource

    mb = 1024 * 1024
    wanted = [
        (resource.RLIMIT_AS, limits["memory_mb"] * mb),
        (resource.RLIMIT_NPROC, limits["processes"]),
        (resource.RLIMIT_NOFILE, limits["open_files"]),
        (resource.RLIMIT_FSIZE, limits["file_size_mb"] * mb),
        (resource.RLIMIT_CORE, 0),
    ]
    for which, value in wanted:
        resource.setrlimit(which, (value, value))


def exit_with_parent() -> None:
    """Unsandboxed only (bwrap's --die-with-parent covers the sandbox): exit when the assistant is gone."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class CapabilityProxy:
    """Stands in for a capability: each method call is a request to the assistant, which decides."""

    def __init__(self, channel: Channel, capability: str) -> None:
        self._channel = channel
        self._capability = capability

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._channel.send(
                {
                    "type": "cap",
                    "capability": self._capability,
                    "method": method,
                    "args": [encode_argument(a) for a in args],
                    "kwargs": {k: encode_argument(v) for k, v in kwargs.items()},
                }
            )
            answer = self._channel.receive()
            if answer is None or answer.get("type") == "raise":
                from assistant.errors import PermissionDenied

                message = (answer or {}).get("message", "no answer")
                raise PermissionDenied(message) if (answer or {}).get("kind") == "permission" else RuntimeError(message)
            return decode(answer["value"])

        return call


def encode_reply(reply: Any) -> dict[str, Any]:
    """The SDK's Reply as the wire's plain data: products by reference, a purchase as (id, quantity) lines."""
    from assistant.sdk import Reply
    from assistant.skills.codec import product_ref

    if not isinstance(reply, Reply):
        raise TypeError(f"a handler returned {type(reply).__name__}, not a Reply")

    def ref(product: Any) -> dict[str, Any] | None:
        if product is None:
            return None
        return {k: v for k, v in product_ref(product).items() if k != "__type__"}

    purchase = getattr(reply, "purchase", None)
    if purchase is not None:
        purchase = {"basket": True} if purchase.lines is None else {"lines": [list(ln) for ln in purchase.lines]}
    return {
        "speech": reply.speech,
        "display": reply.display,
        "items": None if reply.items is None else [ref(p) for p in reply.items],
        "listed": reply.listed,
        "focus": ref(reply.focus),
        "expect": reply.expect,
        "action": reply.action,
        "data": reply.data,
        "slot": reply.slot,
        "why": getattr(reply, "why", None),
        "purchase": purchase,
        "end": reply.end,
    }


def mismatch(cls: object, manifest: dict[str, Any]) -> str | None:
    """Why the class does not match its manifest (name, permissions, handlers), or None if it does.

    The worker asks this before serving a skill; the registry asks it of the built-ins."""
    from assistant.sdk import Skill

    if not (isinstance(cls, type) and issubclass(cls, Skill)):
        return f"{cls!r} is not an assistant.sdk.Skill subclass"
    checks = [
        ("name", cls.name, manifest["name"]),
        ("permissions", sorted(cls.permissions), sorted(manifest["permissions"])),
        ("intents", cls.intent_handlers(), manifest["intents"]),
        ("confirm", cls.confirm_handlers("confirm"), manifest["confirm"]),
        ("deny", cls.confirm_handlers("deny"), manifest["deny"]),
    ]
    for key, in_class, in_manifest in checks:
        if in_class != in_manifest:
            return f"its class says {key} = {in_class!r} but its skill.toml says {in_manifest!r}"
    return None


def serve(channel: Channel) -> None:
    start = channel.receive()
    if start is None or start.get("type") != "start":
        return
    apply_limits(start["limits"])
    if not start["sandboxed"]:
        exit_with_parent()
    from assistant.sdk import Context

    manifest = start["manifest"]
    module_name, _, attr = start["target"].partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
        problem = mismatch(cls, manifest)
        if problem:
            raise ValueError(problem)
        skill = cls(cls.Settings.model_validate(start["settings"]))
    except BaseException as exc:  # noqa: BLE001 - reported to the assistant by name, in one line
        channel.send({"type": "fatal", "message": f"{type(exc).__name__}: {exc}"[:2000]})
        return
    granted = frozenset(manifest["permissions"])
    from assistant.sdk import CAPABILITIES

    proxies = {name: CapabilityProxy(channel, name) for name in CAPABILITIES}
    root = start["storage"]
    channel.send({"type": "ready"})
    while True:
        try:
            message = channel.receive()
        except (EOFError, OSError, WireError):
            return
        kind = message.get("type") if message is not None else None
        if kind != "call":
            return
        call = decode(message)
        # the conversation's memory of this skill comes with each call and goes back with its
        # answer: the assistant keeps it in the conversation's record, so any process takes the next turn
        memory = call.get("memory")
        memory = memory if isinstance(memory, dict) else {}
        storage = _path(root) / call["storage"] if root and call.get("storage") else _path(root)
        ctx = Context(
            manifest["name"], granted, proxies, call["conversation"], memory, call["shop"],
            [tuple(s) for s in call["skills"]], storage=storage,
        )  # fmt: skip
        try:
            fn = getattr(skill, message["method"])
            data = call["data"]
            reply = fn(ctx, call["request"], data) if data is not None else fn(ctx, call["request"])
            channel.send({"type": "done", "reply": encode_reply(reply), "memory": _kept(memory)})
        except SystemExit as exc:
            channel.send({"type": "error", "kind": "SystemExit", "message": f"the skill called sys.exit({exc.code})"})
        except MemoryError:
            channel.send({"type": "error", "kind": "MemoryError", "message": "the skill ran out of memory"})
        except BaseException as exc:  # noqa: BLE001 - the assistant turns it into an apology
            channel.send({"type": "error", "kind": type(exc).__name__, "message": str(exc)[:2000]})


def _kept(memory: dict[str, Any]) -> Any:
    """The memory as plain data, or None when it holds something that is not, or more than MAX_MEMORY
    bytes of it (the assistant drops it, and says so in its log)."""
    import json

    try:
        kept = encode(memory, sets=True)
        return kept if len(json.dumps(kept, separators=(",", ":"))) <= MAX_MEMORY else None
    except (WireError, RecursionError, ValueError):
        return None


def _path(value: str | None) -> Any:
    from pathlib import Path

    return Path(value) if value else None


if __name__ == "__main__":
    serve(Channel(socket.socket(fileno=int(sys.argv[1]))))
