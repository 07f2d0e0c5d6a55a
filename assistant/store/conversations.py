"""Conversation records in the store: one row per conversation (door, principal, the client's id), leased to one turn at a time.

A turn takes the row's lease in a short transaction (``load_for_turn``), runs without holding the
database's write lock (a skill call may take seconds), and writes the record back with the lease
(``save``). Another turn of the same conversation, in this process or another, waits for the lease;
a turn whose process died holds it only until ``lease_until``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from assistant.errors import StoreBusy
from assistant.store.db import Database

POLL_S = 0.02
"""How often a turn waiting for another turn of its conversation looks again."""


def stamp(seconds: float) -> str:
    """A time as the store keeps it: UTC ISO 8601 text, fixed width, so text order is time order."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Lease:
    """One turn's hold on one conversation's row."""

    key: str
    holder: str
    state: str | None
    """The record as saved by the last turn; None: a new conversation, or one that expired."""


class ConversationRecords:
    """The rows of conversation records; the record's layout is the dialogue's (JSON text here)."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        """Seconds since the epoch; the tests move it to expire records."""

    def load_for_turn(self, key: str, *, lease_s: float, wait_s: float) -> Lease:
        """Take ``key``'s row for one turn and read its record. Waits up to ``wait_s`` while another
        live turn holds it, then raises StoreBusy."""
        holder = uuid.uuid4().hex
        deadline = time.monotonic() + wait_s
        while True:
            now = self.clock()
            with self.db.transaction(exclusive=False) as tx:  # one guarded statement: its row lock suffices
                # one statement: a new row, or the row taken over when no live turn holds it (no row back:
                # one does); the record is returned as the last turn saved it
                rows = tx.execute(
                    "INSERT INTO conversation_states(owner, state, expires_at, lease, lease_until, updated_at) "
                    "VALUES (?, '', ?, ?, ?, ?) "
                    "ON CONFLICT(owner) DO UPDATE SET lease = excluded.lease, lease_until = excluded.lease_until "
                    "WHERE conversation_states.lease IS NULL OR conversation_states.lease_until <= ? "
                    "RETURNING state, expires_at",
                    (key, stamp(now), holder, stamp(now + lease_s), stamp(now), stamp(now)),
                ).fetchall()
            if rows:
                state, expires_at = rows[0]
                return Lease(key, holder, state if state and expires_at > stamp(now) else None)
            if time.monotonic() >= deadline:
                raise StoreBusy(f"conversation {key}: another turn of it is still under way")
            time.sleep(POLL_S)

    def save(self, lease: Lease, state: str, *, member_id: int | None, keep_s: float) -> bool:
        """Write the turn's record and give the row back. False (nothing written) when the turn no
        longer held it: the conversation was ended or erased meanwhile, or the lease ran out."""
        now = self.clock()
        with self.db.transaction(exclusive=False) as tx:  # one guarded statement: its row lock suffices
            row = tx.execute(
                "UPDATE conversation_states SET state = ?, member_id = ?, expires_at = ?, lease = NULL, "
                "lease_until = '', updated_at = ? WHERE owner = ? AND lease = ? RETURNING owner",
                (state, member_id, stamp(now + keep_s), stamp(now), lease.key, lease.holder),
            ).fetchall()
        return bool(row)

    def release(self, lease: Lease) -> None:
        """Give the row back unchanged (the turn failed before it could save)."""
        with self.db.transaction(exclusive=False) as tx:  # one guarded statement: its row lock suffices
            tx.execute(
                "UPDATE conversation_states SET lease = NULL, lease_until = '' WHERE owner = ? AND lease = ?",
                (lease.key, lease.holder),
            )

    def peek(self, key: str) -> str | None:
        """The record as the last turn left it, without taking the row (None: none, or expired)."""
        rows = self.db.query(
            "SELECT state FROM conversation_states WHERE owner = ? AND expires_at > ? AND state <> ''",
            (key, stamp(self.clock())),
        )
        return rows[0][0] if rows else None

    def end(self, key: str, *, idle_s: float | None = None) -> str | None:
        """Remove ``key``'s row (with ``idle_s``: only if no turn, in any process, spoke in it for that
        long); the record it held, for the caller to let go of what it asked (None: nothing removed)."""
        now = self.clock()
        before = stamp(now - idle_s) if idle_s is not None else stamp(now + 1)
        with self.db.transaction() as tx:
            rows = tx.execute(
                "DELETE FROM conversation_states WHERE owner = ? AND updated_at <= ? "
                "AND (lease IS NULL OR lease_until <= ? OR ? = 0) RETURNING state",
                (key, before, stamp(now), int(idle_s is not None)),
            ).fetchall()
        return rows[0][0] if rows and rows[0][0] else None

    def forget_member(self, member_id: int, *, keep: str | None = None) -> list[str]:
        """'Delete my data': remove the records of every conversation that acts on ``member_id`` (but
        ``keep``, the one asking, which starts afresh by itself); the records removed."""
        with self.db.transaction() as tx:
            rows = tx.execute(
                "DELETE FROM conversation_states WHERE member_id = ? AND owner IS DISTINCT FROM ? RETURNING state",
                (member_id, keep),
            ).fetchall()
        return [r[0] for r in rows if r[0]]

    def purge_expired(self) -> int:
        """Remove the rows nobody spoke in within their keep time and no turn holds."""
        now = stamp(self.clock())
        with self.db.transaction() as tx:
            rows = tx.execute(
                "DELETE FROM conversation_states WHERE expires_at <= ? AND (lease IS NULL OR lease_until <= ?) "
                "RETURNING owner",
                (now, now),
            ).fetchall()
        return len(rows)
