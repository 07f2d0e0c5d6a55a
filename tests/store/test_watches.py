"""Price watches in the store: a catalogue import that moves prices makes news once, for the right member."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from assistant.store import Catalog, Database, Orders
from assistant.store.watches import MAX_WATCHES, PriceWatches, TooManyWatches


@pytest.fixture
def db(shop: Database) -> Database:
    return shop


def reprice(db: Database, tmp_path: Path, prices: dict[str, float]) -> Path:
    """The shop's catalogue as a file with some prices changed, as a shop would export it."""
    path = tmp_path / "catalogue.csv"
    rows = db.query("SELECT * FROM products")
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["sku", "name", "brand", "category", "size", "price", "description"])
        for r in rows:
            price = prices.get(r["sku"], r["price_pence"] / 100)
            out.writerow([r["sku"], r["name"], r["brand"], r["category"], r["size"], f"{price:.2f}", r["description"]])
    return path


def test_a_price_crossing_under_the_threshold_is_news_once(db: Database, tmp_path: Path):
    catalog = Catalog(db)
    beans = catalog.by_sku("GRO-0073")  # Lavazza Qualità Rossa, 14.50
    me = PriceWatches(db, db.user_id("me"))
    me.add("lavazza", [beans], 1000)
    report = catalog.import_file(reprice(db, tmp_path, {"GRO-0073": 12.00}))
    assert report.price_changes == 1 and report.price_news == 0  # cheaper, not under ten
    report = catalog.import_file(reprice(db, tmp_path, {"GRO-0073": 9.50}))
    assert report.price_news == 1
    news = me.unsaid()
    assert [(n.product.sku, n.old_pence, n.new_pence, n.below_pence) for n in news] == [("GRO-0073", 1200, 950, 1000)]
    assert me.unsaid() == []  # said once
    report = catalog.import_file(reprice(db, tmp_path, {"GRO-0073": 9.00}))
    assert report.price_news == 0  # still under: it did not cross again


def test_an_any_drop_watch_hears_of_every_fall_and_not_of_a_rise(db: Database, tmp_path: Path):
    catalog = Catalog(db)
    milk = catalog.by_sku("GRO-0001")
    me = PriceWatches(db, db.user_id("me"))
    me.add("oat milk", [milk], None)
    assert catalog.import_file(reprice(db, tmp_path, {"GRO-0001": 2.50})).price_news == 0
    assert catalog.import_file(reprice(db, tmp_path, {"GRO-0001": 1.90})).price_news == 1
    assert [n.new_pence for n in me.unsaid()] == [190]


def test_one_piece_of_news_per_watch_for_its_cheapest_product(db: Database, tmp_path: Path):
    catalog = Catalog(db)
    lavazza = catalog.search("", brand="lavazza", limit=50)
    me = PriceWatches(db, db.user_id("me"))
    me.add("lavazza", lavazza, None)
    cheaper = {p.sku: p.price_pence / 100 - 1 for p in lavazza}
    assert catalog.import_file(reprice(db, tmp_path, cheaper)).price_news == 1
    (news,) = me.unsaid()
    assert news.new_pence == min(p.price_pence for p in lavazza) - 100


def test_news_is_for_the_member_who_asked(db: Database, tmp_path: Path):
    catalog = Catalog(db)
    milk = catalog.by_sku("GRO-0001")
    alice, bob = PriceWatches(db, db.user_id("alice")), PriceWatches(db, db.user_id("bob"))
    alice.add("oat milk", [milk], None)
    catalog.import_file(reprice(db, tmp_path, {"GRO-0001": 1.00}))
    assert bob.unsaid() == [] and len(alice.unsaid()) == 1
    assert not bob.remove(alice.watches()[0].id)  # nor can bob remove alice's watch
    assert len(alice.watches()) == 1


def test_a_member_holds_a_bounded_number_of_watches(db: Database):
    milk = Catalog(db).by_sku("GRO-0001")
    me = PriceWatches(db, db.user_id("me"))
    for _ in range(MAX_WATCHES):
        me.add("oat milk", [milk], None)
    with pytest.raises(TooManyWatches):
        me.add("oat milk", [milk], None)


def test_forgetting_a_member_erases_their_watches_and_news(db: Database, tmp_path: Path):
    catalog = Catalog(db)
    me = PriceWatches(db, db.user_id("me"))
    me.add("oat milk", [catalog.by_sku("GRO-0001")], None)
    catalog.import_file(reprice(db, tmp_path, {"GRO-0001": 1.00}))
    Orders(db, "me").forget()
    assert me.watches() == [] and me.unsaid() == []


def test_a_failed_import_makes_no_news(db: Database, tmp_path: Path):
    catalog = Catalog(db)
    me = PriceWatches(db, db.user_id("me"))
    me.add("oat milk", [catalog.by_sku("GRO-0001")], None)
    path = reprice(db, tmp_path, {"GRO-0001": 1.00})
    with pytest.raises(RuntimeError), db.transaction():  # the import is one transaction with its news
        catalog.import_file(path)
        raise RuntimeError("the disk went away after the import")
    assert me.unsaid() == [] and catalog.by_sku("GRO-0001").price_pence == 210
