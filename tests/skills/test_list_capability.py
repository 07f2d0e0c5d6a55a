"""A third-party skill in its sandbox puts things on the shopping list through the SDK, and it is on the record."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.nlu.parse import Entity
from assistant.sdk import Conversation, Request, ShopInfo
from assistant.skills.access_log import AccessLog, logged_capabilities
from assistant.skills.capabilities import CatalogAccess, ListReader, ListWriter
from assistant.skills.isolation import SkillWorker
from assistant.skills.registry import LoadedSkill, discover
from assistant.store import Catalog, Database, ensure_demo
from assistant.store.lists import ShoppingLists
from tests.sandboxed import needs_sandbox

SHOP = ShopInfo("GBP", True, None, "Home", 1, 10, 3)


@pytest.fixture
def recipes(with_skills: Path) -> LoadedSkill:
    return {s.name: s for s in discover()[0]}["recipes"]


@needs_sandbox
def test_the_recipes_skill_puts_ingredients_on_the_household_list(recipes: LoadedSkill, tmp_path: Path):
    db = Database(tmp_path / "data")
    ensure_demo(db, "me")
    lists = ShoppingLists(db)
    lists.add(None, "milk", 2)  # already wanted: pancakes' milk merges into it
    catalog = CatalogAccess(Catalog(db))
    access = AccessLog(db)
    me = db.user_id("me")
    caps = logged_capabilities(
        {"catalog": catalog, "lists": ListReader(lists, me), "list_writer": ListWriter(lists, me)},
        "recipes",
        access,
        "me",
    )
    worker = SkillWorker(recipes, tmp_path / "data", catalog=catalog)
    request = Request(
        "list_recipe", "put what i need for pancakes on the list", 1.0, (Entity("dish", "pancakes", 0, 1),)
    )
    try:
        with db.transaction():  # as the dispatcher runs a worker's call: its writes commit with the turn
            reply = worker.call("list_recipe", request, None, Conversation(), SHOP, [], caps, 10.0)
    finally:
        worker.stop()
    try:
        assert reply.speech.startswith("For pancakes I've put pancake mix, eggs, milk")
        assert {i.name: i.quantity for i in lists.items(None)} == {
            "milk": 2, "pancake mix": 1, "eggs": 1, "maple syrup": 1, "lemons": 1,
        }  # fmt: skip
        assert lists.items(me) == []  # the household's list, not the speaker's own
        told = [e.summary for e in AccessLog(db).entries("recipes")]
        assert "put pancake mix on the household's list" in told and len(told) == 5
    finally:
        db.close()
