"""The conversation's state as a record: everything a turn leaves for the next survives JSON, in any process."""

import json

import pytest

from assistant.dialogue.state import ConversationState, PendingConfirm, PendingSlot, Waiting
from assistant.household import Member
from assistant.nlu.parse import Entity
from assistant.sdk import Conversation, Request
from assistant.sdk.types import Line, Product
from assistant.store import Quote, Suggestion

OAT = Product(7, "G1", "Barista Oat Milk", "Oatly", "groceries", "1 litre", 210, "plant milk")
BEANS = Product(9, "C2", "Qualita Rossa", "Lavazza", "groceries", "1 kilo", 1450)


def _everything() -> ConversationState:
    milk = Entity("product", "oat milk", 4, 12, 0.93, text="oat milk")
    state = ConversationState(
        conversation=Conversation([OAT, BEANS], 2, OAT),
        memory={"recommend": {"seen": {7, 9}, "queue": [], "last": None}, "search": {"query": "oat milk"}},
        confirm=PendingConfirm(
            "cart",
            "purchase",
            {"n": 1},
            quote=Quote("tok", (Line(OAT, 2),), 420, "hub:x/kitchen", basket_version=3, expires_at=1.5e9),
            lines=((7, 2),),
            question="That's 2 items for 4 pounds 20. Shall I place the order?",
        ),
        slot=PendingSlot("cart", "add_to_cart", "product", (milk,), {"from": "search"}),
        last_reply="I found 5.",
        last_order_id=1042,
        refused=True,
        why="Because you bought it three times.",
        member=Member(3, "alice", True),
        verified=True,
        who=Waiting("cart", "add_to_cart", Request("add_to_cart", "add oat milk", 0.91, (milk,))),
        code_for=Waiting("orders", "order_history", Request("order_history", "what did I buy", confirmed=True)),
        news_told=True,
    )
    return state


def test_every_field_round_trips():
    state = _everything()
    again = ConversationState.from_json(state.to_json())
    assert again == state
    assert isinstance(again.memory["recommend"]["seen"], set)  # a skill's set is still a set it can add to
    assert again.confirm.quote.lines[0].product == OAT and again.confirm.lines == ((7, 2),)


def test_a_fresh_state_round_trips_and_is_small():
    state = ConversationState()
    text = state.to_json()
    assert ConversationState.from_json(text) == state
    assert len(text) < 600


def test_a_skill_memory_that_is_not_plain_data_is_dropped_not_the_conversation(caplog):
    state = ConversationState(memory={"good": {"n": 1}, "bad": {"handle": object()}})
    again = ConversationState.from_json(state.to_json())
    assert again.memory == {"good": {"n": 1}}
    assert "'bad'" in caplog.text


def test_a_suggestion_a_skill_remembers_survives():
    suggestion = Suggestion(BEANS, "co_purchase", "38 customers who bought X also bought this")
    state = ConversationState(memory={"recommend": {"last": suggestion}})
    assert ConversationState.from_json(state.to_json()).memory["recommend"]["last"] == suggestion


@pytest.mark.parametrize(
    "text",
    ['{"format": 99}', "[]", '{"format": 1, "confirm": {"__type__": "Popen", "args": ["sh"]}}'],
)
def test_a_record_of_another_layout_or_with_foreign_types_is_refused(text):
    with pytest.raises((ValueError, TypeError)):
        ConversationState.from_json(text)


def test_the_record_names_no_python_objects():
    record = json.loads(_everything().to_json())
    types = set()

    def walk(value):
        if isinstance(value, dict):
            types.add(value.get("__type__"))
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(record)
    assert types - {None} <= {
        "Conversation", "Product", "PendingConfirm", "Quote", "Line", "PendingSlot", "Entity", "Member",
        "Waiting", "Request", "set", "tuple",
    }  # fmt: skip
