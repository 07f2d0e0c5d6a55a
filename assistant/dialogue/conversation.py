"""One conversation: a user turn in, one reply out, through the turn's pipeline of stages.

The conversation's state is a record in the store, keyed by its owner (door, principal, the client's
id): each turn takes it (``load_for_turn``, a lease only one turn holds), runs the stages over it and
writes it back. So a restart keeps a pending question, any process on the same store can take the
next turn, and two turns of one conversation run one after the other, whichever processes they are in.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from assistant.dialogue.buying import Checkout
from assistant.dialogue.services import Services
from assistant.dialogue.stages import Stage, again, drop_pending, pipeline, spoken
from assistant.dialogue.state import ConversationState, PendingConfirm, PendingSlot
from assistant.dialogue.turn import TurnState
from assistant.errors import AssistantError, StoreError
from assistant.household import Member
from assistant.nlu.parse import Entity, Parse
from assistant.nlu.text import clean
from assistant.notices import with_news
from assistant.principal import Principal
from assistant.sdk import Reply, Request
from assistant.store.conversations import Lease
from assistant.store.notices import Notifications

log = logging.getLogger(__name__)

LEASE_TURNS = 3
"""A turn holds its conversation for at most this many skill time limits (plus ``LEASE_SPARE_S``): a
turn may call a skill after asking who or for a code; a process that died mid-turn frees it then."""
LEASE_SPARE_S = 10.0


@dataclass
class Turn:
    """One exchange: what was heard, how it was understood, what was answered."""

    text: str
    intent: str | None
    confidence: float
    entities: list[Entity] = field(default_factory=list)
    skill: str | None = None
    reply: str = ""
    expecting: bool = False
    """True when the assistant asked a question and listens for the answer without the wake phrase."""
    end: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "entities": [e.to_rasa() for e in self.entities],
            "skill": self.skill,
            "reply": self.reply,
        }


def record_key(principal: Principal, client_id: str) -> str:
    """A conversation's key in the store: the principal's (its door included) and the client's id."""
    return f"{principal.key}/{client_id}"


