"""Shopping lists in the store: merging, owners kept apart, limits, and the migration that adds them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant.errors import StoreError
from assistant.sdk.types import LIST_LIMIT, item_key
from assistant.store import Database, Orders
from assistant.store.db import SCHEMA, SCHEMA_VERSION
from assistant.store.lists import ListFull, ShoppingLists


@pytest.fixture
def db(tmp_path: Path):
    db = Database(tmp_path / "data")
    yield db
    db.close()


@pytest.fixture
def lists(db: Database) -> ShoppingLists:
    return ShoppingLists(db)


def test_the_same_thing_said_differently_is_one_item():
    assert item_key("Milks") == item_key("the milk") == item_key("some milk") == "milk"
    assert item_key("oat milk") != item_key("milk")


def test_a_quantity_said_is_what_is_wanted_and_more_adds(lists: ShoppingLists):
    item, new = lists.add(None, "milk")
    assert new and item.quantity == 1
    item, new = lists.add(None, "milks", 2)
    assert not new and item.quantity == 2
    assert [(i.name, i.quantity) for i in lists.items(None)] == [("milks", 2)]  # read back as "two milks"
    item, _ = lists.add(None, "milk")  # said again without a number: still two
    assert item.quantity == 2
    item, _ = lists.add(None, "milk", 3, more=True)  # "three more milks"
    assert item.quantity == 5
    assert len(lists.items(None)) == 1


def test_the_household_list_and_a_members_own_are_apart(db: Database, lists: ShoppingLists):
    alice = db.user_id("alice")
    bob = db.user_id("bob")
    lists.add(None, "bin bags")
    lists.add(alice, "hair gel")
    lists.add(bob, "socks")
    assert [i.name for i in lists.items(None)] == ["bin bags"]
    assert [i.name for i in lists.items(alice)] == ["hair gel"]
    assert lists.remove(alice, lists.items(bob)[0].id) is None
    assert [i.name for i in lists.items(bob)] == ["socks"]  # alice cannot take bob's things off


def test_ticked_items_are_not_read_and_come_back_when_added_again(lists: ShoppingLists):
    item, _ = lists.add(None, "bread", 2)
    assert lists.tick(None, item.id)
    assert lists.items(None) == []
    assert [i.ticked for i in lists.items(None, ticked=True)] == [True]
    again, new = lists.add(None, "bread")
    assert not new and again.id == item.id and again.quantity == 1 and not again.ticked


def test_removing_part_of_an_item_leaves_the_rest(lists: ShoppingLists):
    item, _ = lists.add(None, "eggs", 6)
    left = lists.remove(None, item.id, 2)
    assert left is not None and left.quantity == 4
    assert lists.remove(None, item.id) is None
    assert lists.items(None) == []


def test_clear_counts_what_was_left_to_buy(lists: ShoppingLists):
    for name in ("apples", "bread", "cheese"):
        lists.add(None, name)
    lists.tick(None, lists.items(None)[0].id)
    assert lists.clear(None) == 2
    assert lists.items(None, ticked=True) == []


def test_empty_and_overlong_names_are_refused(lists: ShoppingLists):
    for bad in ("", "   ", "the", "x" * 201):
        with pytest.raises(ValueError):
            lists.add(None, bad)
    assert lists.items(None) == []


def test_a_full_list_refuses_a_new_item_but_still_merges(db: Database, lists: ShoppingLists):
    with db.transaction() as tx:
        tx.executemany(
            "INSERT INTO list_items(user_id, name, key) VALUES (NULL, ?, ?)",
            [(f"thing {n}", f"thing {n}") for n in range(LIST_LIMIT)],
        )
    with pytest.raises(ListFull):
        lists.add(None, "one too many")
    item, new = lists.add(None, "thing 7", 3)
    assert not new and item.quantity == 3
    assert len(lists.items(None)) == LIST_LIMIT


def test_a_failed_write_leaves_the_list_as_it_was(db: Database, lists: ShoppingLists):
    lists.add(None, "milk")
    with pytest.raises(RuntimeError), db.transaction():
        lists.add(None, "milk", 4)
        lists.add(None, "tea")
        raise RuntimeError("the turn failed after the writes")
    assert [(i.name, i.quantity) for i in lists.items(None)] == [("milk", 1)]


def test_forgetting_a_member_erases_their_own_list_not_the_households(db: Database, lists: ShoppingLists):
    alice = db.user_id("alice")
    lists.add(alice, "hair gel")
    lists.add(None, "bin bags")
    Orders(db, "alice").forget()
    assert lists.items(alice) == []
    assert [i.name for i in lists.items(None)] == ["bin bags"]


@pytest.mark.sqlite_only
def test_a_database_of_the_first_schema_is_migrated(tmp_path: Path):
    folder = tmp_path / "old"
    folder.mkdir()
    old = sqlite3.connect(folder / Database.FILENAME)
    old.executescript(SCHEMA)
    old.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    old.execute("INSERT INTO users(name) VALUES ('me')")
    old.commit()
    old.close()
    db = Database(folder)
    try:
        assert db.meta("schema_version") == str(SCHEMA_VERSION)
        assert ShoppingLists(db).add(None, "milk")[1]
        assert db.query("SELECT name FROM users")[0][0] == "me"  # nothing else touched
    finally:
        db.close()
    again = Database(folder)  # opening it again migrates nothing twice
    try:
        assert [i.name for i in ShoppingLists(again).items(None)] == ["milk"]
    finally:
        again.close()


def test_a_damaged_list_row_is_a_store_error_not_a_crash(db: Database, lists: ShoppingLists):
    with pytest.raises(StoreError), db.transaction() as tx:
        tx.execute("INSERT INTO list_items(user_id, name, key, quantity) VALUES (NULL, 'x', 'x', 0)")
