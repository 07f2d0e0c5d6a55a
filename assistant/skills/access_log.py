"""Every capability call a third-party skill makes, recorded locally so the user can ask what it saw."""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from assistant.errors import StoreError
from assistant.store.db import Database
from assistant.store.notices import PER_DAY, PER_HOUR

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

    def record_call(
        self, skill: str, capability: str, method: str, args: tuple, kwargs: dict, result: Any, user: str = ""
    ) -> Access:
        """Record one call with a summary of its result (an exception it raised says it failed)."""
        if isinstance(result, BaseException):
            summary = f"tried {method}: failed ({type(result).__name__})"
        else:
            summary = summarize(capability, method, args, kwargs, result)
        return self.record(skill, capability, method, summary, user)

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
                rows = old.execute("SELECT at, user, skill, capability, method, summary FROM access ORDER BY id").fetchall()
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


class CallRecord:
    """What one skill call does through its capabilities (the ``record`` a worker's call is given):
    written as it happens, in the call's transaction; if that transaction rolls back, written again
    after it (``rolled_back``)."""

    def __init__(self, log: AccessLog, skill: str, user: str) -> None:
        self.log = log
        self.skill = skill
        self.user = user
        self.entries: list[Access] = []

    def __call__(self, capability: str, method: str, args: tuple, kwargs: dict, result: object) -> None:
        self.entries.append(self.log.record_call(self.skill, capability, method, args, kwargs, result, self.user))

    def rolled_back(self) -> None:
        try:
            self.log.restore(self.entries)
        except StoreError as exc:  # the call's own failure is the one to report
            log.error("skill '%s': %d calls of the failed call could not be kept in the access log: %s",
                      self.skill, len(self.entries), exc)  # fmt: skip


# -- what a call did, in words ----------------------------------------------------------------
def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _title(product: Any) -> str:
    return str(getattr(product, "title", None) or getattr(product, "name", "an item"))


def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any = None) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


def _which(kwargs: dict) -> str:
    return "your own list" if kwargs.get("mine") else "the household's list"


def _search(args: tuple, kwargs: dict, result: Any) -> str:
    query = str(_arg(args, kwargs, 0, "query", "") or "")[:40]
    found = _count(len(result or []), "product")
    return f"searched the catalogue for '{query}': {found}" if query else f"browsed the catalogue: {found}"


_NOUNS = {"Product": "product", "Order": "order", "Suggestion": "suggestion", "Line": "basket line"}

