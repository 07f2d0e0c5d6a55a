"""The product catalogue: full-text search with brand and price filters, and importing a shop's file."""

from __future__ import annotations

import csv
import json
import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from assistant.errors import ImportRowError, StoreError
from assistant.sdk.types import Product
from assistant.store.db import Connection, Database
from assistant.store.watches import PriceChange
from assistant.store.watches import check as check_watches

log = logging.getLogger(__name__)

CATEGORIES = ("groceries", "household", "personal care", "pet", "baby", "electronics")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOP = {"a", "an", "the", "some", "any", "of", "for", "me", "my", "and", "or", "with", "please", "pack", "packs", "bag", "bags", "box", "bottle", "bottles", "tin", "tins", "can", "cans", "jar", "jars", "one", "ones"}  # fmt: skip


def _terms(text: str) -> list[str]:
    return [w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in _STOP]


SQLITE_MAX_INT = 2**63 - 1
RANK = "ts_rank_cd('{0.1, 0.2, 0.6, 1.0}', f.doc, to_tsquery('shopper', ?), 1)"
"""PostgreSQL's order of matches: cover density, name over brand over description over category (FTS5's
bm25 weights), divided by the log of the product's length as bm25 favours short ones."""


class Catalog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def count(self) -> int:
        return int(self.db.conn.execute("SELECT count(*) FROM products").fetchone()[0])

    def get(self, product_id: int) -> Product | None:
        if type(product_id) is not int or not 0 < product_id <= SQLITE_MAX_INT:
            return None  # no such row, and no OverflowError for an id a skill made up
        row = self.db.conn.execute("SELECT * FROM products WHERE id = ?", (product_id,)).fetchone()
        return Product.from_row(row) if row else None

    def by_sku(self, sku: str) -> Product | None:
        row = self.db.conn.execute("SELECT * FROM products WHERE sku = ?", (sku,)).fetchone()
        return Product.from_row(row) if row else None

    def brands(self) -> list[str]:
        return [r[0] for r in self.db.query("SELECT DISTINCT brand FROM products WHERE brand != '' ORDER BY brand")]

    def product_names(self) -> list[str]:
        return [r[0].lower() for r in self.db.query("SELECT DISTINCT name FROM products ORDER BY name")]

    def search(
        self,
        query: str = "",
        *,
        brand: str | None = None,
        max_price: float | None = None,
        min_price: float | None = None,
        category: str | None = None,
        limit: int = 20,
    ) -> list[Product]:
        """Products matching the words said, best first. Plurals and stems match ('batteries' ~ 'battery')."""
        terms = _terms(query)
        where, params = [], []
        if brand:
            where.append("(lower(p.brand) LIKE ? OR lower(p.name) LIKE ?)")
            params += [f"%{brand.lower()}%", f"%{brand.lower()}%"]
        if max_price is not None:
            where.append("p.price_pence <= ?")
            params.append(round(max_price * 100))
        if min_price is not None:
            where.append("p.price_pence >= ?")
            params.append(round(min_price * 100))
        if category:
            where.append("p.category = ?")
            params.append(category)
        filters = (" AND " + " AND ".join(where)) if where else ""
        if not terms:
            if not where:
                return []
            rows = self.db.query(
                f"SELECT p.* FROM products p WHERE TRUE {filters} ORDER BY p.price_pence, p.id LIMIT ?",
                (*params, limit),
            )
            return [Product.from_row(r) for r in rows]
        # every word must match; if nothing does, the best partial matches
        for joiner in (" AND ", " OR "):
            if self.db.engine == "sqlite":
                match = joiner.join(f'"{t}"*' if len(t) > 2 else f'"{t}"' for t in terms)
                sql = (
                    "SELECT p.* FROM products_fts f JOIN products p ON p.id = f.rowid "
                    f"WHERE products_fts MATCH ? {filters} "
                    "ORDER BY bm25(products_fts, 10.0, 6.0, 1.0, 2.0), p.id LIMIT ?"
                )
                rows = self.db.query(sql, (match, *params, limit))
            else:
                # the same query in PostgreSQL's words: stemmed prefixes, name > brand > description > category
                match = (" & " if joiner == " AND " else " | ").join(f"{t}:*" if len(t) > 2 else t for t in terms)
                sql = (
                    "SELECT p.* FROM products_fts f JOIN products p ON p.id = f.product_id "
                    f"WHERE f.doc @@ to_tsquery('shopper', ?) {filters} "
                    f"ORDER BY {RANK} DESC, p.id LIMIT ?"
                )
                rows = self.db.query(sql, (match, *params, match, limit))
            if rows:
                return [Product.from_row(r) for r in rows]
            if len(terms) == 1:
                break
        return self._fuzzy(" ".join(terms), filters, params, limit)

    def _fuzzy(self, query: str, filters: str, params: list, limit: int) -> list[Product]:
        """Misheard names ('lavatsa') still find something close; weak matches find nothing."""
        rows = self.db.query(f"SELECT p.* FROM products p WHERE TRUE {filters} ORDER BY p.id", tuple(params))
        if not rows:
            return []
        terms = query.split()
        scored = []
        for row in rows:
            words = _terms(f"{row['brand']} {row['name']}")
            if not words:
                continue
            # every word said must sound like some word of the product's brand or name
            score = min(max(fuzz.ratio(term, word) for word in words) for term in terms)
            if score >= 80:
                scored.append((score, row))
        scored.sort(key=lambda pair: -pair[0])
        return [Product.from_row(row) for _, row in scored[:limit]]

    # -- import -------------------------------------------------------------------------------
    def import_file(self, path: Path) -> ImportReport:
        """Load a CSV or JSON catalogue; a product whose SKU is already in the shop is updated, and
        counted so. All-or-nothing for the good rows: a crash part-way leaves the catalogue as it was."""
        items, problems = read_catalogue(path)
        with self.db.transaction() as tx:
            report = upsert_products(tx, items, problems)
        for problem in problems:
            log.warning("skipped %s", problem)
        if report.updated_skus:
            log.warning(
                "%s: replaced %d products already in the shop (same SKU): %s",
                path,
                report.updated,
                ", ".join(report.updated_skus[:10]) + (" ..." if report.updated > 10 else ""),
            )
        return report


