import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.config import ShopSettings
from assistant.purchase import PurchaseGate
from assistant.store import Catalog, Database, Orders

CSV = """sku,name,brand,category,size,price,description
G1,Barista Oat Milk,Oatly,groceries,1 litre,2.10,plant milk
E1,AA Batteries,Duracell,electronics,8 pack,6.50,alkaline battery
"""


@pytest.fixture
def shop(tmp_path: Path):
    (tmp_path / "shop.csv").write_text(CSV)
    db = Database(tmp_path / "data")
    Catalog(db).import_file(tmp_path / "shop.csv")
    return db, Orders(db, "me"), Catalog(db)


def test_basket_adds_up_and_removes(shop):
    _, orders, catalog = shop
    milk, batteries = catalog.by_sku("G1"), catalog.by_sku("E1")
    assert orders.add(milk.id, 2) == 2
    assert orders.add(milk.id) == 3
    orders.add(batteries.id)
    assert sum(line.total_pence for line in orders.cart()) == 3 * 210 + 650
    assert orders.remove(milk.id, 1) == 2
    assert orders.remove(milk.id) == 0
    assert [line.product.sku for line in orders.cart()] == ["E1"]


def test_every_basket_write_moves_its_version_on(shop):
    db, orders, catalog = shop
    milk = catalog.by_sku("G1").id
    versions = [orders.basket_version()]
    for write in (lambda: orders.add(milk, 2), lambda: orders.remove(milk, 1), orders.clear_cart):
        write()
        versions.append(orders.basket_version())
    assert versions == sorted(set(versions)) and len(versions) == 4
    Orders(db, "someone else").add(milk)
    assert orders.basket_version() == versions[-1]  # another user's basket is not this one


def test_forget_erases_everything_of_the_user(shop):
    db, orders, catalog = shop
    gate = PurchaseGate(db, ShopSettings())
    orders.add(catalog.by_sku("G1").id)
    assert gate.place(gate.quote(orders.user_id, "kitchen", None).token, orders.user_id, "kitchen").placed
    orders.add(catalog.by_sku("E1").id)
    orders.forget()
    assert orders.history() == [] and orders.cart() == []
    for table in ("orders", "order_lines", "cart_items", "quotes", "suggestions", "transcripts"):
        assert db.query(f"SELECT count(*) FROM {table}")[0][0] == 0
    assert catalog.count() == 2


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from assistant.config import ShopSettings
    from assistant.purchase import PurchaseGate
    from assistant.store import Database
    db = Database(sys.argv[1]); gate = PurchaseGate(db, ShopSettings()); me = db.user_id("me")
    kill_at = int(sys.argv[2]); seen = [0]
    conn = db.conn; execute = conn.execute
    def trace(sql, params=()):
        seen[0] += 1
        if seen[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return execute(sql, params)
    conn.execute = trace  # every statement of this thread, BEGIN and COMMIT among them
    token = open(sys.argv[3]).read().strip()
    gate.place(token, me, "kitchen")   # the user's "yes"
    gate.place(token, me, "kitchen")   # and a second "yes"
    print("finished")
    """
)


@pytest.mark.slow
def test_killing_checkout_at_every_step_never_orders_twice(tmp_path: Path):
    """SIGKILL the process at each SQL statement of placing an order: 0 or 1 order, never 2."""
    (tmp_path / "shop.csv").write_text(CSV)
    finished = False
    kill_at = 1
    while not finished:
        data = tmp_path / f"run{kill_at}"
        db = Database(data)
        Catalog(db).import_file(tmp_path / "shop.csv")
        orders = Orders(db, "me")
        orders.add(Catalog(db).by_sku("G1").id, 2)
        quote = PurchaseGate(db, ShopSettings()).quote(orders.user_id, "kitchen", None)
        (tmp_path / "token").write_text(quote.token)
        db.close()
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(data), str(kill_at), str(tmp_path / "token")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        finished = proc.returncode == 0
        if not finished:
            assert proc.returncode == -signal.SIGKILL, proc.stderr
        # after the crash the user says yes again: still at most one order
        db = Database(data)
        PurchaseGate(db, ShopSettings()).place((tmp_path / "token").read_text(), db.user_id("me"), "kitchen")
        count = db.query("SELECT count(*) FROM orders WHERE token = ?", (quote.token,))[0][0]
        assert count == 1, f"killed at statement {kill_at}: {count} orders"
        lines = db.query(
            "SELECT count(*) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.token = ?", (quote.token,)
        )[0][0]
        assert lines == 1
        assert Orders(db, "me").cart() == []  # the 2 units added: ordered once, none left over
        db.close()
        kill_at += 1
        assert kill_at < 200
    assert kill_at > 5  # the kill really landed inside the checkout several times
