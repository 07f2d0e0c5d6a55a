"""The turn as a pipeline: ordered stages, each answering the turn or passing it on.

Each stage reads the turn (what was said and the conversation's state) and returns a reply, or None
for the next stage to try. The order is the dialogue's precedence: a question the assistant asked is
answered before anything is dispatched to a skill.
"""

from __future__ import annotations

import logging
import re
from typing import Protocol

from assistant.dialogue.buying import Checkout
from assistant.dialogue.calls import SkillCaller
from assistant.dialogue.confirm import Answer, fill_slot, read_answer
from assistant.dialogue.services import Services
from assistant.dialogue.state import ConversationState, PendingConfirm
from assistant.dialogue.turn import TurnState
from assistant.errors import StoreError
from assistant.sdk import Reply, Request

log = logging.getLogger(__name__)

CAREFUL_INTENTS = frozenset({"remove_from_cart", "remove_from_list", "delete_my_data", "checkout", "reorder"})
"""Costly or destructive: understood with low confidence, the core asks before acting."""
CAREFUL_BELOW = 0.6
STOPS = frozenset({"cancel", "deny"})
"""Said to the core's own question (who, what code), these drop it."""


class Stage(Protocol):
    def handle(self, turn: TurnState) -> Reply | None:
        """The reply to the turn, or None to pass it to the next stage."""


def drop_pending(services: Services, state: ConversationState) -> None:
    """Every question of the conversation goes; a purchase it asked about can never be placed."""
    for token in state.open_quotes():
        services.gate.cancel(token)
    state.clear_pending()
    state.code = state.code_for = state.who = None


def again(pending: PendingConfirm) -> Reply:
    """The question stands, asked again in full."""
    return Reply(f"Sorry, {lower_first(pending.question)} Yes or no.", expect="confirm")


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def spoken(exc: StoreError) -> str:
    said = getattr(exc, "spoken", None)
    if isinstance(said, str) and said:
        return said
    return "Sorry, I couldn't reach my database just now, so nothing was changed. Please try again in a moment."


class Repeat:
    """ "Say that again" and "why that one?": what the last reply said, or the reason it gave."""

    def handle(self, turn: TurnState) -> Reply | None:
        state = turn.state
        if turn.intent == "repeat":
            state.refused = turn.refused_before  # a repeat changes nothing
            return Reply(state.last_reply or "I haven't said anything yet. What would you like?", why=state.why)
        if turn.intent == "explain_recommendation" and state.why:
            state.refused = turn.refused_before
            # the reason the last reply gave for its choice; a question it asked still stands
            pending = state.confirm
            tail = " " + re.split(r"(?<=[.!?]) ", pending.question)[-1] if pending is not None else ""
            return Reply(state.why + tail, expect="confirm" if pending else "none", why=state.why)
        return None


class PendingCode:
    """The answer to "What's the purchase code?": for a purchase said yes to, or a skill call held back."""

    def __init__(self, services: Services, caller: SkillCaller, checkout: Checkout) -> None:
        self.services = services
        self.caller = caller
        self.checkout = checkout

    def handle(self, turn: TurnState) -> Reply | None:
        if turn.state.code is not None:
            return self._for_purchase(turn)
        if turn.state.code_for is not None:
            return self._for_call(turn)
        return None

    def _for_purchase(self, turn: TurnState) -> Reply:
        state = turn.state
        pending, state.code = state.code, None
        assert pending is not None and pending.quote is not None and turn.member is not None
        if turn.intent in STOPS:
            self.services.gate.cancel(pending.quote.token)
            return turn.answered(Reply("Okay, I haven't ordered anything. What else?"), pending.skill)
        right = self.checkout.check_code(turn)
        if right:
            return turn.answered(self.checkout.place(turn, pending), pending.skill)
        if right is None:
            self.services.gate.cancel(pending.quote.token)
            return Reply("That code isn't right, so buying is locked for ten minutes. Your basket is kept.")
        state.code = pending
        return turn.answered(Reply("That code isn't right. What's the purchase code?", expect="answer"), pending.skill)

    def _for_call(self, turn: TurnState) -> Reply:
        state = turn.state
        waiting, state.code_for = state.code_for, None
        assert waiting is not None
        if turn.intent in STOPS:
            return turn.answered(Reply("Okay, I haven't done anything. What else?"), waiting.skill)
        right = self.checkout.check_code(turn)
        if right:
            return turn.answered(*self.caller.resume(turn, waiting))
        if right is None:
            return Reply("That code isn't right, so it's locked here for ten minutes.")
        state.code_for = waiting
        return turn.answered(Reply("That code isn't right. What's the purchase code?", expect="answer"), waiting.skill)


