import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.errors import StoreError
from assistant.store import Catalog, Database

REPO = Path(__file__).resolve().parents[2]

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

        def executemany(self, sql, rows):
            if sql.startswith("INSERT INTO products"):
                rows = list(rows)
                calls["n"] += 1
                real.executemany(sql, rows[:2])  # two products written, then the disk fills
                raise RuntimeError("disk full")
            return real.executemany(sql, rows)

    monkeypatch.setattr(db._local, "conn", Failing())  # this thread's connection
    with pytest.raises(RuntimeError):
        cat.import_file(path)
    monkeypatch.undo()
    assert cat.count() == 0


@pytest.mark.sqlite_only
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


BAD = Path(__file__).resolve().parents[1] / "data" / "bad"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("catalog_empty.csv", "no products in the file"),
        ("catalog_headerless.csv", "the first line is not a header naming the columns"),
        ("catalog_deep.json", "nested too deeply"),
        ("catalog_latin1.csv", "not UTF-8 text (byte 0xe9"),
    ],
)
def test_unusable_catalogue_is_one_line_and_imports_nothing(tmp_path, name, problem):
    cat = Catalog(Database(tmp_path / "data"))
    with pytest.raises(StoreError) as err:
        cat.import_file(BAD / name)
    assert str(err.value).startswith(f"{BAD / name}: ") and problem in str(err.value)
    assert "\n" not in str(err.value) and cat.count() == 0


def test_json_fields_that_are_not_values_are_skipped_by_item(tmp_path):
    path = tmp_path / "shop.json"
    path.write_text(
        '{"products": [{"sku": "J1", "name": {"en": "Tea"}, "category": "groceries", "price": 3},'
        ' {"sku": "J2", "name": "Tea", "category": "groceries", "price": [3]},'
        ' {"sku": "J3", "name": "Coffee", "category": "groceries", "price": 4.5}]}'
    )
    report = Catalog(Database(tmp_path / "data")).import_file(path)
    assert report.created == 1
    assert [p.split(": ", 1)[1] for p in report.problems] == [
        "name is a dict, not a value",
        "price is a list, not a value",
    ]


def test_prices_below_a_penny_negative_or_absurd_are_skipped_by_line(tmp_path):
    cat = Catalog(Database(tmp_path / "data"))
    report = cat.import_file(BAD / "catalog_prices.csv")
    assert (report.created, report.skipped) == (1, 4)
    assert [p.split(": ", 1)[1] for p in report.problems] == [
        "price '0.001' is less than the smallest coin (0.01)",
        "price '-1.20' must be above 0",
        "price 'inf' is not an amount of money",
        "price '1e400' is not an amount of money",
    ]
    assert [p.sku for p in cat.search("bread")] == ["P5"]


def test_reimport_reports_which_products_it_replaced(tmp_path):
    path = tmp_path / "shop.csv"
    path.write_text(CSV)
    cat = Catalog(Database(tmp_path / "data"))
    cat.import_file(path)
    path.write_text(CSV.replace("2.10", "2.30") + "G9,Rice,,groceries,1 kg,1.10,long grain\n")
    report = cat.import_file(path)
    assert (report.created, report.updated, report.unchanged, report.skipped) == (1, 1, 4, 0)
    assert report.updated_skus == ("G1",) and cat.by_sku("G1").price_pence == 230


def cli_import(tmp_path: Path, file: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "ASSISTANT_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", "catalog", "import", str(file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_import_of_an_empty_file_warns_and_fails(tmp_path):
    out = cli_import(tmp_path, BAD / "catalog_empty.csv")
    assert out.returncode != 0
    assert "catalog_empty.csv: no products in the file" in out.stderr and "Traceback" not in out.stderr


def test_cli_import_says_what_it_created_updated_and_skipped(tmp_path):
    path = tmp_path / "shop.csv"
    path.write_text(CSV.replace("G1,", "GRO-0001,").replace("2.10", "2.30") + "X9,Broken,,toys,1,1.00,\n")
    out = cli_import(tmp_path, path)
    assert out.returncode == 0
    assert "4 new, 1 updated, 0 unchanged, 1 skipped" in out.stdout
    assert "replaced 1 products already in the shop (same SKU): GRO-0001" in out.stderr
