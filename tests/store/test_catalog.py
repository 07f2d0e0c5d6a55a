from pathlib import Path

import pytest

from assistant.errors import StoreError
from assistant.store import Catalog, Database

CSV = """sku,name,brand,category,size,price,description
G1,Barista Oat Milk,Oatly,groceries,1 litre,2.10,dairy-free plant milk for coffee
G2,Oat Drink,Alpro,groceries,1 litre,1.80,plant based oat milk
G3,Whole Milk,Shopper's Own,groceries,2 pints,1.45,fresh cows milk
E1,AA Batteries,Duracell,electronics,8 pack,6.50,alkaline battery
E2,AA Battery,Energizer,electronics,4 pack,3.20,alkaline batteries
"""


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    path = tmp_path / "shop.csv"
    path.write_text(CSV)
    cat = Catalog(Database(tmp_path / "data"))
    report = cat.import_file(path)
    assert (report.created, report.updated, report.skipped) == (5, 0, 0)
    return cat


def names(products):
    return [p.sku for p in products]


def test_plural_and_singular_match(catalog):
    assert set(names(catalog.search("batteries"))) == {"E1", "E2"}
    assert set(names(catalog.search("battery"))) == {"E1", "E2"}


def test_brand_and_price_filters(catalog):
    assert names(catalog.search("oat milk", brand="alpro")) == ["G2"]
    assert names(catalog.search("milk", max_price=1.5)) == ["G3"]
    assert set(names(catalog.search("batteries", min_price=5))) == {"E1"}


def test_name_match_ranks_first(catalog):
    assert names(catalog.search("oat milk"))[0] in {"G1", "G2"}
    assert "G3" not in names(catalog.search("oat milk"))[:2]


def test_misheard_name_still_finds_close_product(catalog):
    assert names(catalog.search("durasell"))[:1] == ["E1"]


def test_nothing_for_unknown_product(catalog):
    assert catalog.search("unicorn saddle") == []
    assert catalog.search("") == []


def test_bad_rows_are_reported_by_line_and_skipped(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        CSV + "X1,Thing,,toys,1,2.00,\nX2,Other,,groceries,1,free,\nX3,,,groceries,1,1.00,\nG1,Dup,,groceries,1,1.00,\n"
    )
    cat = Catalog(Database(tmp_path / "data"))
    report = cat.import_file(path)
    problems = report.problems
    assert report.created == 5 and report.skipped == 4
    assert [p.split(": ", 1)[0] for p in problems] == [f"{path}:{n}" for n in (7, 8, 9, 10)]
    assert (
        "category 'toys'" in problems[0]
        and "price 'free'" in problems[1]
        and "missing name" in problems[2]
        and "duplicate sku" in problems[3]
    )


def test_json_import_and_unreadable_file(tmp_path):
    path = tmp_path / "shop.json"
    path.write_text('[{"sku": "J1", "name": "Tea Bags", "brand": "PG Tips", "category": "groceries", "price": 3.5}]')
    cat = Catalog(Database(tmp_path / "data"))
    assert cat.import_file(path).created == 1
    assert cat.search("tea")[0].title == "PG Tips Tea Bags"
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(StoreError, match="x.json"):
        cat.import_file(tmp_path / "x.json")


def test_import_is_all_or_nothing(tmp_path, monkeypatch):
    path = tmp_path / "shop.csv"
    path.write_text(CSV)
    db = Database(tmp_path / "data")
    cat = Catalog(db)
    calls = {"n": 0}
    real = db.conn

    class Failing:
        def __getattr__(self, name):
            return getattr(real, name)

        def execute(self, sql, *args):
            if sql.startswith("INSERT INTO products"):
                calls["n"] += 1
                if calls["n"] == 3:
                    raise RuntimeError("disk full")
            return real.execute(sql, *args)

    monkeypatch.setattr(db._local, "conn", Failing())  # this thread's connection
    with pytest.raises(RuntimeError):
        cat.import_file(path)
    monkeypatch.undo()
    assert cat.count() == 0


def test_unwritable_or_corrupt_data_dir_names_the_path(tmp_path):
    bad = tmp_path / "file-not-dir"
    bad.write_text("x")
    with pytest.raises(StoreError, match=str(bad)):
        Database(bad)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / Database.FILENAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="damaged .*move it away"):
        Database(corrupt)
