"""Which skills the user has enabled, and what they agreed each may do: built-ins start enabled."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from assistant.errors import StoreError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Grant:
    """The permissions the user agreed to when they enabled one version of a skill."""

    version: str
    permissions: frozenset[str]
    at: str
    """When, ISO 8601 in UTC."""


class SkillStates:
    FILENAME = "skills.json"

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / self.FILENAME
        self._state: dict[str, dict] = {}
        if self.path.exists():
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                self._state = {k: v for k, v in raw.items() if isinstance(v, dict)}
            except (OSError, json.JSONDecodeError) as exc:
                raise StoreError(f"{self.path}: unreadable skill settings ({exc}); fix or delete it") from exc

    def enabled(self, name: str, builtin: bool) -> bool:
        """The user's switch only; whether a third-party skill may run is consent.check's answer."""
        entry = self._state.get(name)
        if entry is None:
            return builtin
        return bool(entry.get("enabled"))

    def reason(self, name: str) -> str:
        return str(self._state.get(name, {}).get("reason", ""))

    def set(self, name: str, enabled: bool, reason: str = "") -> None:
        """Switch a skill on or off; what the user agreed to before is kept."""
        self._state[name] = {**self._state.get(name, {}), "enabled": enabled, "reason": reason}
        self._save()

    def grant(self, name: str, version: str, permissions: frozenset[str] | set[str]) -> None:
        """Enable ``name`` with the user's yes to exactly these permissions for this version."""
        self._state[name] = {
            "enabled": True,
            "reason": "enabled by you",
            "version": version,
            "permissions": sorted(permissions),
            "granted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self._save()

    def granted(self, name: str) -> Grant | None:
        entry = self._state.get(name, {})
        if "permissions" not in entry or not isinstance(entry["permissions"], list):
            return None
        return Grant(
            str(entry.get("version", "")), frozenset(map(str, entry["permissions"])), str(entry.get("granted_at", ""))
        )

    def forget(self, name: str) -> None:
        """On uninstall: a skill installed again later asks again."""
        if self._state.pop(name, None) is not None:
            self._save()

    def names(self) -> list[str]:
        return sorted(self._state)

    def _save(self) -> None:
        # a temporary file renamed over the old one: a crash leaves the old or the new, never half
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".skills-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self._state, fh, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


def forget_uninstalled(states: SkillStates, skills_dir: Path, installed: Collection[str]) -> list[str]:
    """Skills no longer installed lose their folder (``skills_dir/NAME``) and what the user agreed to.

    ``installed`` must name every skill discovery saw, broken ones too: a skill that fails to import
    today is still installed, and its data stays."""
    if not installed:  # discovery itself failed (the built-ins are always there): erase nothing
        return []
    folders = {p.name for p in Path(skills_dir).iterdir() if p.is_dir()} if Path(skills_dir).is_dir() else set()
    gone = sorted((folders | set(states.names())) - set(installed))
    for name in gone:
        shutil.rmtree(Path(skills_dir) / name, ignore_errors=True)
        states.forget(name)
        log.info("skill '%s' is no longer installed: its folder and your consent record are erased", name)
    return gone
