"""Wyoming events off the wire with limits: a bad or oversized event is one clear error, not a hang or a crash."""

from __future__ import annotations

import asyncio
import json

from wyoming.event import Event

from assistant.errors import AssistantError

MAX_HEADER = 64 * 1024
"""One JSON header line; real ones are a few hundred bytes (an `info` with many voices a few KB)."""
MAX_DATA = 1024 * 1024
MAX_PAYLOAD = 4 * 1024 * 1024
"""An audio chunk is usually 2 KB (1024 samples); 4 MB is two minutes of 16 kHz audio in one chunk."""


class WireError(AssistantError):
    """A Wyoming peer sent something that is not a well-formed event, or one too large to accept."""


async def read_event(reader: asyncio.StreamReader) -> Event | None:
    """The next event, None at a clean end of stream; WireError for garbage or an oversized event."""
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise WireError("the connection closed in the middle of an event header") from None
    except asyncio.LimitOverrunError:
        raise WireError(f"an event header longer than {MAX_HEADER // 1024} KB: not a Wyoming event") from None
    try:
        header = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WireError("an event header that is not JSON: not a Wyoming client?") from None
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise WireError("an event header without a 'type'")
    data = header.get("data") or {}
    if not isinstance(data, dict):
        raise WireError(f"event '{header['type']}': 'data' must be an object")
    data_length = _length(header, "data_length", MAX_DATA)
    payload_length = _length(header, "payload_length", MAX_PAYLOAD)
    try:
        if data_length:
            extra = json.loads(await reader.readexactly(data_length))
            if not isinstance(extra, dict):
                raise WireError(f"event '{header['type']}': its data is not a JSON object")
            data.update(extra)
        payload = await reader.readexactly(payload_length) if payload_length else None
    except asyncio.IncompleteReadError:
        raise WireError(f"the connection closed in the middle of event '{header['type']}'") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WireError(f"event '{header['type']}': its data is not JSON") from None
    return Event(type=header["type"], data=data, payload=payload)


def _length(header: dict, key: str, limit: int) -> int:
    value = header.get(key) or 0
    if not isinstance(value, int) or value < 0:
        raise WireError(f"event '{header['type']}': {key} must be a whole number of bytes")
    if value > limit:
        raise WireError(f"event '{header['type']}': {key} {value} is over the limit of {limit} bytes")
    return value