class WhosOrdering:
    """The answer to "Who's ordering?": the member it names, then the call that asked."""

    def __init__(self, services: Services, caller: SkillCaller) -> None:
        self.services = services
        self.caller = caller

    def handle(self, turn: TurnState) -> Reply | None:
        state = turn.state
        if state.who is None:
            return None
        waiting, state.who = state.who, None
        if turn.intent in STOPS:
            return Reply("Okay. Anything else?")
        member = self.services.household.recognise(turn.request.text)
        if member is None:
            state.who = waiting
            return Reply("Sorry, I didn't catch whose account. Who's ordering?", expect="answer")
        self.caller.use(turn, member)
        return turn.answered(*self.caller.resume(turn, waiting))


class Cancel:
    """ "Never mind": whatever was asked is dropped."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def handle(self, turn: TurnState) -> Reply | None:
        if turn.intent != "cancel":
            return None
        had = turn.state.confirm or turn.state.slot
        drop_pending(self.services, turn.state)
        return Reply("Okay, cancelled. What else?" if had else "Okay. Anything else?")


class Confirm:
    """The answer to a yes/no question: yes acts, no declines, unclear asks again, a new command moves on."""

    def __init__(self, services: Services, caller: SkillCaller, checkout: Checkout) -> None:
        self.services = services
        self.caller = caller
        self.checkout = checkout

    def handle(self, turn: TurnState) -> Reply | None:
        state = turn.state
        pending = state.confirm
        if pending is None:
            return None
        answer = read_answer(turn.request)
        if answer is Answer.YES:
            state.confirm = None
            try:
                return self._yes(turn, pending)
            except StoreError as exc:  # nothing happened: the question stands
                log.error("turn failed: %s", exc)
                state.confirm = pending
                return turn.answered(
                    Reply(f"{spoken(exc)} {pending.question}".strip(), expect="confirm"), pending.skill
                )
        if answer is Answer.NO:
            state.confirm = None
            return self._no(turn, pending)
        if answer is Answer.UNCLEAR:
            return turn.answered(again(pending), pending.skill)
        drop_pending(self.services, state)  # a clear new command: the question is dropped, the command handled
        return None

    def _yes(self, turn: TurnState, pending: PendingConfirm) -> Reply:
        if pending.quote is not None:
            return turn.answered(self.checkout.buy(turn, pending), pending.skill)
        dispatcher = self.services.dispatcher
        request = turn.request
        if pending.action.startswith("intent:"):
            intent = pending.action.removeprefix("intent:")
            target = dispatcher.routes.get(intent)
            if target is None:
                return Reply("Sorry, I can't do that right now.")
            offered = pending.request or Request(intent, request.text, request.confidence, ())
            offered = Request(intent, offered.text, offered.confidence, offered.entities, confirmed=True)
            return turn.answered(*self.caller.call(turn, target, intent, offered))
        loaded = dispatcher.by_name.get(pending.skill)
        handler = loaded.confirm_actions.get(pending.action) if loaded else None
        if loaded is None or handler is None:
            return turn.answered(Reply("Okay."), pending.skill)
        return turn.answered(
            *self.caller.call(turn, loaded, request.intent, request, method=handler, data=pending.data)
        )

    def _no(self, turn: TurnState, pending: PendingConfirm) -> Reply:
        if pending.quote is not None:
            self.services.gate.cancel(pending.quote.token)
        request = turn.request
        loaded = self.services.dispatcher.by_name.get(pending.skill)
        handler = loaded.deny_actions.get(pending.action) if loaded else None
        if loaded is not None and handler is not None:
            return turn.answered(
                *self.caller.call(turn, loaded, request.intent, request, method=handler, data=pending.data)
            )
        if pending.quote is not None:
            return turn.answered(Reply("Okay, I haven't ordered anything. What else?"), pending.skill)
        return turn.answered(Reply("Okay, I won't. Anything else?"), pending.skill)


class Slot:
    """The answer to a skill's "What should I add?": the skill is called again with the value filled."""

    def __init__(self, services: Services, caller: SkillCaller) -> None:
        self.services = services
        self.caller = caller

    def handle(self, turn: TurnState) -> Reply | None:
        state = turn.state
        if state.slot is None:
            return None
        pending, state.slot = state.slot, None
        dispatcher = self.services.dispatcher
        filled = fill_slot(pending, turn.request, dispatcher.routes)
        loaded = dispatcher.by_name.get(pending.skill)
        if filled is None or loaded is None:
            return None  # moved on: the turn is handled as it stands
        return turn.answered(*self.caller.call(turn, loaded, pending.intent, filled))


