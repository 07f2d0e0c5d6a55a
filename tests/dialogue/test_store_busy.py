"""Another writer holding the database: the assistant waits a little, then says so, truthfully."""

import re
import sqlite3

import pytest

from assistant.store import db as store_db
from assistant.testing import Chat


@pytest.fixture
def held(chat: Chat, monkeypatch):
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT", 0.5)
    other = sqlite3.connect(chat.app.db.path, isolation_level=None)

    class Lock:
        def take(self):
            other.execute("BEGIN IMMEDIATE")

        def release(self):
            other.execute("ROLLBACK")

    yield Lock()
    other.close()


def test_add_under_a_held_lock_says_nothing_changed_and_nothing_did(chat: Chat, held):
    held.take()
    reply = chat.say("add oat milk to my basket")
    held.release()
    assert "busy" in reply and "Added" not in reply, reply
    assert chat.cart == []


def test_yes_under_a_held_lock_keeps_the_question_and_buys_once(chat: Chat, held):
    chat.say("add bananas to my basket")
    chat.say("check out")
    held.take()
    reply = chat.say("yes")
    held.release()
    assert "busy" in reply and "Shall I place the order?" in reply, reply
    assert chat.new_orders() == []
    assert re.search(r"Order \d+ is placed", chat.say("yes"))
    assert len(chat.new_orders()) == 1


def test_delete_my_data_under_a_held_lock_erases_nothing(chat: Chat, held):
    before = len(chat.orders)
    chat.say("delete my data")
    held.take()
    reply = chat.say("yes")
    held.release()
    assert "forgotten" not in reply
    assert len(chat.orders) == before
