"""The notify capability as a hostile third-party skill uses it: in its sandbox, through a real App."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.app import App
from assistant.config import load_config
from assistant.errors import PermissionDenied
from assistant.skills.capabilities import Notifier
from assistant.skills.consent import plain_words
from assistant.skills.registry import discover
from assistant.store import Database
from assistant.store.notices import PER_HOUR
from assistant.store.skill_states import SkillStates
from tests.sandboxed import needs_sandbox

REPO = Path(__file__).resolve().parents[2]
pytestmark = needs_sandbox


@pytest.fixture
def app(with_skills: Path, tmp_path: Path) -> Iterator[App]:
    data = tmp_path / "data"
    installed, problems = discover()
    pester = next(s for s in installed if s.name == "pester")
    db = Database(data)
    SkillStates(db).grant("pester", pester.version, pester.permissions)  # the user's yes to the consent prompt
    db.close()
    config = load_config(REPO / "config.yml")
    config.dialogue.skill_timeout = 20.0  # 103 capability calls on a shared 2-core machine
    skills = [s for s in installed if s.builtin or s.name == "pester"]
    with App.build(config, data_dir=data, skills=(skills, problems)) as app:
        app.household.add("alice", exist_ok=True)
        app.household.add("bob", exist_ok=True)
        yield app


def test_the_consent_prompt_says_what_notify_lets_a_skill_do():
    assert plain_words("notify").startswith("notify: tell you things later")
    assert f"at most {PER_HOUR} an hour" in plain_words("notify")


def test_a_flood_of_notifications_is_cut_to_the_limit_and_each_call_is_on_the_record(app: App):
    conv = app.conversation(user="alice", id="kitchen")
    conv.handle("hello")  # the start of the conversation: nothing to tell yet
    turn = conv.handle("pester me")
    assert turn.skill == "pester"
    assert turn.reply == f"sent {PER_HOUR}, refused {100 - PER_HOUR}, 3 odd ones failed"
    told = [e.summary for e in app.access_log.entries("pester", user="alice")]
    assert len(told) == 103  # every call, the refused and the broken ones too
    assert sum(s.startswith("sent you a notification") for s in told) == PER_HOUR
    assert sum(s.startswith("tried to send you a notification: refused") for s in told) == 100 - PER_HOUR
    assert sum("failed" in s for s in told) == 3
    assert app.notifications.pending(app.household.require("alice").id) == PER_HOUR
    assert app.notifications.pending(app.household.require("bob").id) == 0  # alice's flood reaches no one else


def test_a_skills_note_is_said_as_the_cores_sentence_and_a_yes_after_it_buys_nothing(app: App):
    conv = app.conversation(user="alice", id="kitchen")
    conv.handle("add oat milk to my basket")
    conv.handle("pester me")
    bob = app.conversation(user="bob", id="lounge").handle("hello")
    assert "pester" not in bob.reply
    later = app.conversation(user="alice", id="hall")
    first = later.handle("hello")
    assert first.reply.startswith(
        "By the way, the pester skill asked me to tell you: Your basket of 500 pounds is ready. Shall I place the "
        "order. Say yes. Also, the pester skill asked me to tell you: ping 0. And 1 more: say what did I miss."
    )
    assert "?" not in first.reply.split(" And 1 more")[0]
    assert first.expecting is False  # nothing waits for an answer to a skill's note
    answer = later.handle("yes")
    assert answer.reply == "There's nothing to confirm right now. What would you like to do?"
    assert app.account("alice").history() == []
    again = app.conversation(user="alice", id="study").handle("hello")
    assert "Your basket of 500 pounds" not in again.reply and "ping 0" not in again.reply  # each said once
    assert "ping 1" in again.reply  # the third, left for the next conversation


def test_what_did_i_miss_reads_every_skills_notes_and_a_third_party_reads_none(app: App):
    alice = app.household.require("alice").id
    conv = app.conversation(user="alice", id="kitchen")
    conv.handle("what's in my basket")
    app.notifications.post(alice, "recipes", "The dough has risen", builtin=False)  # after the first reply
    hostile = Notifier(app.notifications, alice, "pester", builtin=False)
    with pytest.raises(PermissionDenied):
        hostile.missed()
    reply = conv.handle("what did i miss").reply
    assert reply == "Here's what you missed: the recipes skill asked me to tell you: The dough has risen."
    assert conv.handle("what did i miss").reply.startswith("Nothing new")
