"""A yes buys only when it clearly answers the purchase question asked in the turn just before."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.sdk import money
from assistant.testing import Chat

QUESTION = "Shall I place the order?"


@pytest.fixture
def at_checkout(chat: Chat) -> Chat:
    chat.say("add some bananas to my basket")
    assert chat.cart
    assert QUESTION in chat.say("check out")
    return chat


@pytest.mark.parametrize("answer", ["yes no", "no yes", "yes\u2028no", "yeah nah", "ok no wait"])
def test_a_mixed_answer_asks_again_and_buys_nothing(at_checkout: Chat, answer: str):
    reply = at_checkout.say(answer)
    assert at_checkout.new_orders() == []
    assert QUESTION.lower() in reply.lower() and "yes or no" in reply.lower()
    # the question was asked again in full, so a clear yes now answers it
    assert re.search(r"Order \d+ is placed", at_checkout.say("yes"))
    assert len(at_checkout.new_orders()) == 1


def test_something_unintelligible_asks_the_whole_question_again(at_checkout: Chat):
    total = money(sum(line.total_pence for line in at_checkout.cart))
    reply = at_checkout.say("%%% ...")
    assert reply.startswith("Sorry") and QUESTION.lower() in reply.lower()
    assert f"for {total}" in reply  # the total, again
    assert at_checkout.new_orders() == []
    at_checkout.say("yes please")
    assert len(at_checkout.new_orders()) == 1


def test_a_yes_after_moving_on_buys_nothing(at_checkout: Chat):
    at_checkout.say("search for tea")
    reply = at_checkout.say("yes")
    assert at_checkout.new_orders() == []
    assert "Order" not in reply


def test_a_declined_checkout_cannot_be_bought_later(at_checkout: Chat):
    at_checkout.say("no")
    for text in ("yes", "yes please", "go ahead"):
        at_checkout.say(text)
    assert at_checkout.new_orders() == []


def test_an_unsure_destructive_request_is_checked_first(chat: Chat):
    chat.say("add some bananas to my basket")
    before = [(ln.product.id, ln.quantity) for ln in chat.cart]
    turn = chat.send("buy the 99th one")
    assert [(ln.product.id, ln.quantity) for ln in chat.cart] == before, turn.reply
    assert chat.new_orders() == []


ANSWERS = st.sampled_from(
    ["yes", "no", "yes no", "no yes", "maybe", "check out", "add bananas", "what", "yes please", "", "cancel", "uh"]
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ANSWERS, min_size=1, max_size=6))
def test_every_order_follows_a_clear_yes_to_the_question_just_asked(tmp_path_factory, answers):
    with Chat(tmp_path_factory.mktemp("confirm")) as chat:
        chat.say("add some bananas to my basket")
        chat.say("check out")
        orders = 0
        for text in answers:
            asked = chat.last.reply
            chat.send(text)
            now = len(chat.new_orders())
            assert now - orders <= 1  # one yes, one order at most
            if now > orders:
                assert QUESTION in asked, (asked, text)
                assert chat.last.intent == "affirm" and not re.search(r"\bno\b", text), text
            orders = now