class MetaIntents:
    """A yes or no with no question standing: said what it answers, or that nothing waits for it."""

    def handle(self, turn: TurnState) -> Reply | None:
        if turn.intent == "affirm":
            if turn.refused_before:
                return Reply("Nothing was ordered: I couldn't place that one. What would you like to do?")
            if turn.state.last_order_id is not None:
                return Reply("Your order is already placed. Anything else?")
            return Reply("There's nothing to confirm right now. What would you like to do?")
        if turn.intent == "deny":
            return Reply("Okay. Anything else?")
        return None


class CarefulGuard:
    """A costly or destructive intent understood unsurely is checked before anything is done."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def handle(self, turn: TurnState) -> Reply | None:
        loaded, intent = route(self.services, turn.intent)
        if loaded is None or intent not in CAREFUL_INTENTS or turn.request.confidence >= CAREFUL_BELOW:
            return None
        question = f"Just to check: do you want me to {describe(intent)}?"
        turn.state.confirm = PendingConfirm(
            loaded.name, f"intent:{intent}", {}, question=question, request=turn.request
        )
        return turn.answered(Reply(question, expect="confirm"), loaded.name)


class Dispatch:
    """The skill that handles the intent (or the out-of-scope one), called."""

    def __init__(self, services: Services, caller: SkillCaller) -> None:
        self.services = services
        self.caller = caller

    def handle(self, turn: TurnState) -> Reply | None:
        loaded, intent = route(self.services, turn.intent)
        if loaded is None:
            return Reply("Sorry, I can't help with that yet.")
        return turn.answered(*self.caller.call(turn, loaded, intent, turn.request))


def route(services: Services, intent: str):  # -> tuple[LoadedSkill | None, str]
    """The skill for ``intent``, else the out-of-scope skill (and the intent it is called with)."""
    routes = services.dispatcher.routes
    loaded = routes.get(intent) or routes.get("out_of_scope")
    if loaded is None:
        return None, intent
    return loaded, intent if intent in loaded.intents else "out_of_scope"


def describe(intent: str) -> str:
    return {
        "remove_from_cart": "take something out of your basket",
        "delete_my_data": "delete your data",
        "checkout": "check out",
        "reorder": "order something again",
        "remove_from_list": "take something off the list",
    }.get(intent, re.sub("_", " ", intent))


def pipeline(services: Services) -> list[Stage]:
    """The stages in the order they are tried."""
    checkout = Checkout(services)
    caller = SkillCaller(services, checkout)
    return [
        Repeat(),
        PendingCode(services, caller, checkout),
        WhosOrdering(services, caller),
        Cancel(services),
        Confirm(services, caller, checkout),
        Slot(services, caller),
        MetaIntents(),
        CarefulGuard(services),
        Dispatch(services, caller),
    ]
