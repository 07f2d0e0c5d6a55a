"""Each stage of the turn alone: a turn state in, a reply (or None: not mine) out, with a real store and skills."""

import re

import pytest

from assistant.dialogue.buying import Checkout
from assistant.dialogue.calls import SkillCaller
from assistant.dialogue.stages import (
    Cancel,
    CarefulGuard,
    Confirm,
    Dispatch,
    MetaIntents,
    PendingCode,
    Repeat,
    Slot,
    WhosOrdering,
    pipeline,
)
from assistant.dialogue.state import ConversationState, PendingConfirm, PendingSlot, Waiting
from assistant.dialogue.turn import TurnState
from assistant.nlu.parse import Entity
from assistant.principal import Door, Principal
from assistant.sdk import Request
from assistant.testing import Chat

KITCHEN = Principal(Door.HUB, "kitchen-pairing", "kitchen", None)
"""A shared door: it asks who is ordering."""


@pytest.fixture
def services(chat: Chat):
    return chat.app.services


@pytest.fixture
def me(chat: Chat):
    return chat.app.household.require(chat.app.config.user)


def _turn(chat: Chat, intent: str, text: str = "", confidence: float = 0.95, *, state=None, principal=None, **kw):
    principal = principal or chat.conversation.principal
    state = state or ConversationState(member=chat.app.household.get(principal.user) if principal.user else None)
    return TurnState(Request(intent, text or intent, confidence, **kw), state, principal, f"{principal.key}/t")


def _quote(chat: Chat, turn: TurnState):
    chat.app.account().orders.add(chat.app.catalog.search("bananas")[0].id)
    quote = chat.app.gate.quote(turn.member.id, turn.conversation_id)
    return PendingConfirm("cart", "purchase", {}, quote=quote, question=chat.app.gate.question(quote))


def _caller(services):
    return SkillCaller(services, Checkout(services))


def test_pipeline_order_is_the_dialogues_precedence(services):
    names = [type(stage).__name__ for stage in pipeline(services)]
    assert names == [
        "Repeat", "PendingCode", "WhosOrdering", "Cancel", "Confirm", "Slot", "MetaIntents", "CarefulGuard", "Dispatch",
    ]  # fmt: skip


def test_repeat_says_the_last_reply_and_changes_nothing(chat):
    turn = _turn(chat, "repeat")
    turn.state.last_reply = "I found 5."
    turn.refused_before = True
    assert Repeat().handle(turn).speech == "I found 5."
    assert turn.state.refused is True  # a yes after "say that again" still answers the refusal
    assert Repeat().handle(_turn(chat, "search_product")) is None


def test_why_gives_the_reason_and_the_question_that_stands(chat):
    turn = _turn(chat, "explain_recommendation")
    turn.state.why = "Because you bought it three times."
    turn.state.confirm = PendingConfirm("recommend", "add", {}, question="It's 24 pounds. Want it?")
    reply = Repeat().handle(turn)
    assert reply.speech == "Because you bought it three times. Want it?" and reply.expect == "confirm"


def test_pending_code_wrong_then_right_places_the_order(chat, services, me):
    chat.app.household.set_code(me.name, "1234")
    turn = _turn(chat, "out_of_scope", "nine nine nine nine")
    pending = _quote(chat, turn)
    turn.state.code = pending
    stage = PendingCode(services, _caller(services), Checkout(services))
    assert "isn't right" in stage.handle(turn).speech and turn.state.code is pending
    turn = _turn(chat, "out_of_scope", "one two three four", state=turn.state)
    assert re.search(r"Order \d+ is placed", stage.handle(turn).speech)
    assert turn.state.code is None and turn.state.last_order_id is not None and turn.state.verified


def test_pending_code_cancelled_cancels_the_quote(chat, services, me):
    chat.app.household.set_code(me.name, "1234")
    turn = _turn(chat, "cancel", "never mind")
    turn.state.code = pending = _quote(chat, turn)
    assert "haven't ordered" in PendingCode(services, _caller(services), Checkout(services)).handle(turn).speech
    assert not chat.app.gate.cancel(pending.quote.token)  # it was no longer open


def test_pending_code_passes_when_nothing_asks_for_one(chat, services):
    assert PendingCode(services, _caller(services), Checkout(services)).handle(_turn(chat, "affirm", "yes")) is None


