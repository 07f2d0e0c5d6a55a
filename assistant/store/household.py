"""The household's tables: members, their purchase codes and failed attempts, and devices."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from assistant.store.db import Database


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    has_code: bool


class HouseholdRows:
    """``members``, ``code_failures`` and ``devices``; what is allowed is decided by ``assistant.household``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- members ------------------------------------------------------------------------------
    def add_member(self, name: str) -> Member:
        user_id = self.db.user_id(name)
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO members(user_id) VALUES (?) ON CONFLICT DO NOTHING", (user_id,))
        return Member(user_id, name, False)

    def member(self, name: str) -> Member | None:
        rows = self.db.query(
            "SELECT u.id, u.name, m.code_hash FROM members m JOIN users u ON u.id = m.user_id WHERE u.name = ?",
            (name,),
        )
        return Member(rows[0][0], rows[0][1], rows[0][2] is not None) if rows else None

    def members(self) -> list[Member]:
        rows = self.db.query(
            "SELECT u.id, u.name, m.code_hash FROM members m JOIN users u ON u.id = m.user_id ORDER BY u.name"
        )
        return [Member(r[0], r[1], r[2] is not None) for r in rows]

    # -- purchase codes -----------------------------------------------------------------------
    def set_code(self, user_id: int, code_hash: str | None, salt: str | None) -> None:
        """A new code (or none) for the member; their failed attempts are forgotten with the old one."""
        with self.db.transaction() as tx:
            tx.execute("UPDATE members SET code_hash = ?, code_salt = ? WHERE user_id = ?", (code_hash, salt, user_id))
            tx.execute("DELETE FROM code_failures WHERE user_id = ?", (user_id,))

    def has_code(self, user_id: int) -> bool:
        rows = self.db.query("SELECT code_hash FROM members WHERE user_id = ?", (user_id,))
        return bool(rows and rows[0][0])

    def locked_until(self, user_id: int, door: str) -> float:
        rows = self.db.query("SELECT locked_until FROM code_failures WHERE user_id = ? AND door = ?", (user_id, door))
        return rows[0][0] if rows else 0.0

    def attempt(
        self, user_id: int, door: str, matches: Callable[[str, str], bool], *, attempts: int, lock_seconds: float
    ) -> bool:
        """One try of the member's code at ``door``, in one transaction (two doors guessing at once
        each count): ``matches(code_hash, salt)`` says whether it was right; the ``attempts``-th wrong
        one in a row locks the door for ``lock_seconds``. True for the right code or when there is none."""
        with self.db.transaction() as tx:
            row = tx.execute("SELECT code_hash, code_salt FROM members WHERE user_id = ?", (user_id,)).fetchone()
            if row is None or not row[0]:
                return True
            tried = tx.execute(
                "SELECT failures, locked_until FROM code_failures WHERE user_id = ? AND door = ?", (user_id, door)
            ).fetchone()
            failures, locked_until = tried if tried else (0, 0.0)
            if locked_until > time.time():
                return False
            if matches(row[0], row[1]):
                tx.execute("DELETE FROM code_failures WHERE user_id = ? AND door = ?", (user_id, door))
                return True
            failures += 1
            locked = time.time() + lock_seconds if failures >= attempts else 0
            tx.execute(
                "INSERT INTO code_failures(user_id, door, failures, locked_until) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(user_id, door) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until",
                (user_id, door, 0 if locked else failures, locked),
            )
            return False

    # -- devices ------------------------------------------------------------------------------
    def set_device(self, device: str, user_id: int | None) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO devices(name, user_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET user_id = excluded.user_id",
                (device, user_id),
            )

    def device_owner(self, device: str) -> Member | None:
        rows = self.db.query(
            "SELECT u.id, u.name, m.code_hash FROM devices d JOIN users u ON u.id = d.user_id "
            "LEFT JOIN members m ON m.user_id = u.id WHERE d.name = ?",
            (device,),
        )
        return Member(rows[0][0], rows[0][1], bool(rows[0][2])) if rows else None

    def remove_device(self, device: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM devices WHERE name = ?", (device,))
