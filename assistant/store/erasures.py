"""``storage_erasures``: when each member last said "delete my data", for the copies outside the store.

A skill's storage folder is on the disk of the process that ran it; replicas behind a load balancer
each have their own. The erasure is written here, and each replica erases its own copies when it
sees one newer than the last it applied (see ``assistant.skills.folders``).
"""

from __future__ import annotations

import time

from assistant.store.db import Database


class StorageErasures:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, user_id: int) -> float:
        """Now is the member's latest erasure (never earlier than one already recorded); its stamp."""
        with self.db.transaction() as tx:
            row = tx.execute(
                "INSERT INTO storage_erasures(user_id, erased_at) VALUES (?, ?) ON CONFLICT(user_id) DO UPDATE "
                "SET erased_at = CASE WHEN excluded.erased_at > storage_erasures.erased_at "
                "THEN excluded.erased_at ELSE storage_erasures.erased_at + 0.000001 END RETURNING erased_at",
                (user_id, time.time()),
            ).fetchone()
        return float(row[0])

    def of(self, user_id: int) -> float:
        """The member's latest erasure (0 for none)."""
        rows = self.db.query("SELECT erased_at FROM storage_erasures WHERE user_id = ?", (user_id,))
        return float(rows[0][0]) if rows else 0.0

    def all(self) -> dict[int, float]:
        return {int(r[0]): float(r[1]) for r in self.db.query("SELECT user_id, erased_at FROM storage_erasures")}
