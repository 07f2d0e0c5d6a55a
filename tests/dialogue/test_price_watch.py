"""Price watches by voice: set one, a catalogue import moves the price, the next conversation hears it once."""

from __future__ import annotations

from pathlib import Path

from assistant.app import App
from assistant.principal import Door, Principal
from assistant.store import Catalog
from assistant.testing import Chat
from tests.store.test_watches import reprice


def next_conversation(chat: Chat):
    return chat.app.conversation(user=chat.app.config.user)


def test_tell_me_when_lavazza_is_under_ten_pounds(chat: Chat, tmp_path: Path):
    reply = chat.say("tell me when lavazza is under ten pounds")
    assert chat.last.intent == "watch_price" and chat.last.skill == "price_watch"
    assert reply.startswith("Okay, I'll tell you when lavazza is under 10 pounds.")
    assert "cheapest" in reply and "pounds" in reply
    Catalog(chat.app.db).import_file(reprice(chat.app.db, tmp_path, {"GRO-0073": 9.50}))
    later = next_conversation(chat)
    reply = later.handle("hello").reply
    assert reply.startswith("By the way, Lavazza Qualità Rossa Coffee Beans is now 9 pounds 50, under your 10 pounds.")
    assert "9 pounds 50" not in later.handle("hello").reply  # said once
    assert "9 pounds 50" not in next_conversation(chat).handle("hello").reply
    reply = next_conversation(chat).handle("what did i miss").reply
    assert reply.startswith("Nothing new")


def test_let_me_know_if_oat_milk_goes_on_offer(chat: Chat, tmp_path: Path):
    reply = chat.say("let me know if oat milk goes on offer")
    assert reply.startswith("Okay, I'll tell you when oat milk goes down in price.")
    Catalog(chat.app.db).import_file(reprice(chat.app.db, tmp_path, {"GRO-0001": 1.50, "GRO-0003": 1.20}))
    reply = chat.say("what did i miss")  # asked in the same conversation: read out, and then not again
    assert chat.last.intent == "whats_new"
    assert reply == "Here's what you missed: Alpro Oat Drink is now 1 pound 20, down from 1 pound 80."
    assert "By the way" not in next_conversation(chat).handle("hello").reply


def test_more_news_than_two_waits_for_what_did_i_miss(chat: Chat, tmp_path: Path):
    for text in (
        "tell me when lavazza is under twelve pounds",
        "let me know if oat milk goes on offer",
        "let me know when batteries go on offer",
    ):
        chat.say(text)
    catalog = Catalog(chat.app.db)
    cheaper = {"GRO-0073": 11.00, "GRO-0001": 1.00}
    cheaper |= {p.sku: p.price_pence / 100 - 0.5 for p in catalog.search("batteries", limit=50)}
    catalog.import_file(reprice(chat.app.db, tmp_path, cheaper))
    later = next_conversation(chat)
    reply = later.handle("hello").reply
    assert reply.startswith("By the way, ") and "And 1 more: say what did I miss." in reply
    reply = later.handle("what did i miss?").reply
    assert reply.startswith("Here's what you missed:") and reply.count(" is now ") == 1


def test_a_watch_on_something_the_shop_does_not_sell(chat: Chat):
    reply = chat.say("tell me when unicorn saddles are under ten pounds")
    assert "couldn't find" in reply
    assert chat.app.db.query("SELECT count(*) FROM watches")[0][0] == 0


def test_a_household_device_asks_whose_watch_it_is(tmp_path: Path):
    from assistant.config import load_config

    with App.build(load_config(), data_dir=tmp_path / "data") as app:
        app.household.add("alice")
        app.household.set_device("kitchen", None)
        kitchen = app.conversation(Principal(Door.HUB, "kitchen-pairing", "kitchen", None))
        assert kitchen.handle("tell me when lavazza is under ten pounds").reply.startswith("Who's ordering?")
        assert kitchen.handle("alice").reply.startswith("Okay, I'll tell you when lavazza")
        alice = app.household.require("alice").id
        assert app.db.query("SELECT user_id FROM watches")[0][0] == alice


def test_watches_are_listed_and_stopped_by_voice(chat: Chat, tmp_path: Path):
    assert chat.say("what am i watching").startswith("You aren't watching any prices.")
    chat.say("tell me when lavazza is under ten pounds")
    chat.say("let me know if oat milk goes on offer")
    reply = chat.say("what am i watching")
    assert chat.last.intent == "list_watches"
    assert reply == "You're watching two prices: lavazza under 10 pounds and oat milk going down."
    reply = chat.say("stop watching lavazza")
    assert chat.last.intent == "stop_watch"
    assert reply == "Okay, I've stopped watching lavazza under 10 pounds."
    assert "You aren't watching bananas" in chat.say("stop watching bananas")
    Catalog(chat.app.db).import_file(reprice(chat.app.db, tmp_path, {"GRO-0073": 5.00}))
    assert "By the way" not in next_conversation(chat).handle("hello").reply  # a stopped watch says nothing
    assert chat.say("cancel all my alerts") == "Stop watching oat milk going down?"
    assert chat.app.db.query("SELECT count(*) FROM watches")[0][0] == 1  # nothing stopped before the yes
    assert chat.say("yes") == "Done: I've stopped one price watch."
    assert chat.app.db.query("SELECT count(*) FROM watches")[0][0] == 0


def test_a_hundred_and_first_watch_is_refused_in_words(chat: Chat):
    from assistant.store.watches import MAX_WATCHES, PriceWatches

    milk = Catalog(chat.app.db).by_sku("GRO-0001")
    watches = PriceWatches(chat.app.db, chat.conversation.member.id)
    for _ in range(MAX_WATCHES):
        watches.add("oat milk", [milk], None)
    reply = chat.say("tell me when lavazza is under ten pounds")
    assert reply.startswith("You're watching as many prices as I can keep.")
    assert len(watches.watches()) == MAX_WATCHES