Summary = Callable[[tuple, dict, Any], str]
SUMMARIES: dict[tuple[str, str], Summary] = {
    ("catalog", "search"): _search,
    ("catalog", "by_sku"): lambda a, k, r: f"looked up {_title(r)}" if r else "looked up a product code: nothing",
    ("catalog", "brands"): lambda a, k, r: f"read the list of {_count(len(r), 'brand')}",
    ("cart", "lines"): lambda a, k, r: f"read your basket ({_count(len(r), 'line')})",
    ("cart", "add"): lambda a, k, r: (
        f"added {_count(int(_arg(a, k, 1, 'quantity', 1)), 'item')} to the basket ({_title(_arg(a, k, 0, 'product'))})"
    ),
    ("cart", "remove"): lambda a, k, r: f"took {_title(_arg(a, k, 0, 'product'))} out of the basket",
    ("cart", "clear"): lambda a, k, r: "emptied the basket",
    ("cart", "total_pence"): lambda a, k, r: "read the basket's total",
    ("orders", "history"): lambda a, k, r: f"read {_count(len(r), 'order')} from your history",
    ("orders", "get"): lambda a, k, r: f"read order {_arg(a, k, 0, 'order_id')}" if r else "looked for an order",
    ("orders", "purchase_counts"): lambda a, k, r: f"read how often you bought {_count(len(r), 'product')}",
    ("orders", "recommend"): lambda a, k, r: f"got {_count(len(r), 'suggestion')} from your history",
    ("orders", "discover"): lambda a, k, r: f"got {_count(len(r), 'suggestion')} from your history",
    ("profile", "name"): lambda a, k, r: "read your name",
    ("profile", "address"): lambda a, k, r: "read your delivery address",
    ("privacy", "erase"): lambda a, k, r: "erased your data",
    ("lists", "items"): lambda a, k, r: f"read {_which(k)} ({_count(len(r), 'item')})",
    ("list_writer", "items"): lambda a, k, r: f"read {_which(k)} ({_count(len(r), 'item')})",
    ("list_writer", "add"): lambda a, k, r: f"put {_arg(a, k, 0, 'name')} on {_which(k)}",
    ("list_writer", "remove"): lambda a, k, r: f"took an item off {_which(k)}",
    ("list_writer", "tick"): lambda a, k, r: f"ticked an item on {_which(k)}",
    ("list_writer", "clear"): lambda a, k, r: f"cleared {_which(k)}",
    ("watches", "add"): lambda a, k, r: f"set a price watch on {_arg(a, k, 0, 'query')}",
    ("watches", "watches"): lambda a, k, r: f"read your price watches ({len(r)})",
    ("watches", "remove"): lambda a, k, r: "removed a price watch",
    ("watches", "unsaid"): lambda a, k, r: f"read your price news ({len(r)})",
    ("notify", "send"): lambda a, k, r: (
        f"sent you a notification: '{str(_arg(a, k, 0, 'text'))[:60]}'"
        if r
        else f"tried to send you a notification: refused, over its limit ({PER_HOUR} an hour, {PER_DAY} a day)"
    ),
}
"""How each capability method's call is told; anything else is told by the type of its result."""


def summarize(capability: str, method: str, args: tuple, kwargs: dict, result: Any) -> str:
    told = SUMMARIES.get((capability, method))
    if told is not None:
        try:
            return told(args, kwargs, result)
        except (TypeError, ValueError, AttributeError, IndexError):
            pass  # odd arguments still get the generic wording below
    if isinstance(result, list | tuple):
        kinds = {type(x).__name__ for x in result}
        noun = _NOUNS.get(kinds.pop(), "item") if len(kinds) == 1 else "item"
        return f"used {capability}.{method}: {_count(len(result), noun)}"
    if result is None:
        return f"used {capability}.{method}: nothing"
    return f"used {capability}.{method}: 1 {_NOUNS.get(type(result).__name__, 'value')}"


class _Logged:
    """A capability object whose every public method call is recorded before its result is returned."""

    def __init__(self, target: object, capability: str, skill: str, log: AccessLog, user: str) -> None:
        self._target = target
        self._capability = capability
        self._skill = skill
        self._log = log
        self._user = user

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # no way through to the store object the capability wraps
            raise AttributeError(name)
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        @functools.wraps(attr)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = attr(*args, **kwargs)
            except Exception as exc:
                self._log.record_call(self._skill, self._capability, name, args, kwargs, exc, self._user)
                raise
            self._log.record_call(self._skill, self._capability, name, args, kwargs, result, self._user)
            return result

        return call

    def __repr__(self) -> str:
        return f"<{self._capability} for skill '{self._skill}', logged>"


def logged_capabilities(
    capabilities: dict[str, object], skill: str, log: AccessLog, user: str = ""
) -> dict[str, object]:
    """The same capabilities, each call by ``skill`` recorded in ``log`` with a summary of its result."""
    return {name: _Logged(obj, name, skill, log, user) for name, obj in capabilities.items()}


class AccessLogReader:
    """access_log.read, a capability only built-in skills get: what third-party skills did."""

    def __init__(self, log: AccessLog, user: str | None = None) -> None:
        self._log = log
        self._user = user

    def entries(self, skill: str | None = None, since: datetime | None = None, limit: int = 200) -> list[Access]:
        return self._log.entries(skill, since, user=self._user, limit=limit)
