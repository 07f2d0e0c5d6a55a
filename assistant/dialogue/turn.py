"""One turn under way: the request, the conversation's state as read for it, and who answered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.dialogue.state import ConversationState
from assistant.household import Member
from assistant.principal import Principal
from assistant.sdk import Reply, Request


@dataclass
class TurnState:
    """What the stages of the turn read and change; the conversation writes ``state`` back after it."""

    request: Request
    state: ConversationState
    principal: Principal
    conversation_id: str
    """What quotes are bound to: the principal's key and the client's id."""
    refused_before: bool = False
    """The previous turn's purchase was refused (the state's flag, cleared for this turn)."""
    skill: str | None = None
    """The skill that answered, for the log and for a skill's apology."""
    calling: tuple[str, Request] | None = None
    """The intent and request of the skill call under way (for a slot it asks for)."""
    capabilities: dict[str, Any] = field(default_factory=dict)
    """What the member's skills may use, made once per turn for the member in ``state``."""

    def answered(self, reply: Reply, skill: str | None) -> Reply:
        """``reply``, given by ``skill`` (None: the core)."""
        self.skill = skill
        return reply

    @property
    def intent(self) -> str:
        return self.request.intent

    @property
    def member(self) -> Member | None:
        return self.state.member
