"""Wyoming's tables: the satellites the assistant dials out to and the clients it lets in by address."""

from __future__ import annotations

import time

from assistant.store.db import Database


class AddressTaken(ValueError):
    """Another client already has this address (its name is the message)."""


class SatelliteRows:
    """``wyoming_satellites``: name, uri and the member each speaks for."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, name: str, uri: str, user: str | None) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                'INSERT INTO wyoming_satellites(name, uri, added_at, "user") VALUES (?, ?, ?, ?) '
                'ON CONFLICT(name) DO UPDATE SET uri = excluded.uri, "user" = excluded."user"',
                (name, uri, time.time(), user),
            )

    def all(self) -> list[tuple[str, str, str | None]]:
        return [tuple(row) for row in self.db.query('SELECT name, uri, "user" FROM wyoming_satellites ORDER BY name')]

    def remove(self, name: str) -> bool:
        with self.db.transaction() as tx:
            return bool(tx.execute("DELETE FROM wyoming_satellites WHERE name = ?", (name,)).rowcount)


class ClientRows:
    """``wyoming_clients``: name, address (one client each) and the member each speaks for."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, name: str, address: str, user: str | None) -> None:
        """Raises AddressTaken when another client has the address: checked in the write's transaction,
        so two adds of one address at once cannot both win."""
        with self.db.transaction() as tx:
            taken = tx.execute(
                "SELECT name FROM wyoming_clients WHERE address = ? AND name != ?", (address, name)
            ).fetchone()
            if taken:
                raise AddressTaken(taken[0])
            tx.execute(
                'INSERT INTO wyoming_clients(name, address, "user", added_at) VALUES (?, ?, ?, ?) '
                'ON CONFLICT(name) DO UPDATE SET address = excluded.address, "user" = excluded."user"',
                (name, address, user, time.time()),
            )

    def all(self) -> list[tuple[str, str, str | None]]:
        return [tuple(row) for row in self.db.query('SELECT name, address, "user" FROM wyoming_clients ORDER BY name')]

    def find(self, address: str) -> tuple[str, str, str | None] | None:
        rows = self.db.query('SELECT name, address, "user" FROM wyoming_clients WHERE address = ?', (address,))
        return tuple(rows[0]) if rows else None

    def remove(self, name: str) -> bool:
        with self.db.transaction() as tx:
            return bool(tx.execute("DELETE FROM wyoming_clients WHERE name = ?", (name,)).rowcount)
