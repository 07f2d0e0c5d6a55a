"""Skills' storage folders of each member on this process's disk, kept in step with the store's erasures.

"Delete my data" heard by one replica erases that replica's folders at once and writes the erasure
to the store; every other replica (each has a disk of its own) erases its folders of that member
when it sees an erasure newer than the last it applied: before a skill is next given the member's
folder, at start, and on the hub's idle tick. What it applied is kept next to the folders
(``skills/erasures-applied.json``, under a file lock, since processes may share one data directory),
so a folder written after the erasure is never erased by it again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

from assistant.store.erasures import StorageErasures

log = logging.getLogger(__name__)

LEDGER = "erasures-applied.json"


class MemberFolders:
    def __init__(self, data_dir: Path, erasures: StorageErasures) -> None:
        self.root = Path(data_dir) / "skills"
        self.erasures = erasures
        self._seen: dict[int, float] = {}
        """The erasures this process knows are applied here (read again from the ledger when the store has newer)."""
        self._lock = threading.Lock()

    def erase(self, user_id: int) -> None:
        """The member's folders in every skill's storage here, now, and the erasure for the other replicas."""
        self._remove(user_id)
        stamp = self.erasures.record(user_id)
        with self._ledger() as applied:
            applied[str(user_id)] = max(stamp, applied.get(str(user_id), 0.0))
            self._seen[user_id] = applied[str(user_id)]

    def ready(self, user_id: int) -> None:
        """Before a skill gets the member's folder: an erasure another replica heard is applied here first."""
        stamp = self.erasures.of(user_id)
        if stamp and stamp > self._seen.get(user_id, 0.0):
            self._apply({user_id: stamp})

    def catch_up(self) -> int:
        """Every erasure not yet applied here (at start, and now and then); how many members' folders went."""
        newer = {uid: stamp for uid, stamp in self.erasures.all().items() if stamp > self._seen.get(uid, 0.0)}
        return self._apply(newer) if newer else 0

    def _apply(self, stamps: dict[int, float]) -> int:
        erased = 0
        with self._ledger() as applied:
            for user_id, stamp in stamps.items():
                if stamp > applied.get(str(user_id), 0.0):
                    self._remove(user_id)
                    applied[str(user_id)] = stamp
                    erased += 1
                self._seen[user_id] = applied[str(user_id)]
        if erased:
            log.info("erased the skills' folders of %d members who asked another replica to delete their data", erased)
        return erased

    def _remove(self, user_id: int) -> None:
        for folder in self.root.glob(f"*/storage/member-{user_id}"):
            shutil.rmtree(folder, ignore_errors=True)

    @contextlib.contextmanager
    def _ledger(self) -> Iterator[dict[str, float]]:
        """The applied erasures, read and written under an exclusive lock of the ledger's lock file."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / LEDGER
        with self._lock, open(self.root / f".{LEDGER}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                try:
                    applied = {str(k): float(v) for k, v in json.loads(path.read_text()).items()}
                except FileNotFoundError:
                    applied = {}
                except (ValueError, AttributeError, TypeError) as exc:
                    # unreadable: apply every erasure again (erasing too much here beats keeping too much)
                    log.warning("%s is not readable (%s): every erasure is applied again", path, exc)
                    applied = {}
                yield applied
                tmp = path.with_name(f".{LEDGER}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps(applied))
                os.replace(tmp, path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
