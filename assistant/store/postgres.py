"""The PostgreSQL engine (psycopg 3): the store's SQL, written once for SQLite, run on a server.

The store's statements are written in the SQL that SQLite 3.40 and PostgreSQL 15 share, with
SQLite's ``?`` and ``:name`` placeholders. This module is the whole dialect layer: the
placeholders become psycopg's, the schema's few SQLite-only words (``INTEGER PRIMARY KEY`` as an
auto-numbered id, ``REAL``) get PostgreSQL's, SQLite's ``datetime('now')`` is a function of the
schema, and the server's errors become the store's. Why not SQLAlchemy: it would put a second query
language over ~150 hand-written statements and still leave the full-text search to raw SQL per
engine; what differs between the two engines fits in this file.
"""

from __future__ import annotations

import decimal
import functools
import re
import threading
from typing import Any

import psycopg
from psycopg import errors as pgerrors
from psycopg.pq import TransactionStatus
from psycopg.types.numeric import NumericLoader

from assistant.errors import StoreBusy, StoreCorrupt, StoreError, StoreFull, StoreGone, StoreReadOnly

WRITE_LOCK = 7_303_547  # pg_advisory_xact_lock key: "BEGIN IMMEDIATE", one writer at a time, as on SQLite
SCHEMA_LOCK = 7_303_548

# SQLite's time functions as the schema and statements use them, in UTC text as SQLite writes it
FUNCTIONS = """
CREATE OR REPLACE FUNCTION datetime(what text) RETURNS text LANGUAGE sql STABLE AS
$$ SELECT to_char(CASE WHEN what = 'now' THEN now() AT TIME ZONE 'UTC' ELSE what::timestamp END,
                  'YYYY-MM-DD HH24:MI:SS') $$;
CREATE OR REPLACE FUNCTION datetime(what text, modifier text) RETURNS text LANGUAGE sql STABLE AS
$$ SELECT to_char((CASE WHEN what = 'now' THEN now() AT TIME ZONE 'UTC' ELSE what::timestamp END)
                  + modifier::interval, 'YYYY-MM-DD HH24:MI:SS') $$;
"""

# full-text search: one weighted document per product, kept by a trigger (name, brand, description,
# category weighted as SQLite's bm25 weights them: 10, 6, 2, 1), English stemming as FTS5's porter
SEARCH_SCHEMA = """
DO $$ BEGIN
    -- English stems as FTS5's porter tokenizer makes them, and no stop words (FTS5 has none: "washing
    -- up liquid" must need the "up"), accents folded where unaccent is installed
    IF NOT EXISTS (SELECT 1 FROM pg_ts_dict WHERE dictname = 'shopper_stem') THEN
        CREATE TEXT SEARCH DICTIONARY shopper_stem (TEMPLATE = snowball, Language = english);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'shopper') THEN
        CREATE TEXT SEARCH CONFIGURATION shopper (COPY = english);
        ALTER TEXT SEARCH CONFIGURATION shopper ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word,
            hword, hword_part WITH shopper_stem;
    END IF;
END $$;
CREATE TABLE IF NOT EXISTS products_fts (
    product_id BIGINT PRIMARY KEY REFERENCES products(id) ON DELETE CASCADE,
    doc tsvector NOT NULL
);
CREATE INDEX IF NOT EXISTS products_fts_doc ON products_fts USING gin (doc);
CREATE OR REPLACE FUNCTION products_fts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO products_fts(product_id, doc) VALUES (NEW.id,
        setweight(to_tsvector('shopper', NEW.name), 'A') || setweight(to_tsvector('shopper', NEW.brand), 'B')
        || setweight(to_tsvector('shopper', NEW.description), 'C')
        || setweight(to_tsvector('shopper', NEW.category), 'D'))
    ON CONFLICT (product_id) DO UPDATE SET doc = excluded.doc;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS products_fts_keep ON products;
CREATE TRIGGER products_fts_keep AFTER INSERT OR UPDATE ON products
    FOR EACH ROW EXECUTE FUNCTION products_fts_keep();
CREATE OR REPLACE FUNCTION basket_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE uid bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN uid := OLD.user_id; ELSE uid := NEW.user_id; END IF;
    INSERT INTO basket_versions(user_id, version) VALUES (uid, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = basket_versions.version + 1;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS cart_items_version ON cart_items;
CREATE TRIGGER cart_items_version AFTER INSERT OR UPDATE OR DELETE ON cart_items
    FOR EACH ROW EXECUTE FUNCTION basket_version_bump();
"""

_LITERAL_OR_MARK = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?|(?<!:):([A-Za-z_]\w*)|%")


