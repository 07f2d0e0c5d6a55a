"""Which skills are switched on, and what the user agreed each version may do: a row a skill in the store.

Every change is its own transaction on that skill's row, and every read asks the store, so the CLI
(`assistant skills enable`) and a running hub never undo each other's changes.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from assistant.errors import StoreError
from assistant.store.db import Database

log = logging.getLogger(__name__)

LEGACY_FILE = "skills.json"
"""Where these were kept before schema 4; read once into the store, then renamed."""


@dataclass(frozen=True)
class Grant:
    """The permissions the user agreed to when they enabled one version of a skill."""

    version: str
    permissions: frozenset[str]
    at: str
    """When, ISO 8601 in UTC."""


class SkillStates:
    def __init__(self, store: Database | Path) -> None:
        self.db = store if isinstance(store, Database) else Database(Path(store))
        self._import_legacy_file()

    def enabled(self, name: str, builtin: bool) -> bool:
        """The user's switch only; whether a third-party skill may run is consent.check's answer."""
        row = self._row(name)
        return builtin if row is None else bool(row["enabled"])

    def reason(self, name: str) -> str:
        row = self._row(name)
        return str(row["reason"]) if row is not None else ""

    def set(self, name: str, enabled: bool, reason: str = "") -> None:
        """Switch a skill on or off; what the user agreed to before is kept."""
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO skill_states(name, enabled, reason) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET enabled = excluded.enabled, reason = excluded.reason",
                (name, int(enabled), reason),
            )

    def grant(self, name: str, version: str, permissions: frozenset[str] | set[str]) -> None:
        """Enable ``name`` with the user's yes to exactly these permissions for this version."""
        at = datetime.now(UTC).isoformat(timespec="seconds")
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO skill_states(name, enabled, reason, version, permissions, granted_at) "
                "VALUES (?, 1, 'enabled by you', ?, ?, ?) ON CONFLICT(name) DO UPDATE SET enabled = 1, "
                "reason = excluded.reason, version = excluded.version, permissions = excluded.permissions, "
                "granted_at = excluded.granted_at",
                (name, version, json.dumps(sorted(permissions)), at),
            )

    def granted(self, name: str) -> Grant | None:
        row = self._row(name)
        if row is None or row["permissions"] is None:
            return None
        try:
            permissions = json.loads(row["permissions"])
        except ValueError:
            return None
        if not isinstance(permissions, list):
            return None
        return Grant(str(row["version"] or ""), frozenset(map(str, permissions)), str(row["granted_at"] or ""))

    def forget(self, name: str) -> None:
        """On uninstall: a skill installed again later asks again."""
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM skill_states WHERE name = ?", (name,))

    def names(self) -> list[str]:
        return [str(r["name"]) for r in self.db.query("SELECT name FROM skill_states ORDER BY name")]

    def _row(self, name: str):
        rows = self.db.query("SELECT * FROM skill_states WHERE name = ?", (name,))
        return rows[0] if rows else None

    def _import_legacy_file(self) -> None:
        """skills.json from before schema 4: its entries go into the store (rows already there win)."""
        path = self.db.data_dir / LEGACY_FILE
        if not path.is_file():
            return
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"{path}: unreadable skill settings ({exc}); fix or delete it") from exc
        entries = {k: v for k, v in raw.items() if isinstance(v, dict)} if isinstance(raw, dict) else {}
        with self.db.transaction() as tx:
            for name, entry in entries.items():
                permissions = entry.get("permissions")
                tx.execute(
                    "INSERT INTO skill_states(name, enabled, reason, version, permissions, granted_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (
                        str(name),
                        int(bool(entry.get("enabled"))),
                        str(entry.get("reason", "")),
                        str(entry["version"]) if "version" in entry else None,
                        json.dumps(sorted(map(str, permissions))) if isinstance(permissions, list) else None,
                        str(entry["granted_at"]) if "granted_at" in entry else None,
                    ),
                )
        path.replace(path.with_name(LEGACY_FILE + ".imported"))
        log.info("skill settings moved from %s into the store", path)
