"""Conversation state: the one place that remembers what was said, asked and shown."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from assistant.nlu.parse import Entity
from assistant.sdk import Conversation, Request
from assistant.store import Quote


@dataclass
class PendingConfirm:
    """A yes/no question the assistant asked in its last turn."""

    skill: str
    action: str
    data: dict[str, Any]
    quote: Quote | None = None
    lines: tuple[tuple[int, int], ...] | None = None
    """For a purchase: the lines the skill proposed (None: the basket), to price again if it changed."""
    question: str = ""
    """The question as asked, to ask it again in full."""
    request: Request | None = None
    """For a 'did you mean ...?' check: the request to carry out on yes."""


@dataclass
class PendingSlot:
    skill: str
    intent: str
    slot: str
    entities: tuple[Entity, ...]
    data: dict[str, Any]


@dataclass
class Session:
    conversation: Conversation = field(default_factory=Conversation)
    memory: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each built-in skill's own memory, by skill name."""
    memory_key: str = field(default_factory=lambda: secrets.token_hex(16))
    """Names this conversation's memories in third-party skills' workers (which hold them): a new
    session ("delete my data") is a new key, so nothing of the old memories is reachable."""
    confirm: PendingConfirm | None = None
    slot: PendingSlot | None = None
    last_reply: str = ""
    last_order_id: int | None = None
    refused: bool = False
    """The last turn's purchase was refused (over the cap, say): a yes now answers that, not an old order."""
    why: str | None = None
    """The last reply's reason for what it chose, for "why that one?" (``Reply.why``)."""
    calling: tuple[str, Request] = ("", Request("", ""))
    """The intent and request of the skill call under way (for a slot it asks for)."""

    def clear_pending(self) -> None:
        self.confirm = None
        self.slot = None
