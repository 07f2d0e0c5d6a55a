"""Conversation state: the one record of what was said, asked and shown, kept in the store between turns."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, fields
from typing import Any

from assistant.household import Member
from assistant.nlu.parse import Entity
from assistant.sdk import Conversation, Request
from assistant.skills.codec import WIRE_TYPES, WireError, decode, encode
from assistant.store import Quote

log = logging.getLogger(__name__)

FORMAT = 1
"""The record's layout; a stored record of another layout is not read (the conversation starts afresh)."""


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
    """A value a skill asked for ("What should I add?"), and what it already had."""

    skill: str
    intent: str
    slot: str
    entities: tuple[Entity, ...]
    data: dict[str, Any]


@dataclass
class Waiting:
    """A skill call held back until the user answers the core's question (who is it, what's the code)."""

    skill: str
    """The skill's name (looked up again when the answer comes: it may have been switched off)."""
    intent: str
    request: Request


@dataclass
class ConversationState:
    """Everything one conversation remembers between turns; plain data, so any process can take the next turn."""

    conversation: Conversation = field(default_factory=Conversation)
    """What was shown: the last list read out and the item in focus (skills see it)."""
    memory: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each skill's own memory, by skill name (a third-party skill's comes back from its worker with each answer)."""
    """Names this conversation's memories in third-party skills' workers (which hold them): a new
    session ("delete my data") is a new key, so nothing of the old memories is reachable."""
    confirm: PendingConfirm | None = None
    """The yes/no question standing."""
    slot: PendingSlot | None = None
    """The value a skill asked for."""
    last_reply: str = ""
    """What "say that again" says."""
    last_order_id: int | None = None
    """The order the last yes placed, so a second yes hears it is already placed."""
    refused: bool = False
    """The last turn's purchase was refused (over the cap, say): a yes now answers that, not an old order."""
    why: str | None = None
    """The last reply's reason for what it chose, for "why that one?" (``Reply.why``)."""
    member: Member | None = None
    """Whose account the conversation acts on: the door's member, or who answered "who's ordering?"."""
    verified: bool = False
    """The member's purchase code was given for the question in hand."""
    who: Waiting | None = None
    """A request waiting for the answer to "who's ordering?"."""
    code: PendingConfirm | None = None
    """A confirmed purchase waiting for the buyer's purchase code."""
    code_for: Waiting | None = None
    """A request (a history read-out, an erase) waiting for the member's purchase code."""
    news_told: bool = False
    """Price news is said once, at the start of the speaker's conversation."""

    def clear_pending(self) -> None:
        self.confirm = None
        self.slot = None

    def start_afresh(self) -> None:
        """After "delete my data": nothing shown, asked or remembered (by any skill) is kept;
        whose account it is and what was last said stay."""
        fresh = ConversationState()
        for name in ("conversation", "memory", "confirm", "slot", "last_order_id", "refused", "why"):
            setattr(self, name, getattr(fresh, name))

    @property
    def asking(self) -> bool:
        """A question of any kind stands, so the next turn is read as its answer."""
        return any((self.confirm, self.slot, self.code, self.code_for, self.who))

    def open_quotes(self) -> list[str]:
        """The tokens of purchases still waiting for a yes or a code (to cancel when the question goes)."""
        return [p.quote.token for p in (self.confirm, self.code) if p is not None and p.quote is not None]

    # -- the record ---------------------------------------------------------------------------
    def to_json(self) -> str:
        """The record as JSON text. A built-in skill's memory that is not plain data is dropped (and
        logged): the skill forgets, the conversation goes on."""
        record: dict[str, Any] = {"format": FORMAT}
        for f in fields(self):
            if f.name != "memory":
                record[f.name] = encode(getattr(self, f.name), sets=True)
        memory: dict[str, Any] = {}
        for skill, held in self.memory.items():
            try:
                memory[skill] = encode(held, sets=True)
            except WireError as exc:
                log.error(
                    "skill '%s' keeps something in its memory that cannot be stored (%s); it is dropped", skill, exc
                )
        record["memory"] = memory
        return json.dumps(record, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> ConversationState:
        """The record ``to_json`` wrote; ValueError for anything else (another layout, a type it never holds)."""
        record = json.loads(text)
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise ValueError(f"not a conversation record of format {FORMAT}")
        names = {f.name for f in fields(cls)}
        try:
            return cls(**{k: decode(v, _TYPES) for k, v in record.items() if k in names})
        except (WireError, TypeError, KeyError) as exc:
            raise ValueError(f"not a conversation record: {exc}") from exc


_TYPES: dict[str, type] = {
    **WIRE_TYPES,
    **{t.__name__: t for t in (PendingConfirm, PendingSlot, Waiting, Quote, Member)},
}
"""The types a record may hold: the skills' wire types and the core's pending questions."""
