"""The skills' access log: every capability call a third-party skill makes (``skill_access``), bounded."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assistant.errors import StoreError
from assistant.store.db import Database

log = logging.getLogger(__name__)

MAX_ENTRIES = 10_000
MAX_AGE = timedelta(days=30)
PRUNE_EVERY = 100
"""Inserts between removing entries past ``MAX_AGE`` (the count bound is kept on every insert)."""
SUMMARY_CHARS = 120
LEGACY_FILE = "access-log.sqlite3"
"""Where the log was before it was a table of the store: its entries are moved in, then the file goes."""


@dataclass(frozen=True)
class Access:
    """One capability call."""

    at: datetime
    """When, in UTC."""
    skill: str
    capability: str
    """The context attribute used, e.g. ``catalog``."""
    method: str
    """e.g. ``search``."""
    summary: str
    """What it read or did, in words: "searched the catalogue for 'flour': 3 products"."""
    user: str = ""

    def as_dict(self) -> dict[str, str]:
        return {**asdict(self), "at": self.at.isoformat(timespec="seconds")}


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


class AccessLog:
    """The store's ``skill_access`` table, bounded: the last 10,000 calls, 30 days. Any replica of the
    hub writes and reads the same log."""

    def __init__(self, db: Database, *, max_entries: int = MAX_ENTRIES, max_age: timedelta = MAX_AGE) -> None:
        self.db = db
        self.max_entries = max_entries
        self.max_age = max_age
        self._inserts = 0
        self._move_legacy_file()
        self.prune()

    def record(self, skill: str, capability: str, method: str, summary: str, user: str = "") -> Access:
        """Write one entry, in the caller's transaction if there is one; a log that cannot be written
        raises, so the call it records fails too."""
        entry = Access(datetime.now(UTC), skill, capability, method, summary[:SUMMARY_CHARS], user)
        try:
            with self.db.transaction() as tx:
                (new_id,) = tx.execute(
                    'INSERT INTO skill_access (at, "user", skill, capability, method, summary) '
                    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    (_stamp(entry.at), user, skill, capability, method, entry.summary),
                ).fetchone()
                tx.execute("DELETE FROM skill_access WHERE id <= ?", (new_id - self.max_entries,))
        except StoreError as exc:
            raise type(exc)(f"cannot record skill '{skill}' using {capability}: {exc}") from exc
        self._inserts += 1
        if self._inserts % PRUNE_EVERY == 0:
            self.prune()
        return entry

    def restore(self, entries: list[Access]) -> None:
        """Write ``entries`` again where a rolled-back transaction took them away (those still there
        are left as they are): a skill call that fails or runs out of time cannot hide what it read."""
        if not entries:
            return
        with self.db.transaction() as tx:
            for e in entries:
                tx.execute(
                    'INSERT INTO skill_access (at, "user", skill, capability, method, summary) '
                    "SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS ("
                    "SELECT 1 FROM skill_access WHERE at = ? AND skill = ? AND method = ? AND summary = ?)",
                    (_stamp(e.at), e.user, e.skill, e.capability, e.method, e.summary,
                     _stamp(e.at), e.skill, e.method, e.summary),
                )  # fmt: skip

    def entries(
        self,
        skill: str | None = None,
        since: datetime | None = None,
        *,
        user: str | None = None,
        limit: int | None = None,
    ) -> list[Access]:
        """Newest first; ``since`` may be naive (taken as local time) or aware."""
        where, params = [], []
        if skill is not None:
            where.append("skill = ?")
            params.append(skill)
        if since is not None:
            where.append("at >= ?")
            params.append(_stamp(since))
        if user is not None:
            where.append('"user" = ?')
            params.append(user)
        sql = 'SELECT at, skill, capability, method, summary, "user" FROM skill_access'
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = self.db.query(sql, tuple(params))
        return [Access(datetime.fromisoformat(at), *rest) for at, *rest in rows]

    def erase(self, user: str | None = None) -> int:
        """Forget the entries about ``user`` (every entry when None); returns how many went. Gone from
        the files too, not just unlinked (the store overwrites what it deletes)."""
        with self.db.transaction() as tx:
            if user is None:
                gone = tx.execute("DELETE FROM skill_access RETURNING id").fetchall()
            else:
                gone = tx.execute('DELETE FROM skill_access WHERE "user" = ? RETURNING id', (user,)).fetchall()
        self.db.scrub()
        return len(gone)

    def prune(self) -> None:
        cutoff = _stamp(datetime.now(UTC) - self.max_age)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM skill_access WHERE at < ?", (cutoff,))
            tx.execute(
                "DELETE FROM skill_access WHERE id <= (SELECT MAX(id) FROM skill_access) - ?",
                (self.max_entries,),
            )

    def _move_legacy_file(self) -> None:
        """An older assistant kept the log in a file of its own: its entries come into the store once."""
        path = Path(self.db.data_dir) / LEGACY_FILE
        if not path.exists():
            return
        try:
            with sqlite3.connect(path) as old:
                rows = old.execute(
                    "SELECT at, user, skill, capability, method, summary FROM access ORDER BY id"
                ).fetchall()
            old.close()
        except sqlite3.Error as exc:
            log.error("%s: the old access log cannot be read, so it is left where it is: %s", path, exc)
            return
        with self.db.transaction() as tx:
            tx.executemany(
                'INSERT INTO skill_access (at, "user", skill, capability, method, summary) VALUES (?, ?, ?, ?, ?, ?)',
                rows,
            )
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        log.info("%s: %d entries moved into the store", path, len(rows))
