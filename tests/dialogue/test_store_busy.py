"""Another writer holding the database: the assistant waits a little, then says so, truthfully."""

import re
import sqlite3

import psycopg
import pytest

from assistant.store import db as store_db
from assistant.store.postgres import WRITE_LOCK
from assistant.testing import Chat


@pytest.fixture
def held(chat: Chat, monkeypatch):
    """Another program holding the store's write lock: SQLite's file lock, or PostgreSQL's."""
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT", 0.5)
    db = chat.app.db
    if db.engine == "sqlite":
        other = sqlite3.connect(db.path, isolation_level=None)
        begin = ["BEGIN IMMEDIATE"]
    else:
        other = psycopg.connect(db.url, autocommit=True)
        begin = ["BEGIN", f"SELECT pg_advisory_xact_lock({WRITE_LOCK})"]

    class Lock:
        def take(self):
            for statement in begin:
                other.execute(statement)

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
