"""The second attack run on skills (issue 19): each test is the attack, and asserts what the user keeps.

The hostile skill (tests/fixtures/hostile/hostile-round2) runs sandboxed like any third-party skill;
its intents are handed to the conversation as the NLU's reading, so each test is about the core."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.nlu.parse import IntentScore, Parse
from assistant.store import Orders
from assistant.testing import Chat
from tests.sandboxed import needs_sandbox

pytestmark = needs_sandbox


def hostile(chat: Chat, intent: str, text: str = "go", conversation=None) -> str:
    """One turn the NLU read as the hostile skill's ``intent``."""
    conv = conversation or chat.conversation
    return conv.handle(text, Parse(text, IntentScore(intent, 0.99))).reply


@pytest.fixture
def round_two(with_skills, tmp_path: Path):
    with Chat(tmp_path / "data", enable=["roundtwo"], shop={"spending_cap": 100.0}) as chat:
        assert "roundtwo" in chat.app.dispatcher.by_name
        yield chat


def test_a_product_id_beyond_sqlite_is_an_apology_and_the_chat_goes_on(round_two):
    reply = hostile(round_two, "huge_id")
    assert reply.startswith("Sorry, the roundtwo skill had a problem")
    assert round_two.conversation.state.confirm is None
    assert round_two.say("yes").startswith(("There's nothing to confirm", "Nothing was ordered"))
    assert "oat" in round_two.say("do you have oat milk").lower()  # the assistant still answers
    assert round_two.new_orders() == []


def test_a_number_beyond_the_wire_in_a_capability_call_is_refused(round_two):
    reply = hostile(round_two, "huge_capability")
    assert reply.startswith("Sorry, the roundtwo skill had a problem")
    assert "oat" in round_two.say("do you have oat milk").lower()


def test_the_core_alone_asks_the_purchase_question_with_the_real_total(round_two):
    reply = hostile(round_two, "talk_over")
    assert "99p" not in reply and "99 p" not in reply  # the skill's own total is never spoken
    question = round_two.conversation.state.confirm
    assert question is not None and question.quote is not None
    line = question.quote.lines[0]
    assert f"Here is what I'd order: one {line.product.title}" in reply
    assert reply.endswith("Shall I place the order?")
    assert round_two.say("no").startswith("Okay, I haven't ordered anything")
    assert round_two.new_orders() == []


def test_a_yes_after_a_refused_proposal_says_nothing_was_ordered(round_two):
    round_two.say("do you have oat milk")
    round_two.say("add the first one")
    round_two.say("check out")
    assert round_two.say("yes").startswith("Done.")  # an earlier order exists in this conversation
    reply = hostile(round_two, "over_cap")
    assert "over your spending cap" in reply
    assert round_two.say("yes").startswith("Nothing was ordered")
    assert len(round_two.new_orders()) == 1


def test_a_skills_memory_is_one_conversations_own(round_two):
    alice = round_two.app.conversation(user=round_two.app.config.user, id="first")
    other = round_two.app.conversation(user=round_two.app.config.user, id="second")
    hostile(round_two, "remember", "I declined the salmon", conversation=alice)
    assert hostile(round_two, "recall", conversation=alice) == "I remember: I declined the salmon."
    assert hostile(round_two, "recall", conversation=other) == "I remember: nothing."


def test_delete_my_data_erases_that_members_skill_storage_only(round_two):
    app = round_two.app
    app.household.add("bob")
    me = app.conversation(user=app.config.user, id="me")
    bob = app.conversation(user="bob", id="bob")
    hostile(round_two, "keep_note", "mine", conversation=me)
    hostile(round_two, "keep_note", "bobs", conversation=bob)
    hostile(round_two, "remember", "bob's secret", conversation=bob)
    assert hostile(round_two, "read_note", conversation=me) == "Your note: mine."
    assert hostile(round_two, "read_note", conversation=bob) == "Your note: bobs."
    assert bob.handle("delete my data").reply.endswith("?")
    assert "forgotten" in bob.handle("yes").reply
    assert hostile(round_two, "read_note", conversation=bob) == "Your note: none."
    assert hostile(round_two, "recall", conversation=bob) == "I remember: nothing."
    assert hostile(round_two, "read_note", conversation=me) == "Your note: mine."
    assert Orders(app.db, app.household.require(app.config.user).id).history()  # my history stays


def test_an_upgrade_that_claims_the_cores_yes_is_refused_though_consent_was_given(with_skills, tmp_path: Path):
    """Version 2 asks for no more permissions than the user agreed to, and handles affirm/deny/cancel/repeat."""
    with Chat(tmp_path / "data", enable=["yesman"]) as chat:
        assert "yesman" not in chat.app.dispatcher.by_name
        problem = next(p.error for p in chat.app.problems if p.name == "yesman")
        assert "affirm" in problem and "\n" not in problem
        chat.say("do you have oat milk")
        chat.say("add the first one")
        chat.say("check out")
        assert chat.say("yes").startswith("Done.")  # the core's yes, not the skill's
        assert len(chat.new_orders()) == 1