class Conversation:
    """One conversation of one principal; its state lives in the store between turns."""

    def __init__(self, services: Services, client_id: str, principal: Principal) -> None:
        self.services = services
        self.principal = principal
        self.client_id = client_id
        """The id the client chose; unique only together with the principal."""
        self.id = record_key(principal, client_id)
        """The record's key in the store, and what quotes are bound to."""
        self.last_used = time.monotonic()
        self._stages: list[Stage] = pipeline(services)
        self._checkout = Checkout(services)
        self._seen = self._fresh()
        """The state as this process last read or wrote it (what front ends and tests look at)."""

    @property
    def state(self) -> ConversationState:
        """The state after the last turn this process ran (a snapshot: the store's record is the truth)."""
        return self._seen

    @property
    def member(self) -> Member | None:
        return self._seen.member

    # -- one turn -----------------------------------------------------------------------------
    def handle(self, text: str, parse: Parse | None = None) -> Turn:
        """Answer one user turn. ``parse`` is the NLU's reading when the caller already has it (speech)."""
        self.last_used = time.monotonic()
        text = clean(text)
        not_understood: Reply | None = None
        if not any(ch.isalnum() for ch in text):
            parse = None
        else:
            try:
                parse = parse or self.services.parse(text)
            except AssistantError as exc:  # e.g. the Rasa server went away and could not come back
                log.error("%s", exc)
                parse, not_understood = None, Reply(f"Sorry, I couldn't understand that: {exc}")
        records = self.services.records
        timeout = self.services.dialogue.skill_timeout
        try:
            lease = records.load_for_turn(
                self.id, lease_s=LEASE_TURNS * timeout + LEASE_SPARE_S, wait_s=LEASE_TURNS * timeout
            )
        except StoreError as exc:  # busy, full, corrupt, read-only: say so, change nothing
            log.error("turn failed: %s", exc)
            return self._unsaved(text, parse, exc)
        try:
            state = self._read(lease.state)
            turn = self._turn(state, text, parse, not_understood)
        except BaseException:
            records.release(lease)
            raise
        self._save(lease, state)
        return turn

    def _turn(self, state: ConversationState, text: str, parse: Parse | None, not_understood: Reply | None) -> Turn:
        if parse is None:
            turn = TurnState(Request("", text), state, self.principal, self.id)
            reply = not_understood or self._unheard(state)
            return self._finish(turn, Turn(text, None, 0.0), reply)
        request = Request(parse.intent.name, text, parse.intent.confidence, tuple(parse.entities))
        turn = TurnState(request, state, self.principal, self.id, refused_before=state.refused)
        state.refused = False
        try:
            reply = self._run(turn)
        except StoreError as exc:  # busy, full, corrupt, read-only: say so, keep running
            log.error("turn failed: %s", exc)
            reply, turn.skill = Reply(spoken(exc)), None
        except AssistantError as exc:
            log.error("turn failed: %s", exc)
            reply, turn.skill = Reply("Sorry, something went wrong on my side, so I couldn't do that."), None
        said = Turn(text, parse.intent.name, parse.intent.confidence, list(parse.entities), skill=turn.skill)
        said = self._finish(turn, said, reply)
        self._question_over(turn)
        return said

    def _run(self, turn: TurnState) -> Reply:
        for stage in self._stages:
            reply = stage.handle(turn)
            if reply is not None:
                return reply
        raise AssertionError("the last stage answers every turn")

    # -- the record ---------------------------------------------------------------------------
    def _fresh(self) -> ConversationState:
        user = self.principal.user
        return ConversationState(member=self.services.household.require(user) if user is not None else None)

    def _read(self, record: str | None) -> ConversationState:
        if record is None:
            return self._fresh()
        try:
            return ConversationState.from_json(record)
        except ValueError as exc:
            log.warning("conversation %s: its stored state could not be read (%s); it starts afresh", self.id, exc)
            return self._fresh()

    def _save(self, lease: Lease, state: ConversationState) -> None:
        self._seen = state
        member_id = state.member.id if state.member is not None else None
        try:
            saved = self.services.records.save(lease, state.to_json(), member_id=member_id, keep_s=self.services.keep_s)
        except StoreError as exc:  # the reply stands; what it asked is not kept (a quote's token still guards an order)
            log.error("conversation %s: its state was not saved: %s", self.id, exc)
            return
        if not saved:
            log.info("conversation %s was ended or erased during its turn; its state is not kept", self.id)

    def _unsaved(self, text: str, parse: Parse | None, exc: StoreError) -> Turn:
        """The store could not be taken for this turn: say so, and ask again what stands (read only)."""
        try:
            record = self.services.records.peek(self.id)
        except StoreError:
            record = None
        pending = self._read(record).confirm if record else None
        speech = spoken(exc) + (f" {pending.question}" if pending is not None else "")
        intent = parse.intent if parse is not None else None
        turn = Turn(text, intent.name if intent else None, intent.confidence if intent else 0.0, reply=speech)
        turn.expecting = pending is not None
        return turn

    def drop_pending(self) -> None:
        """Every question of this conversation goes (its purchase can never be placed)."""
        lease = self.services.records.load_for_turn(self.id, lease_s=LEASE_SPARE_S, wait_s=LEASE_SPARE_S)
        state = self._read(lease.state)
        drop_pending(self.services, state)
        self._save(lease, state)

    def end(self, *, idle_s: float | None = None) -> None:
        """The conversation is over (the client left; with ``idle_s``: nobody spoke in it, in any
        process, for that long): its record goes, a pending question expires, and skills' memories of it (they are in the record) go with it."""
        record = self.services.records.end(self.id, idle_s=idle_s)
        if record is None:
            return
        state = self._read(record)
        for token in state.open_quotes():
            self.services.gate.cancel(token)

    # -- replies ------------------------------------------------------------------------------
    def _question_over(self, turn: TurnState) -> None:
        """Once nothing is asked any more, a shared door forgets whose account it used: the next read
        of a member's orders names the member again. No "still alice?" window: a shared speaker cannot
        tell who stands at it now, and a window is exactly the gap in which the next person acts as alice."""
        state = turn.state
        if state.asking:
            return
        state.verified = False
        if self.principal.shared:
            state.member = None

    def _unheard(self, state: ConversationState) -> Reply:
        pending = state.confirm
        if pending is not None:
            return again(pending)
        return Reply("I didn't catch that. You can ask me to search for something, or say help.")

    def _finish(self, turn: TurnState, said: Turn, reply: Reply) -> Turn:
        state = turn.state
        skill = turn.skill
        try:
            said.reply = self._with_news(state, self._apply(turn, reply, skill))
        except Exception:  # noqa: BLE001 - a reply the core cannot act on must not end the conversation
            log.exception("skill '%s' sent a reply the assistant could not act on", skill)
            state.confirm = None
            who = f"the {skill} skill" if skill else "something on my side"
            said.reply = f"Sorry, {who} had a problem, so I couldn't do that. Everything else still works."
        said.expecting = reply.expect != "none" or state.confirm is not None
        said.end = reply.end
        if said.intent != "repeat":
            state.last_reply = said.reply
        return said

    def _with_news(self, state: ConversationState, speech: str) -> str:
        """The first reply to a known speaker starts with what they were to be told (``notices.with_news``)."""
        if state.news_told or state.member is None:
            return speech
        state.news_told = True
        notifications = Notifications(self.services.db, self.services.shop.currency)
        return with_news(notifications, state.member, speech)

    def _apply(self, turn: TurnState, reply: Reply, skill: str | None) -> str:
        """Record what the reply shows and expects; return the words to speak."""
        state = turn.state
        conv = state.conversation
        state.why = reply.why
        if reply.items is not None:
            conv.last_list = list(reply.items)
            conv.listed_count = reply.listed if reply.listed is not None else len(reply.items)
            conv.focus = reply.focus or (reply.items[0] if len(reply.items) == 1 else None)
        elif reply.focus is not None:
            conv.focus = reply.focus
        if reply.expect == "confirm" and skill and reply.purchase is not None:
            return self._checkout.propose(turn, reply, skill)
        if reply.expect == "confirm" and skill and state.confirm is None:
            state.confirm = PendingConfirm(skill, reply.action or "", reply.data, question=reply.speech)
        if reply.expect == "slot" and skill and reply.slot:
            intent, request = turn.calling or ("", Request("", ""))
            state.slot = PendingSlot(skill, intent, reply.slot, request.entities, reply.data)
        return reply.speech


__all__ = ["Conversation", "Turn"]
