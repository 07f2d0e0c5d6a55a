"""Which skills the user has enabled: built-ins start enabled, a newly installed skill starts disabled."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from assistant.errors import StoreError


class SkillStates:
    FILENAME = "skills.json"

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / self.FILENAME
        self._state: dict[str, dict[str, str | bool]] = {}
        if self.path.exists():
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                self._state = {k: v for k, v in raw.items() if isinstance(v, dict)}
            except (OSError, json.JSONDecodeError) as exc:
                raise StoreError(f"{self.path}: unreadable skill settings ({exc}); fix or delete it") from exc

    def enabled(self, name: str, builtin: bool) -> bool:
        entry = self._state.get(name)
        if entry is None:
            return builtin
        return bool(entry.get("enabled"))

    def reason(self, name: str) -> str:
        return str(self._state.get(name, {}).get("reason", ""))

    def set(self, name: str, enabled: bool, reason: str = "") -> None:
        self._state[name] = {"enabled": enabled, "reason": reason}
        self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".skills-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self._state, fh, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
