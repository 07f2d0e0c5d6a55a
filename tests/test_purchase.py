import atexit
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from assistant.config import ShopSettings
from assistant.purchase import Outcome, PurchaseGate, Refusal, Refused
from assistant.sdk import confirm_purchase
from assistant.store import Catalog, Database, Line, Orders, Quote, ensure_demo

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path: Path):
    db = Database(tmp_path / "data")
    ensure_demo(db, "me")
    yield db
    db.close()


def sku(db: Database, code: str) -> int:
    return Catalog(db).by_sku(code).id


def ordered_units(db: Database, user_id: int) -> int:
    """Units in orders the user placed through checkout (the demo history has no tokens)."""
    row = db.query(
        "SELECT coalesce(sum(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id "
        "WHERE o.user_id = ? AND o.token IS NOT NULL",
        (user_id,),
    )
    return int(row[0][0])


def test_basket_is_quoted_read_and_placed_once(store):
    gate = PurchaseGate(store, ShopSettings())
    me = store.user_id("me")
    orders = Orders(store, "me")
    orders.add(sku(store, "GRO-0001"), 2)  # 2.10 each
    orders.add(sku(store, "GRO-0002"))  # 1.95
    quote = gate.quote(me, "kitchen", None)
    assert isinstance(quote, Quote)
    assert (
        gate.question(quote)
        == "That's three items for 6 pounds 15, delivered to Home tomorrow. Shall I place the order?"
    )
    first = gate.place(quote.token, me, "kitchen")
    again = gate.place(quote.token, me, "kitchen")
    assert first.outcome is Outcome.PLACED and first.speech.startswith(f"Done. Order {first.order_id} is placed")
    assert again.outcome is Outcome.ALREADY_PLACED and again.order_id == first.order_id
    assert ordered_units(store, me) == 3 and orders.cart() == []


def test_over_the_spending_cap_is_refused_with_the_real_total(store):
    gate = PurchaseGate(store, ShopSettings(spending_cap=50))
    me = store.user_id("me")
    Orders(store, "me").add(sku(store, "ELE-0087"), 10)  # ten phones at 450
    refusal = gate.quote(me, "kitchen", None)
    assert isinstance(refusal, Refusal) and refusal.reason is Refused.OVER_CAP
    assert refusal.speech == (
        "That comes to 4,500 pounds, which is over your spending cap of 50 pounds, so I can't place it. "
        "You could remove something from your basket."
    )
    assert store.query("SELECT count(*) FROM quotes")[0][0] == 0


def test_buying_switched_off_is_refused(store):
    gate = PurchaseGate(store, ShopSettings(buying_enabled=False))
    refusal = gate.quote(store.user_id("me"), "kitchen", [(sku(store, "GRO-0001"), 1)])
    assert isinstance(refusal, Refusal) and refusal.reason is Refused.BUYING_OFF
    assert "switched off" in refusal.speech


def test_a_skills_forged_price_is_ignored(store):
    """A skill shows 'one item for 99p' for a 450 pound phone: the gate reads and charges the real price."""
    me = store.user_id("me")
    phone = Catalog(store).by_sku("ELE-0087")
    proposed = confirm_purchase([Line(replace(phone, price_pence=99), 1)], "One item for 99p.").purchase.lines
    capped = PurchaseGate(store, ShopSettings(spending_cap=50)).quote(me, "kitchen", proposed)
    assert isinstance(capped, Refusal) and "450 pounds" in capped.speech
    gate = PurchaseGate(store, ShopSettings())
    quote = gate.quote(me, "kitchen", proposed)
    assert quote.total_pence == 45000 and "for 450 pounds" in gate.question(quote)
    placed = gate.place(quote.token, me, "kitchen")
    assert Orders(store, "me").get(placed.order_id).total_pence == 45000
    assert gate.place("a-made-up-token", me, "kitchen").outcome is Outcome.UNKNOWN


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        ([(999_999, 1)], Refused.UNKNOWN_PRODUCT),
        ([(2**63, 1)], Refused.UNKNOWN_PRODUCT),  # beyond SQLite's integers: once an OverflowError
        ([(-(2**70), 1)], Refused.UNKNOWN_PRODUCT),
        ([("GRO-0001", 0)], Refused.BAD_QUANTITY),
        ([("GRO-0001", 51)], Refused.BAD_QUANTITY),
        ([("GRO-0001", 30), ("GRO-0001", 30)], Refused.BAD_QUANTITY),
        ([("GRO-0001", 1.5)], Refused.BAD_QUANTITY),
        ([], Refused.EMPTY),
    ],
)
def test_proposed_lines_the_store_cannot_price_are_refused(store, lines, reason):
    proposed = [(sku(store, p) if isinstance(p, str) else p, q) for p, q in lines]
    refusal = PurchaseGate(store, ShopSettings()).quote(store.user_id("me"), "kitchen", proposed)
    assert isinstance(refusal, Refusal) and refusal.reason is reason and refusal.speech