@functools.lru_cache(maxsize=2048)
def placeholders(sql: str) -> str:
    """SQLite's ``?`` and ``:name`` as psycopg's ``%s`` and ``%(name)s``; ``%`` doubled; literals kept."""

    def swap(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "?":
            return "%s"
        if text == "%":
            return "%%"
        if match.group(1):
            return f"%({match.group(1)})s"
        return text.replace("%", "%%")

    return _LITERAL_OR_MARK.sub(swap, sql)


_AUTO_ID = re.compile(r"\bINTEGER PRIMARY KEY(?: AUTOINCREMENT)?", re.IGNORECASE)
_REAL = re.compile(r"\bREAL\b", re.IGNORECASE)
_INTEGER = re.compile(r"\bINTEGER\b", re.IGNORECASE)
_BLOB = re.compile(r"\bBLOB\b", re.IGNORECASE)


def ddl(statement: str) -> str:
    """A CREATE/ALTER statement of the shared schema in PostgreSQL's words: an id SQLite numbers itself
    is an identity column, integers are 64-bit as SQLite's are, REAL is double precision."""
    statement = _AUTO_ID.sub("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", statement)
    statement = _REAL.sub("DOUBLE PRECISION", statement)
    statement = _INTEGER.sub("BIGINT", statement)
    return _BLOB.sub("BYTEA", statement)


class Row(tuple):
    """A result row as SQLite's: by position, by column name, ``keys()``, ``dict(row)``."""

    __slots__ = ()
    _index: dict[str, int] = {}

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


@functools.lru_cache(maxsize=1024)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}})


def _row_factory(cursor: psycopg.Cursor) -> Any:
    if cursor.description is None:
        return tuple
    cls = _row_class(tuple(c.name for c in cursor.description))
    return lambda values: cls(values)


class _NumberLoader(NumericLoader):
    """sum() and avg() come back as numbers Python code reads as SQLite's: int when whole, else float."""

    def load(self, data: Any) -> Any:
        value = super().load(data)
        if isinstance(value, decimal.Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        return value


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def classify(exc: psycopg.Error, where: str) -> StoreError:
    """The server's error as the store's: busy, gone, full, read-only, corrupt, or plainly said."""
    text = " ".join(str(exc).split())[:300]
    if isinstance(exc, (pgerrors.LockNotAvailable, pgerrors.SerializationFailure, pgerrors.DeadlockDetected,
                        pgerrors.QueryCanceled, pgerrors.TooManyConnections)):
        return StoreBusy(f"{where}: the database stayed busy ({text}); try again")
    if isinstance(exc, pgerrors.DiskFull):
        return StoreFull(f"{where}: the database server's disk is full; free some space and try again")
    if isinstance(exc, (pgerrors.ReadOnlySqlTransaction, pgerrors.InsufficientPrivilege)):
        return StoreReadOnly(f"{where}: cannot be written ({text}); check the database user's rights")
    if isinstance(exc, (pgerrors.DataCorrupted, pgerrors.IndexCorrupted)):
        return StoreCorrupt(f"{where}: the database is damaged ({text}); restore it from a backup")
    if isinstance(exc, (pgerrors.AdminShutdown, pgerrors.CannotConnectNow, pgerrors.CrashShutdown)) or (
        isinstance(exc, psycopg.OperationalError) and not isinstance(exc, pgerrors.InvalidPassword)
    ):
        return StoreGone(f"{where}: the database server is not answering ({text}); try again")
    return StoreError(f"{where}: database error: {text}")


class Connection:
    """One server connection with the SQLite connection's surface the store uses."""

    engine = "postgresql"

    def __init__(self, url: str, where: str) -> None:
        self.where = where
        try:
            self.raw = psycopg.connect(url, autocommit=True, row_factory=_row_factory, connect_timeout=5)
        except psycopg.Error as exc:
            raise classify(exc, where) from exc
        self.raw.adapters.register_loader("numeric", _NumberLoader)
        self.lock = threading.Lock()

    @property
    def broken(self) -> bool:
        return self.raw.closed or self.raw.broken

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR)

    def execute(self, sql: str, params: Any = ()) -> psycopg.Cursor:
        try:
            if not params:
                return self.raw.execute(sql)  # psycopg reads no placeholders (nor %) without parameters
            return self.raw.execute(placeholders(sql), params)
        except psycopg.Error as exc:
            raise classify(exc, self.where) from exc

    def executemany(self, sql: str, seq: Any) -> psycopg.Cursor:
        cursor = self.raw.cursor()
        try:
            cursor.executemany(placeholders(sql), list(seq))
        except psycopg.Error as exc:
            raise classify(exc, self.where) from exc
        return cursor

    def begin(self, busy_timeout: float, exclusive: bool = True) -> None:
        # one round trip (a script without parameters): the transaction, its wait, the write lock
        wait = f"BEGIN; SET LOCAL lock_timeout = '{int(busy_timeout * 1000)}ms'"
        self.execute(f"{wait}; SELECT pg_advisory_xact_lock({WRITE_LOCK})" if exclusive else wait)

    def close(self) -> None:
        self.raw.close()