@dataclass(frozen=True)
class ImportReport:
    """What a catalogue import did, for the user to check."""

    created: int
    updated: int
    """Products whose SKU was already in the shop, now replaced by the file's row."""
    unchanged: int
    problems: tuple[str, ...]
    """One line per skipped row, naming the file and line."""
    updated_skus: tuple[str, ...] = ()
    price_changes: int = 0
    """Products whose price moved."""
    price_news: int = 0
    """Price watches those moves satisfied: each to be said once to its member."""

    @property
    def skipped(self) -> int:
        return len(self.problems)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


REQUIRED_COLUMNS = ("sku", "name", "category", "price")
MAX_PRICE = 100_000
FIELDS = ("sku", "name", "brand", "category", "size", "price_pence", "description")


def read_catalogue(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The file's valid products and one line per bad row; StoreError naming the file if it is unusable."""
    path = Path(path)
    try:
        rows = list(_read_rows(path))
    except UnicodeDecodeError as exc:
        raise StoreError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot read catalogue: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, csv.Error) as exc:
        raise StoreError(f"{path}: cannot read catalogue: {exc}") from exc
    except RecursionError:
        raise StoreError(f"{path}: cannot read catalogue: nested too deeply to be a list of products") from None
    if not rows:
        raise StoreError(f"{path}: no products in the file")
    good, problems = [], []
    seen: set[str] = set()
    for where, raw in rows:
        try:
            item = _validate(raw)
            if item["sku"] in seen:
                raise ImportRowError(f"duplicate sku {item['sku']!r}")
            seen.add(item["sku"])
            good.append(item)
        except ImportRowError as exc:
            problems.append(f"{path}:{where}: {exc}")
    return good, problems


