"""`assistant store copy`: everything of one store into another, e.g. a household's SQLite file into
the shared PostgreSQL server it moves to."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.errors import StoreError
from assistant.store.db import Database

TABLES = (
    "users", "products", "members", "code_failures", "devices", "cart_items", "basket_versions", "orders",
    "order_lines", "quotes", "suggestions", "transcripts", "list_items", "watches", "watch_products",
    "price_news", "notifications", "skill_states", "hub_tokens", "hub_pairing_codes", "wyoming_satellites",
    "wyoming_clients", "conversation_states", "skill_access", "conversation_turns", "storage_erasures",
)  # fmt: skip
"""Every table of the schema, each after those it refers to (tests/store/test_copy.py holds it complete)."""
IDENTITY = (
    "users", "products", "orders", "suggestions", "transcripts", "list_items", "watches", "price_news", "notifications",
    "skill_access", "conversation_turns",
)  # fmt: skip
"""Tables whose ids the database numbers: on PostgreSQL the numbering goes on after the copied ids."""
BATCH = 1000


@dataclass(frozen=True)
class CopyReport:
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def copy_store(source: Database, target: Database) -> CopyReport:
    """Copy every row, in one transaction of the target; a target that holds anything is refused."""
    if source.schema_version() != target.schema_version():
        raise StoreError(
            f"{source.where} is at schema {source.schema_version()}, {target.where} at {target.schema_version()}: "
            "run `assistant store migrate` on the older one first"
        )
    rows: dict[str, int] = {}
    with target.transaction(busy_timeout=60) as tx:
        for table in ("users", "products", "orders"):
            if tx.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():  # noqa: S608
                raise StoreError(f"{target.where}: already holds {table}; copy into a new, empty database")
        for table in TABLES:
            cursor = source.conn.execute(f"SELECT * FROM {table}")  # noqa: S608
            columns = [d[0] for d in cursor.description]
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" * len(columns))
            if table == "basket_versions":
                tx.execute("DELETE FROM basket_versions")  # the copied basket's writes moved them; the source's win
            count = 0
            while batch := cursor.fetchmany(BATCH):
                tx.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", [tuple(r) for r in batch])  # noqa: S608
                count += len(batch)
            rows[table] = count
        for key, value in source.query("SELECT key, value FROM meta WHERE key != 'schema_version'"):
            tx.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
        if tx.engine == "postgresql":
            for table in IDENTITY:
                tx.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"GREATEST((SELECT max(id) FROM {table}), 1), (SELECT max(id) FROM {table}) IS NOT NULL)"
                )
    return CopyReport(rows)
