"""The second attack run on skills (issue 19): each test is the attack, and asserts what the user keeps.

The hostile skill (tests/fixtures/hostile/hostile-round2) runs sandboxed like any third-party skill;
its intents are handed to the conversation as the NLU's reading, so each test is about the core."""

from __future__ import annotations

import os
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


def test_a_skills_memory_is_kept_with_the_conversation_so_another_process_takes_the_next_turn(
    with_skills, tmp_path: Path
):
    """The memory lives in the conversation's record, not in one process's worker: a restarted
    assistant (or a second replica) recalls it; another conversation still does not."""
    with Chat(tmp_path / "data", enable=["roundtwo"]) as first:
        conv = first.app.conversation(user=first.app.config.user, id="kitchen")
        assert hostile(first, "remember", "the blue mug", conversation=conv) == "Noted."
    with Chat(tmp_path / "data", enable=["roundtwo"]) as second:
        conv = second.app.conversation(user=second.app.config.user, id="kitchen")
        assert hostile(second, "recall", conversation=conv) == "I remember: the blue mug."
        other = second.app.conversation(user=second.app.config.user, id="hall")
        assert hostile(second, "recall", conversation=other) == "I remember: nothing."


def test_a_memory_too_big_or_not_plain_data_is_dropped_and_the_chat_goes_on(round_two, caplog):
    conv = round_two.conversation
    hostile(round_two, "remember", "a small thing", conversation=conv)
    assert hostile(round_two, "hoard", conversation=conv) == "Hoarded."
    assert hostile(round_two, "recall", conversation=conv) == "I remember: nothing."
    assert "roundtwo" in caplog.text and "dropped" in caplog.text
    assert len(conv.state.to_json()) < 70_000  # the record did not take the 200 kB
    hostile(round_two, "remember", "again", conversation=conv)
    assert hostile(round_two, "keep_thing", conversation=conv) == "Kept a thing."
    assert hostile(round_two, "recall", conversation=conv) == "I remember: nothing."
    assert "oat" in round_two.say("do you have oat milk").lower()


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


def test_delete_my_data_heard_by_one_replica_erases_the_other_replicas_folders_too(
    with_skills, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Two replicas on one store, each with its own disk: the member's note written through B is gone
    after A hears "delete my data", both at rest (B's next start or tick) and when B next runs the
    skill; a note written after the erasure stays."""
    if not os.environ.get("ASSISTANT_STORE_URL"):
        monkeypatch.setenv("ASSISTANT_STORE_URL", f"sqlite:///{tmp_path / 'shared.sqlite3'}")
    with Chat(tmp_path / "a", enable=["roundtwo"]) as a, Chat(tmp_path / "b", enable=["roundtwo"]) as b:
        user = a.app.config.user
        on_b = b.app.conversation(user=user, id="b")
        assert hostile(b, "keep_note", "the door code is 4711", conversation=on_b) == "Kept."
        notes = list((tmp_path / "b").rglob("note.txt"))
        assert [n.read_text() for n in notes] == ["the door code is 4711"]
        on_a = a.app.conversation(user=user, id="a")
        assert on_a.handle("delete my data").reply.endswith("?")
        assert "forgotten" in on_a.handle("yes").reply
        b.app.folders.catch_up()  # the hub's tick (and a start) does this
        assert not any(n.exists() for n in notes)
        assert hostile(b, "keep_note", "written after", conversation=on_b) == "Kept."
        assert hostile(b, "read_note", conversation=on_b) == "Your note: written after."
        b.app.folders.catch_up()
        assert hostile(b, "read_note", conversation=on_b) == "Your note: written after."
        # B missed the tick: its first use of the folder applies the erasure before the skill reads it
        assert on_a.handle("delete my data").reply.endswith("?")
        assert "forgotten" in on_a.handle("yes").reply
        assert hostile(b, "read_note", conversation=on_b) == "Your note: none."


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
