"""Whole conversations through the harness, with the real NLU and a real store."""

import re

import pytest

from assistant.testing import Chat


def test_search_pick_by_ordinal_checkout_with_confirmation(chat: Chat):
    reply = chat.say("do you have oat milk")
    assert chat.last.intent == "search_product" and chat.last.skill == "search"
    assert "oat" in reply.lower() and "pound" in reply and reply.endswith("?")
    listed = chat.conversation.state.conversation.last_list
    reply = chat.say("add the second one")
    assert chat.last.intent == "add_to_cart"
    assert [line.product.id for line in chat.cart] == [listed[1].id]
    assert "Added" in reply and "basket" in reply
    reply = chat.say("check out")
    assert chat.last.intent == "checkout"
    total = sum(line.total_pence for line in chat.cart)
    assert chat.conversation.state.confirm is not None
    assert "Shall I place the order?" in reply
    assert f"{total // 100} pound" in reply  # the question names the total
    assert chat.new_orders() == []  # nothing bought before the yes
    reply = chat.say("yes")
    assert re.search(r"Order \d+ is placed", reply)
    assert len(chat.new_orders()) == 1 and chat.cart == []
    reply = chat.say("yes")
    assert "already placed" in reply
    assert len(chat.new_orders()) == 1


def test_no_means_nothing_is_bought(chat: Chat):
    chat.say("add some bananas to my basket")
    assert chat.cart
    chat.say("checkout")
    reply = chat.say("no")
    assert "haven't ordered" in reply
    assert chat.new_orders() == []


def test_slot_filling_asks_what_to_add(chat: Chat):
    reply = chat.say("add to my cart")
    assert reply == "What should I add?"
    chat.say("batteries")
    assert chat.cart and "batter" in chat.cart[0].product.name.lower()


def test_ordinal_past_the_end_of_the_list(chat: Chat):
    chat.say("search for coffee")
    reply = chat.say("add the tenth one")
    assert "I only read out three" in reply
    assert chat.cart == []


@pytest.mark.parametrize("quantity", ["zero", "ten thousand"])
def test_silly_quantities_are_questioned_not_added(chat: Chat, quantity):
    chat.say("do you have tea bags")
    reply = chat.say(f"add {quantity} of the first one")
    assert reply.endswith("?")
    assert chat.cart == []


def test_reorder_the_usual_and_make_it_two(chat: Chat):
    reply = chat.say("order the usual")
    assert chat.last.intent == "reorder"
    assert "Lavazza" in reply and "Shall I place the order?" in reply
    reply = chat.say("no, make it two")
    assert "Two of" in reply and "Shall I place the order?" in reply
    chat.say("yes")
    placed = chat.new_orders()
    assert len(placed) == 1 and placed[0].lines[0].quantity == 2 and "Lavazza" in placed[0].lines[0].product.title


def test_recommend_and_ask_why(chat: Chat):
    reply = chat.say("what do you recommend")
    assert chat.last.intent == "recommend" and "People who buy" in reply
    reply = chat.say("why that")
    assert chat.last.intent == "explain_recommendation"
    assert "customers who bought" in reply and "isn't an ad" in reply
    # the reason is the real count from the store
    suggestion = chat.conversation.state.memory["recommend"]["last"]
    assert str(suggestion.evidence["customers"]) in reply


def test_discover_leaves_the_usual_categories(chat: Chat):
    usual = {line.product.category for order in chat.orders for line in order.lines}
    reply = chat.say("surprise me")
    assert chat.last.intent == "discover"
    suggestion = chat.conversation.state.memory["recommend"]["last"]
    assert suggestion.product.category not in usual
    assert reply.endswith("Add it?")
    chat.say("yes")
    assert [line.product.id for line in chat.cart] == [suggestion.product.id]


def test_why_before_any_recommendation_is_honest(chat: Chat):
    assert "haven't recommended" in chat.say("why did you suggest that")


def test_delete_my_data_needs_a_yes(chat: Chat):
    assert chat.orders
    reply = chat.say("delete my data")
    assert reply.endswith("Are you sure?")
    chat.say("no")
    assert chat.orders
    chat.say("delete my data")
    reply = chat.say("yes")
    assert "forgotten" in reply
    assert chat.orders == []


def test_order_history_and_status(chat: Chat):
    assert "orders" in chat.say("what did I buy last time").lower()
    assert chat.last.intent == "order_history"
    reply = chat.say("where is my order")
    assert chat.last.intent == "order_status" and "order" in reply.lower()


def test_out_of_scope_says_what_it_can_do(chat: Chat):
    reply = chat.say("what's the weather like tomorrow")
    assert chat.last.intent == "out_of_scope"
    assert "can't" in reply and "search products" in reply


def test_repeat_cancel_help_greet(chat: Chat):
    first = chat.say("hello")
    assert chat.say("say that again") == first
    assert "search" in chat.say("what can you do")
    chat.say("delete my data")
    assert "cancel" in chat.say("never mind").lower()
    assert chat.conversation.state.confirm is None


def test_yes_with_nothing_to_confirm(chat: Chat):
    assert "nothing to confirm" in chat.say("yes")
    assert chat.new_orders() == []


def test_remove_and_view_cart(chat: Chat):
    chat.say("add two bananas to my basket")
    chat.say("add oat milk to my trolley")
    reply = chat.say("what's in my basket")
    assert chat.last.intent == "view_cart" and "3 items" not in reply and "three items" in reply
    chat.say("take the bananas out of my basket")
    assert all("banana" not in line.product.name.lower() for line in chat.cart)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\x00\x07\x1b[31m",
        "🛒🥛🍌",
        "¿dónde está la leche?",
        "买牛奶",
        "a" * 20000,
        "buy " * 3000,
    ],
)
def test_bad_input_gets_an_answer_and_buys_nothing(chat: Chat, text):
    reply = chat.say(text)
    assert reply and isinstance(reply, str)
    assert chat.new_orders() == []


def test_buying_switched_off(tmp_path):
    with Chat(tmp_path, shop={"buying_enabled": False}) as chat:
        chat.say("add bananas to my basket")
        reply = chat.say("check out")
        assert "switched off" in reply
        chat.say("yes")
        assert chat.new_orders() == []


def test_spending_cap(tmp_path):
    with Chat(tmp_path, shop={"spending_cap": 1.0}) as chat:
        chat.say("add coffee beans to my basket")
        reply = chat.say("check out")
        assert "spending cap" in reply
        chat.say("yes")
        assert chat.new_orders() == []


@pytest.mark.parametrize("text", ["add " + "9" * 400 + " bananas to my basket", "coffee under " + "9" * 320 + " pounds"])
def test_an_absurd_number_is_out_of_range_not_a_crash(chat: Chat, text: str):
    turn = chat.send(text)
    assert turn.reply and chat.cart == []
    if turn.intent == "add_to_cart":
        assert "up to" in turn.reply


@pytest.mark.parametrize(
    "said", ["remove the 99th one", "take out the fifth one", "remove the twentieth one", "take the twenty first one out"]
)
def test_an_ordinal_beyond_the_list_changes_nothing(chat: Chat, said: str):
    chat.say("do you have oat milk")
    chat.say("add the first one")
    before = [(line.product.id, line.quantity) for line in chat.cart]
    reply = chat.say(said)
    assert chat.last.intent == "remove_from_cart"
    assert "only read out" in reply
    assert [(line.product.id, line.quantity) for line in chat.cart] == before