def test_token_is_bound_to_its_user_and_conversation(store):
    gate = PurchaseGate(store, ShopSettings())
    me, other = store.user_id("me"), store.user_id("someone else")
    quote = gate.quote(me, "kitchen", [(sku(store, "GRO-0001"), 1)])
    assert gate.place(quote.token, me, "bedroom").outcome is Outcome.UNKNOWN
    assert gate.place(quote.token, other, "kitchen").outcome is Outcome.UNKNOWN
    assert ordered_units(store, me) == ordered_units(store, other) == 0
    assert gate.place(quote.token, me, "kitchen").outcome is Outcome.PLACED


def test_expired_token_places_nothing(store):
    now = [1_800_000_000.0]
    gate = PurchaseGate(store, ShopSettings(), clock=lambda: now[0])
    me = store.user_id("me")
    quote = gate.quote(me, "kitchen", [(sku(store, "GRO-0001"), 1)])
    now[0] += 10 * 60 + 1
    result = gate.place(quote.token, me, "kitchen")
    assert result.outcome is Outcome.EXPIRED and "expired" in result.speech
    assert ordered_units(store, me) == 0


def test_declined_token_cannot_buy_later(store):
    gate = PurchaseGate(store, ShopSettings())
    me = store.user_id("me")
    Orders(store, "me").add(sku(store, "GRO-0001"))
    quote = gate.quote(me, "kitchen", None)
    assert gate.cancel(quote.token)
    result = gate.place(quote.token, me, "kitchen")
    assert result.outcome is Outcome.DECLINED and ordered_units(store, me) == 0
    assert not gate.cancel(quote.token)


def test_basket_changed_after_the_quote_orders_nothing(store):
    gate = PurchaseGate(store, ShopSettings())
    me = store.user_id("me")
    orders = Orders(store, "me")
    milk = sku(store, "GRO-0001")
    orders.add(milk, 2)
    quote = gate.quote(me, "kitchen", None)
    orders.add(sku(store, "GRO-0002"))  # another device adds while the question is asked
    result = gate.place(quote.token, me, "kitchen")
    assert result.outcome is Outcome.CHANGED and ordered_units(store, me) == 0
    assert sum(line.quantity for line in orders.cart()) == 3
    requote = gate.quote(me, "kitchen", None)
    assert requote.items == 3 and gate.place(requote.token, me, "kitchen").placed


def test_price_change_after_the_quote_orders_nothing(store):
    gate = PurchaseGate(store, ShopSettings())
    me = store.user_id("me")
    quote = gate.quote(me, "kitchen", [(sku(store, "GRO-0001"), 1)])
    with store.transaction() as tx:
        tx.execute("UPDATE products SET price_pence = 999 WHERE sku = 'GRO-0001'")
    assert gate.place(quote.token, me, "kitchen").outcome is Outcome.CHANGED
    with store.transaction() as tx:
        tx.execute("UPDATE products SET price_pence = 210 WHERE sku = 'GRO-0001'")
    assert gate.place(quote.token, me, "kitchen").outcome is Outcome.CHANGED  # the price came back; the quote does not
    assert ordered_units(store, me) == 0


def test_basket_ordered_from_another_device_is_not_ordered_twice(store):
    gate = PurchaseGate(store, ShopSettings())
    me = store.user_id("me")
    Orders(store, "me").add(sku(store, "GRO-0001"), 4)
    kitchen = gate.quote(me, "kitchen", None)
    bedroom = gate.quote(me, "bedroom", None)
    assert gate.place(kitchen.token, me, "kitchen").placed
    assert gate.place(bedroom.token, me, "bedroom").outcome is Outcome.CHANGED
    assert ordered_units(store, me) == 4
    again = gate.quote(me, "bedroom", None)
    assert isinstance(again, Refusal) and again.reason is Refused.EMPTY