def upsert_products(tx: Connection, items: list[dict[str, Any]], problems: list[str]) -> ImportReport:
    """Write products inside the caller's transaction; count what was new, replaced or the same, and
    tell the price watches of every price that moved, in the same transaction."""
    created = unchanged = 0
    updated: list[str] = []
    changes: list[PriceChange] = []
    # the shop as it is, read once (a statement a product is a round trip each on a server)
    held = {row["sku"]: row for row in tx.execute(f"SELECT id, {', '.join(FIELDS)} FROM products")}  # noqa: S608
    writes = []
    for item in items:
        row = held.get(item["sku"])
        if row is None:
            created += 1
        elif tuple(row)[1:] == tuple(item[f] for f in FIELDS):
            unchanged += 1
            continue
        else:
            updated.append(item["sku"])
            if row["price_pence"] != item["price_pence"]:
                changes.append(PriceChange(row["id"], row["price_pence"], item["price_pence"]))
        writes.append(item)
    tx.executemany(
        "INSERT INTO products(sku, name, brand, category, size, price_pence, description) "
        "VALUES (:sku, :name, :brand, :category, :size, :price_pence, :description) "
        "ON CONFLICT(sku) DO UPDATE SET name=excluded.name, brand=excluded.brand, "
        "category=excluded.category, size=excluded.size, price_pence=excluded.price_pence, "
        "description=excluded.description",
        writes,
    )
    news = check_watches(tx, changes)
    return ImportReport(created, len(updated), unchanged, tuple(problems), tuple(updated), len(changes), news)


def _read_rows(path: Path) -> Iterator[tuple[str, Any]]:
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            data = data.get("products", [])
        if not isinstance(data, list):
            raise StoreError(f"{path}: cannot read catalogue: expected a list of products")
        for i, item in enumerate(data, start=1):
            yield f"item {i}", item
    elif path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None:
                raise StoreError(f"{path}: no products in the file (it is empty)")
            columns = {(name or "").strip().lower() for name in reader.fieldnames}
            if missing := [c for c in REQUIRED_COLUMNS if c not in columns]:
                raise StoreError(
                    f"{path}: the first line is not a header naming the columns "
                    f"{', '.join(REQUIRED_COLUMNS)} (missing {', '.join(missing)})"
                )
            for row in reader:
                yield f"{reader.line_num}", {(k or "").strip().lower(): v for k, v in row.items()}
    else:
        raise StoreError(f"{path}: cannot read catalogue: expected a .csv or .json file")


def _validate(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ImportRowError("not a product record")

    def text(key: str, required: bool = True) -> str:
        value = raw.get(key)
        if isinstance(value, (dict, list)):
            raise ImportRowError(f"{key} is a {type(value).__name__}, not a value")
        value = "" if value is None else str(value).strip()
        if required and not value:
            raise ImportRowError(f"missing {key}")
        return value

    category = text("category").lower()
    if category not in CATEGORIES:
        raise ImportRowError(f"category {category!r} is not one of: {', '.join(CATEGORIES)}")
    price_raw = text("price").lstrip("£$€")
    try:
        price = float(price_raw)
    except ValueError:
        raise ImportRowError(f"price {price_raw!r} is not a number") from None
    if not math.isfinite(price):
        raise ImportRowError(f"price {price_raw!r} is not an amount of money")
    if price <= 0:
        raise ImportRowError(f"price {price_raw!r} must be above 0")
    if price >= MAX_PRICE:
        raise ImportRowError(f"price {price_raw!r} must be below {MAX_PRICE:,}")
    pence = round(price * 100)
    if pence < 1:
        raise ImportRowError(f"price {price_raw!r} is less than the smallest coin (0.01)")
    return {
        "sku": text("sku"), "name": text("name"), "brand": text("brand", False),
        "category": category, "size": text("size", False), "price_pence": pence,
        "description": text("description", False).lower(),
    }  # fmt: skip
