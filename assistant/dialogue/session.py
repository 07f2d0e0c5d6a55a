"""Conversation state: the one place that remembers what was said, asked and shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.nlu.parse import Entity
from assistant.sdk import Conversation
from assistant.store import Quote


@dataclass
class PendingConfirm:
    skill: str
    action: str
    data: dict[str, Any]
    quote: Quote | None = None


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
    """Each skill's own memory, by skill name."""
    confirm: PendingConfirm | None = None
    slot: PendingSlot | None = None
    last_reply: str = ""
    placed_tokens: set[str] = field(default_factory=set)
    last_order_id: int | None = None
    failures: dict[str, int] = field(default_factory=dict)

    def clear_pending(self) -> None:
        self.confirm = None
        self.slot = None