def test_a_reorder_leaves_the_basket_alone(store):
    gate = PurchaseGate(store, ShopSettings())
    me = store.user_id("me")
    orders = Orders(store, "me")
    orders.add(sku(store, "GRO-0002"), 2)
    quote = gate.quote(me, "kitchen", [(sku(store, "GRO-0001"), 3)])
    assert gate.place(quote.token, me, "kitchen").placed
    assert [(ln.product.sku, ln.quantity) for ln in orders.cart()] == [("GRO-0002", 2)]


def test_conversations_of_one_user_in_threads_never_order_more_than_they_added(store):
    """The hub: eight conversations of one user at once in threads, each with its own connection."""
    gate = PurchaseGate(store, ShopSettings())
    me = store.user_id("me")
    milk = [p.id for p in Catalog(store).search("milk", limit=4)]
    units, placed = 6, []

    def device(n: int) -> None:
        orders = Orders(store, me)
        for i in range(units):
            orders.add(milk[(n + i) % len(milk)], 1)
            quote = gate.quote(me, f"device-{n}", None)
            time.sleep(0.001 * ((n + i) % 5))  # the yes comes a moment later; the others go on
            if not isinstance(quote, Refusal):
                placed.append(gate.place(quote.token, me, f"device-{n}").outcome)
        store.release_thread()

    threads = [threading.Thread(target=device, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    left = sum(line.quantity for line in Orders(store, me).cart())
    assert ordered_units(store, me) + left == 8 * units
    assert placed.count(Outcome.PLACED) >= 1
    assert set(placed) <= {Outcome.PLACED, Outcome.CHANGED}


WORKER = textwrap.dedent(
    """
    import json, random, sys, time
    from assistant.config import ShopSettings
    from assistant.purchase import Outcome, PurchaseGate, Refusal
    from assistant.store import Catalog, Database, Orders

    data_dir, device, units = sys.argv[1], sys.argv[2], int(sys.argv[3])
    db = Database(data_dir)
    gate = PurchaseGate(db, ShopSettings())
    orders = Orders(db, "me")
    products = [p.id for p in Catalog(db).search("milk", limit=4)]
    added, outcomes, rng = 0, [], random.Random(device)
    for i in range(units):
        orders.add(products[i % len(products)], 1)
        added += 1
        quote = gate.quote(orders.user_id, device, None)
        if isinstance(quote, Refusal):  # another device ordered it all already
            outcomes.append("refused")
            continue
        time.sleep(rng.uniform(0, 0.01))  # the user hears the question and says yes; other devices go on
        outcomes.append(gate.place(quote.token, orders.user_id, device).outcome.value)
    print(json.dumps({"added": added, "outcomes": outcomes}))
    """
)


@pytest.mark.parametrize("processes", [2, 8])
def test_devices_of_one_user_never_order_more_than_they_added(store, tmp_path, processes):
    """Each process adds units and checks out at once: ordered + left in the basket == added."""
    units = 6
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(store.data_dir), f"device-{n}", str(units)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]
    reports = []
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        reports.append(json.loads(out))
    me = store.user_id("me")
    added = sum(r["added"] for r in reports)
    left = sum(line.quantity for line in Orders(store, "me").cart())
    placed = sum(o == "placed" for r in reports for o in r["outcomes"])
    assert added == processes * units
    assert ordered_units(store, me) + left == added
    assert placed >= 1
    assert store.query("SELECT count(*) FROM orders WHERE user_id = ? AND token IS NOT NULL", (me,))[0][0] == placed


SMALL_SHOP = """sku,name,brand,category,size,price,description
A1,Oat Milk,Oatly,groceries,1 litre,2.10,plant milk
A2,Tea Bags,PG Tips,groceries,80 bags,3.00,tea
A3,AA Batteries,Duracell,electronics,8 pack,6.50,battery
"""


class Devices(RuleBasedStateMachine):
    """Two conversations of one user doing anything in any order: orders are only ever of quoted lines.

    (Conversations, expiry and declines have their own tests above; few rules let Hypothesis reach the
    interleavings that matter: with nine rules it missed a gate that ignored the basket version.)"""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        data = Path(self.tmp.name) / "data"
        data.mkdir()
        shutil.copy(self.template(), data / Database.FILENAME)
        self.db = Database(data)
        self.db.conn.execute("PRAGMA synchronous = OFF")  # durability has its own tests; this one is about logic
        self.gate = PurchaseGate(self.db, ShopSettings(spending_cap=60))
        self.me = self.db.user_id("me")
        self.orders = Orders(self.db, self.me)
        self.products = [p.id for p in Catalog(self.db).search("", category="groceries")] + [
            Catalog(self.db).by_sku("A3").id
        ]
        self.net_added = 0  # units put in the basket, less units taken out by hand
        self.from_basket = 0  # units ordered from the basket
        self.quotes: dict[str, Quote] = {}
        self.placed: dict[str, int] = {}  # token -> order id

    @staticmethod
    @functools.cache
    def template() -> Path:
        """A database with the small shop in it, made once and copied for each run (making one is 130 ms)."""
        folder = Path(tempfile.mkdtemp())
        atexit.register(shutil.rmtree, folder, True)
        (folder / "shop.csv").write_text(SMALL_SHOP)
        db = Database(folder / "data")
        Catalog(db).import_file(folder / "shop.csv")
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        return folder / "data" / Database.FILENAME

    def teardown(self) -> None:
        self.db.close()
        self.tmp.cleanup()

    @rule(product=st.integers(0, 2), quantity=st.integers(1, 3))
    def add(self, product: int, quantity: int) -> None:
        self.orders.add(self.products[product], quantity)
        self.net_added += quantity

    @rule(product=st.integers(0, 2), quantity=st.integers(1, 3))
    def remove(self, product: int, quantity: int) -> None:
        before = {ln.product.id: ln.quantity for ln in self.orders.cart()}.get(self.products[product], 0)
        left = self.orders.remove(self.products[product], quantity)
        self.net_added -= before - left

    @rule(conv=st.sampled_from(["kitchen", "car"]), reorder=st.none() | st.tuples(st.integers(0, 2), st.integers(1, 3)))
    def quote(self, conv: str, reorder: tuple[int, int] | None) -> None:
        lines = None if reorder is None else [(self.products[reorder[0]], reorder[1])]
        quote = self.gate.quote(self.me, conv, lines)
        if isinstance(quote, Quote):
            assert quote.total_pence <= 6000
            self.quotes[conv] = quote
        else:
            self.quotes.pop(conv, None)

    @rule(conv=st.sampled_from(["kitchen", "car"]))
    def yes(self, conv: str) -> None:
        quote = self.quotes.get(conv)
        if quote is None:
            return
        before = self.db.query("SELECT count(*) FROM orders")[0][0]
        result = self.gate.place(quote.token, self.me, conv)
        after = self.db.query("SELECT count(*) FROM orders")[0][0]
        if result.outcome is Outcome.PLACED:
            assert after == before + 1 and quote.token not in self.placed
            self.placed[quote.token] = result.order_id
            got = sorted((ln.product.id, ln.quantity, ln.product.price_pence) for ln in result.order.lines)
            assert got == sorted((ln.product.id, ln.quantity, ln.product.price_pence) for ln in quote.lines)
            assert result.order.total_pence == quote.total_pence
            if quote.basket_version is not None:
                self.from_basket += quote.items
        else:
            assert after == before
        if result.outcome is Outcome.CHANGED:
            self.quotes.pop(conv)  # the conversation prices it again and asks again
        if result.outcome is Outcome.ALREADY_PLACED:
            assert self.placed[quote.token] == result.order_id

    @rule(conv=st.sampled_from(["kitchen", "car"]))
    def no(self, conv: str) -> None:
        quote = self.quotes.pop(conv, None)
        if quote is not None and self.gate.cancel(quote.token):
            assert self.gate.place(quote.token, self.me, conv).outcome is Outcome.DECLINED

    @rule(pence=st.integers(100, 900))
    def price_change(self, pence: int) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE products SET price_pence = ? WHERE id = ?", (pence, self.products[0]))

    @invariant()
    def units_are_ordered_or_in_the_basket_never_both(self) -> None:
        in_basket = sum(ln.quantity for ln in self.orders.cart())
        assert in_basket + self.from_basket == self.net_added
        assert self.db.query("SELECT count(*) FROM orders")[0][0] == len(self.placed)


Devices.TestCase.settings = settings(max_examples=100, stateful_step_count=20, deadline=None)
# copies an SQLite file for each of its 100 runs; the gate's SQL runs on PostgreSQL in the tests above
test_devices_in_any_order = pytest.mark.sqlite_only(Devices.TestCase)
