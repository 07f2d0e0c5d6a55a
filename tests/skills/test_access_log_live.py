"""A real third-party skill in its sandbox: what it touched is on the record, asked about, and erased."""

from __future__ import annotations

import pytest

from assistant.testing import Chat


@pytest.mark.slow
def test_what_a_skill_did_is_logged_answered_and_erased(with_skills, tmp_path):
    with Chat(tmp_path / "data", enable=["recipes"]) as chat:
        reply = chat.say("add what i need for pancakes")
        assert chat.last.skill == "recipes", (chat.last.intent, reply)
        entries = chat.app.access_log.entries("recipes")
        assert {e.capability for e in entries} >= {"catalog", "cart"}
        assert len(chat.cart) >= 2
        answer = chat.say("what did the recipes skill see")
        assert chat.last.intent == "skill_activity", answer
        assert "recipes" in answer.lower() and "catalogue" in answer.lower()
        chat.say("delete my data")
        chat.say("yes")
        assert chat.app.access_log.entries("recipes") == []
