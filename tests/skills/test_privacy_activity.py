"""'What did the recipes skill see?' and 'what did skills do today?', answered from the access log."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.nlu import create_engine, load_training_data
from assistant.nlu.parse import Entity
from assistant.sdk import Context, Conversation, Request, ShopInfo
from assistant.skills.access_log import AccessLog, AccessLogReader
from assistant.store import Database
from skills.privacy import PrivacySkill

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def log(tmp_path):
    log = AccessLog(Database(tmp_path))
    log.record("recipes", "catalog", "search", "searched the catalogue for 'flour': 3 products")
    log.record("recipes", "cart", "add", "added 2 items to the basket (Free Range Eggs)")
    log.record("deals", "profile", "address", "read your delivery address")
    yield log


def _ask(log: AccessLog, text: str, skill: str | None = None) -> str:
    shop = ShopInfo("GBP", True, None, "1 High Street", 1, 20, 3)
    ctx = Context(
        "privacy",
        PrivacySkill.permissions,
        {"access_log": AccessLogReader(log)},
        Conversation(),
        {},
        shop,
        [("recipes", "add a recipe's ingredients")],
    )
    start = text.find(skill) if skill else -1
    entities = (Entity("skill", skill, start, start + len(skill)),) if skill else ()
    reply = PrivacySkill(PrivacySkill.Settings()).activity(ctx, Request("skill_activity", text, 1.0, entities))
    return reply.speech


def test_what_one_skill_saw(log):
    speech = _ask(log, "what did the recipes skill see", "recipes")
    assert "recipes skill used your data 2 times" in speech
    assert "searched the catalogue for 'flour'" in speech and "added 2 items" in speech
    assert "delivery address" not in speech  # that was the deals skill


def test_what_skills_did_today(log):
    speech = _ask(log, "what did skills do today")
    assert speech.startswith("Today,")
    assert "recipes skill" in speech and "deals skill used your data 1 time: it read your delivery address" in speech


def test_a_near_name_is_understood_and_an_unknown_one_said_so(log):
    assert "recipes skill used your data" in _ask(log, "what did the recipe skill see", "recipe")
    assert _ask(log, "what did the weather skill see", "weather") == "I don't know a skill called weather."


def test_a_quiet_log_says_so(tmp_path):
    quiet = AccessLog(Database(tmp_path))
    assert "No add-on skill has used your data today" in _ask(quiet, "what did skills do today")
    assert _ask(quiet, "what did the recipes skill see", "recipes") == (
        "The recipes skill hasn't used any of your data in the last 30 days."
    )


@pytest.mark.slow
def test_the_questions_are_understood():
    engine = create_engine("embedded")
    engine.train(load_training_data(sorted(REPO.glob("skills/*/nlu.yml"))), Path(os.environ["ASSISTANT_MODEL_CACHE"]))
    parse = engine.parse("what has the baking skill looked at")
    assert parse.intent.name == "skill_activity"
    assert parse.entity("skill") is not None and parse.entity("skill").value == "baking"
    for text in ("what did skills do this week", "which skills have used my data", "what did the recipes skill see"):
        assert engine.parse(text).intent.name == "skill_activity", text
    assert engine.parse("delete my data").intent.name == "delete_my_data"
    assert engine.parse("what did i buy last week").intent.name == "order_history"
    engine.close()