def test_whos_ordering_names_the_member_then_makes_the_call_that_asked(chat, services, me):
    chat.app.household.add("zed")
    turn = _turn(chat, "out_of_scope", me.name, principal=KITCHEN)
    turn.state.who = Waiting("cart", "view_cart", Request("view_cart", "what's in my basket"))
    reply = WhosOrdering(services, _caller(services)).handle(turn)
    assert turn.member == me and turn.skill == "cart" and "basket" in reply.speech.lower()


def test_whos_ordering_asks_again_for_a_name_it_does_not_know(chat, services):
    chat.app.household.add("zed")
    turn = _turn(chat, "out_of_scope", "the cat", principal=KITCHEN)
    turn.state.who = waiting = Waiting("cart", "view_cart", Request("view_cart", "what's in my basket"))
    reply = WhosOrdering(services, _caller(services)).handle(turn)
    assert reply.speech.endswith("Who's ordering?") and turn.state.who == waiting and turn.member is None


def test_cancel_drops_the_question_and_its_quote(chat, services):
    turn = _turn(chat, "cancel", "never mind")
    turn.state.confirm = pending = _quote(chat, turn)
    assert Cancel(services).handle(turn).speech == "Okay, cancelled. What else?"
    assert turn.state.confirm is None and not chat.app.gate.cancel(pending.quote.token)
    assert Cancel(services).handle(_turn(chat, "deny", "no")) is None


def test_confirm_unclear_asks_again_and_a_new_command_moves_on(chat, services):
    stage = Confirm(services, _caller(services), Checkout(services))
    turn = _turn(chat, "affirm", "yes no")
    turn.state.confirm = pending = _quote(chat, turn)
    reply = stage.handle(turn)
    assert reply.speech.startswith("Sorry, that's") and reply.speech.endswith("Yes or no.") and turn.state.confirm
    turn = _turn(chat, "search_product", "do you have oat milk", state=turn.state)
    assert stage.handle(turn) is None and turn.state.confirm is None
    assert not chat.app.gate.cancel(pending.quote.token)  # moving on let the purchase go


def test_confirm_no_declines_the_purchase(chat, services):
    turn = _turn(chat, "deny", "no")
    turn.state.confirm = _quote(chat, turn)
    assert "haven't ordered" in Confirm(services, _caller(services), Checkout(services)).handle(turn).speech
    assert chat.new_orders() == []


def test_slot_fills_the_value_and_calls_the_skill_again(chat, services):
    turn = _turn(chat, "out_of_scope", "bananas")
    turn.state.slot = PendingSlot("cart", "add_to_cart", "product", (), {})
    reply = Slot(services, _caller(services)).handle(turn)
    assert turn.skill == "cart" and "banana" in reply.speech.lower()
    assert Slot(services, _caller(services)).handle(_turn(chat, "out_of_scope", "bananas")) is None


def test_meta_intents_answer_a_yes_or_no_with_nothing_asked(chat):
    refused = _turn(chat, "affirm", "yes")
    refused.refused_before = True
    assert MetaIntents().handle(refused).speech.startswith("Nothing was ordered")
    assert "nothing to confirm" in MetaIntents().handle(_turn(chat, "affirm", "yes")).speech
    assert MetaIntents().handle(_turn(chat, "deny", "no")).speech == "Okay. Anything else?"
    assert MetaIntents().handle(_turn(chat, "view_cart")) is None


def test_careful_guard_checks_an_unsure_checkout_only(chat, services):
    unsure = _turn(chat, "checkout", "check", confidence=0.45)
    reply = CarefulGuard(services).handle(unsure)
    assert (
        reply.speech == "Just to check: do you want me to check out?"
        and unsure.state.confirm.action == "intent:checkout"
    )
    assert CarefulGuard(services).handle(_turn(chat, "checkout", "check out", confidence=0.9)) is None
    assert CarefulGuard(services).handle(_turn(chat, "search_product", "milk", confidence=0.45)) is None


def test_dispatch_calls_the_skill_for_the_intent(chat, services):
    milk = Entity("product", "oat milk", 12, 20, text="oat milk")
    turn = _turn(chat, "search_product", "do you have oat milk", entities=(milk,))
    reply = Dispatch(services, _caller(services)).handle(turn)
    assert turn.skill == "search" and "oat" in reply.speech.lower()
    weather = _turn(chat, "weather_forecast", "what's the weather")
    assert Dispatch(services, _caller(services)).handle(weather) is not None and weather.skill == "conversation"
