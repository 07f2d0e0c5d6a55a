"""One App, many conversations: households, devices, purchase codes, and turns that tell the truth."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from assistant.app import App
from assistant.config import load_config
from assistant.principal import Door, Principal
from assistant.sdk import Context, Reply, Request, Skill, intent, say
from assistant.skills.registry import LoadedSkill, discover

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.shared_store  # one App (and store) for the module's conversations


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with App.build(load_config(REPO / "config.yml"), data_dir=tmp_path_factory.mktemp("hub")) as app:
        for name in ("alice", "bob", "carol", "dave"):
            app.household.add(name)
        yield app


def _shop(app: App, user: str, product: str) -> tuple[list[str], int]:
    conv = app.conversation(user=user)
    replies = [conv.handle(text).reply for text in (f"add {product} to my basket", "check out", "yes")]
    return replies, len(app.account(user).history())


def test_many_conversations_at_once_keep_their_own_baskets_and_orders(app: App):
    users = ["alice", "bob", "carol", "dave"]
    products = ["bananas", "oat milk", "coffee beans", "batteries"]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda up: _shop(app, *up), zip(users, products, strict=True)))
    for (replies, orders), user in zip(results, users, strict=True):
        assert re.search(r"Order \d+ is placed", replies[-1]), (user, replies)
        assert orders == 1, user
        assert app.account(user).basket() == []
    bought = {user: {ln.product.id for ln in app.account(user).history()[0].lines} for user in users}
    assert len(set().union(*bought.values())) == sum(len(b) for b in bought.values())  # no one got another's items


def test_a_household_device_asks_whos_ordering_and_then_the_purchase_code(app: App):
    app.household.set_code("bob", "4321")
    conv = app.conversation(Principal(Door.HUB, "kitchen-pairing", "kitchen", None))
    assert "Who's ordering?" in conv.handle("add bananas to my basket").reply
    reply = conv.handle("it's bob").reply
    assert "Added" in reply
    before = len(app.account("bob").history())
    assert "Who's ordering?" in conv.handle("check out").reply  # "bob" held only for the question it answered
    assert "Shall I place the order?" in conv.handle("bob").reply
    assert "purchase code" in conv.handle("yes").reply
    assert "isn't right" in conv.handle("one one one one").reply
    assert re.search(r"Order \d+ is placed", conv.handle("four three two one").reply)
    assert len(app.account("bob").history()) == before + 1
    assert app.account("alice").basket() == []  # bob's basket, not anyone else's


def test_three_wrong_codes_lock_buying(app: App):
    app.household.set_code("carol", "2468")
    conv = app.conversation(user="carol")
    before = len(app.account("carol").history())
    conv.handle("add bananas to my basket")
    conv.handle("check out")
    conv.handle("yes")
    conv.handle("one two three four")
    conv.handle("one two three five")
    assert "locked" in conv.handle("one two three six").reply
    conv.handle("check out")
    reply = conv.handle("yes").reply
    assert "locked" in reply
    assert "2468" not in reply
    # even the right code does not buy while locked
    assert len(app.account("carol").history()) == before


def test_a_device_of_a_user_speaks_for_that_user(app: App):
    conv = app.conversation(Principal(Door.HUB, "dave-phone-pairing", "dave-phone", "dave"))
    conv.handle("add oat milk to my basket")
    assert app.account("dave").basket()


class SlowCart(Skill):
    """Adds to the basket, then takes longer than the skill timeout."""

    name = "cart"
    permissions = frozenset({"catalog.read", "cart.write"})
    nlu = None

    @intent("add_to_cart")
    def add(self, ctx: Context, request: Request) -> Reply:
        product = ctx.catalog.search("bananas", limit=1)[0]
        ctx.cart.add(product, 1)
        time.sleep(1.5)
        return say("Added bananas.")


def test_a_skill_that_misses_its_deadline_changes_nothing(tmp_path):
    config = load_config(REPO / "config.yml")
    config.dialogue.skill_timeout = 0.5
    installed, problems = discover(config.skills)
    real_cart = next(s for s in installed if s.name == "cart")
    slow = LoadedSkill("cart", SlowCart(SlowCart.Settings()), SlowCart, "tests", True, real_cart.nlu_file,
                       SlowCart.intent_handlers())  # fmt: skip
    skills = [s for s in installed if s.name != "cart"] + [slow]
    with App.build(config, data_dir=tmp_path, skills=(skills, problems)) as app:
        reply = app.conversation().handle("add bananas to my basket").reply
        assert "couldn't do that" in reply
        time.sleep(2.0)  # the handler has finished by now
        assert app.account().basket() == []  # what it said is what happened


def test_concurrent_turns_of_one_conversation_run_in_order(app: App):
    conv = app.conversation(user="alice", id="alice-two-devices")
    errors: list[BaseException] = []

    def talk():
        try:
            for _ in range(3):
                conv.handle("what's in my basket")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=talk) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_a_household_door_names_the_member_again_and_wants_the_code_to_read_or_erase(app: App):
    app.household.set_code("alice", "1357")
    conv = app.conversation(Principal(Door.HUB, "hall-pairing", "hall", None))
    conv.handle("add bananas to my basket")
    assert "Added" in conv.handle("alice").reply
    assert "Who's ordering?" in conv.handle("what did I buy last time").reply
    assert "purchase code for alice" in conv.handle("alice").reply
    assert "isn't right" in conv.handle("one one one one").reply
    assert "purchase code" not in conv.handle("one three five seven").reply  # the history, read out
    assert "Who's ordering?" in conv.handle("delete my data").reply
    assert "purchase code for alice" in conv.handle("alice").reply


def test_a_member_without_a_code_cannot_be_bought_for_from_a_shared_door(app: App):
    app.household.add("erin", exist_ok=True)
    conv = app.conversation(Principal(Door.HUB, "hall-pairing", "hall", None))
    conv.handle("add bananas to my basket")
    conv.handle("erin")
    conv.handle("check out")
    conv.handle("erin")
    reply = conv.handle("yes").reply
    assert "erin has no purchase code" in reply and "assistant users set-code erin" in reply
    assert app.account("erin").history() == []


def test_a_door_nobody_named_hears_no_members_names(app: App):
    conv = app.conversation(Principal(Door.WYOMING, "conn:x", "an unnamed local client", None, allowed=False))
    reply = conv.handle("add bananas to my basket").reply
    assert "Who's ordering?" in reply
    assert not any(name in reply for name in ("alice", "bob", "carol", "dave", "default"))


def test_wrong_codes_lock_buying_at_that_door_only(app: App):
    app.household.set_code("dave", "8642")
    kitchen = app.conversation(Principal(Door.HUB, "kitchen-2", "kitchen", None))
    kitchen.handle("what did I buy last time")
    kitchen.handle("dave")
    for wrong in ("one one one one", "two two two two", "three three three three"):
        reply = kitchen.handle(wrong).reply
    assert "locked here" in reply
    phone = app.conversation(Principal(Door.HUB, "dave-phone-2", "dave-phone", "dave"))
    phone.handle("add oat milk to my basket")
    phone.handle("check out")
    assert "purchase code" in phone.handle("yes").reply
    assert re.search(r"Order \d+ is placed", phone.handle("eight six four two").reply)
