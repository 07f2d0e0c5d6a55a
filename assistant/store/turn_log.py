"""The turns each conversation has had, as its client saw them (the page shows them again): rows of the
store, so any replica of the hub answers "what did we say" for a conversation another one took."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from assistant.store.conversations import stamp
from assistant.store.db import Database

KEPT_TURNS = 50
"""A conversation's newest turns kept; older ones go as new ones come."""


class TurnLog:
    def __init__(self, db: Database, *, keep: int = KEPT_TURNS, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.keep = keep
        self.clock = clock

    def append(self, owner: str, turn: dict[str, Any], *, member_id: int | None) -> None:
        """One turn of conversation ``owner`` (the conversation's key in the store), spoken for
        ``member_id`` (None: the household)."""
        with self.db.transaction(exclusive=False) as tx:
            tx.execute(
                "INSERT INTO conversation_turns(owner, member_id, turn, at) VALUES (?, ?, ?, ?)",
                (owner, member_id, json.dumps(turn), stamp(self.clock())),
            )
            tx.execute(  # the oldest past ``keep`` go: those at or before the (keep+1)-th newest
                "DELETE FROM conversation_turns WHERE owner = ? AND id <= ("
                "SELECT id FROM conversation_turns WHERE owner = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (owner, owner, self.keep),
            )

    def turns(self, owner: str) -> list[dict[str, Any]]:
        """Oldest first."""
        rows = self.db.query("SELECT turn FROM conversation_turns WHERE owner = ? ORDER BY id", (owner,))
        return [json.loads(r[0]) for r in rows]

    def end(self, owner: str) -> None:
        with self.db.transaction(exclusive=False) as tx:
            tx.execute("DELETE FROM conversation_turns WHERE owner = ?", (owner,))

    def forget_member(self, member_id: int) -> int:
        """'Delete my data': every turn spoken for ``member_id``, at any door; how many went."""
        with self.db.transaction() as tx:
            gone = tx.execute("DELETE FROM conversation_turns WHERE member_id = ? RETURNING id", (member_id,)).fetchall()
        return len(gone)

    def purge_older_than(self, seconds: float) -> int:
        """Turns of conversations nobody came back to."""
        with self.db.transaction() as tx:
            gone = tx.execute(
                "DELETE FROM conversation_turns WHERE at < ? RETURNING id", (stamp(self.clock() - seconds),)
            ).fetchall()
        return len(gone)
