"""Framing and plain-data values for the skill wire: one JSON object per line, dataclasses by type name.

The worker imports only this (not the pydantic models of assistant/skills/wire.py), so a worker
starts without building models it never uses.
"""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from typing import Any

from assistant.nlu.parse import Entity
from assistant.sdk import Conversation, Request, ShopInfo
from assistant.sdk.types import Line, ListItem, Order, PriceNews, Product, Suggestion, Watch

MAX_MESSAGE = 1024 * 1024
"""Bytes in one message; a longer line from a worker is a broken worker."""

MAX_MEMORY = 64 * 1024
"""Bytes of JSON a third-party skill's memory of one conversation may hold (it travels with each call
and is kept in the conversation's record)."""

JsonValue = Any
"""A value json.dumps accepts (pydantic's JsonValue where the host checks it)."""


class WireError(Exception):
    """A message that is not valid JSON, too long, or not what the protocol allows."""


# -- values: tagged plain data for dataclasses, decoded into the SDK's types in the worker ---------
WIRE_TYPES: dict[str, type] = {
    t.__name__: t
    for t in (Product, Line, ListItem, Watch, PriceNews, Order, Suggestion, Entity, Request, Conversation, ShopInfo)
}


def encode(value: Any, *, sets: bool = False) -> JsonValue:
    """A capability's return value (or the conversation) as plain data; dataclasses keep their type name.
    ``sets``: a set stays a set when decoded (kept state); on the wire it becomes a list."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if is_dataclass(value) and not isinstance(value, type):
        out: dict[str, JsonValue] = {"__type__": type(value).__name__}
        out.update({f.name: encode(getattr(value, f.name), sets=sets) for f in fields(value)})
        return out
    if isinstance(value, datetime):
        return {"__type__": "datetime", "iso": value.isoformat()}
    if isinstance(value, date):
        return {"__type__": "date", "iso": value.isoformat()}
    if isinstance(value, tuple):
        return {"__type__": "tuple", "items": [encode(v, sets=sets) for v in value]}
    if sets and isinstance(value, (set, frozenset)):
        return {"__type__": "set", "items": [encode(v, sets=sets) for v in value]}
    if isinstance(value, (list, set, frozenset)):
        return [encode(v, sets=sets) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and k != "__type__" for k in value):
            return {k: encode(v, sets=sets) for k, v in value.items()}
        return {"__type__": "dict", "items": [[encode(k, sets=sets), encode(v, sets=sets)] for k, v in value.items()]}
    raise WireError(f"cannot send a {type(value).__name__} over the wire")


def decode(value: Any, types: Mapping[str, type] = WIRE_TYPES) -> Any:
    """The inverse of ``encode``, in the worker (``types``: the dataclasses it may build, by name)."""
    if isinstance(value, list):
        return [decode(v, types) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("__type__")
    if kind is None:
        return {k: decode(v, types) for k, v in value.items()}
    if kind == "datetime":
        return datetime.fromisoformat(value["iso"])
    if kind == "date":
        return date.fromisoformat(value["iso"])
    if kind == "tuple":
        return tuple(decode(v, types) for v in value["items"])
    if kind == "set":
        return {_hashable(decode(v, types)) for v in value["items"]}
    if kind == "dict":
        return {_hashable(decode(k, types)): decode(v, types) for k, v in value["items"]}
    cls = types.get(kind)
    if cls is None:
        raise WireError(f"unknown type {kind!r} on the wire")
    return cls(**{k: decode(v, types) for k, v in value.items() if k != "__type__"})


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def product_ref(product: Product) -> dict[str, JsonValue]:
    """How the worker names a product to the host: by id and sku, never by its price."""
    return {"__type__": "Product", "id": product.id, "sku": product.sku}


def encode_argument(value: Any) -> JsonValue:
    """A capability call's argument, in the worker: products as references, sets as lists."""
    if isinstance(value, Product):
        return product_ref(value)
    if isinstance(value, Line):
        return {"__type__": "Line", "product": product_ref(value.product), "quantity": value.quantity}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode_argument(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode_argument(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise WireError(f"a capability cannot take a {type(value).__name__}")


# -- framing ----------------------------------------------------------------------------------
def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class Channel:
    """One end of the socket pair: a JSON object per line, each at most MAX_MESSAGE bytes."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = bytearray()

    def send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message, separators=(",", ":"), allow_nan=False).encode("utf-8")
        self.sock.sendall(data + b"\n")

    def receive(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next message; None when ``timeout`` passes first. Raises EOFError when the peer is gone."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return self._parse(line)
            if len(self._buffer) > MAX_MESSAGE:
                raise WireError(f"a message longer than {MAX_MESSAGE} bytes")
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([self.sock], [], [], remaining)[0]:
                    return None
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the other end closed the connection")
            self._buffer += chunk

    @staticmethod
    def _parse(line: bytes) -> dict[str, Any]:
        try:
            message = json.loads(line.decode("utf-8"), parse_constant=_no_constants)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise WireError(f"not JSON ({type(exc).__name__})") from None
        if not isinstance(message, dict):
            raise WireError("a message must be a JSON object")
        return message

    def close(self) -> None:
        self.sock.close()
