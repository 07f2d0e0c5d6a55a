"""Trained-model cache files: written under a unique temporary name and renamed, so readers never see half a file."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

TEMP_PREFIX = ".tmp-"
STALE_AFTER_S = 3600.0
"""A temporary file this old belongs to a process that died mid-write (training takes seconds)."""


def write_atomically(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` so that any number of processes may do it at once.

    Each writer has its own temporary file in the same directory and renames it over ``path``;
    the rename is atomic, so a reader sees either no file or a whole one, never a mix.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(directory: Path, older_than_s: float = STALE_AFTER_S) -> int:
    """Delete temporary files left by writers that died; returns how many were removed."""
    removed = 0
    if not directory.is_dir():
        return 0
    cutoff = time.time() - older_than_s
    for tmp in directory.glob(f"{TEMP_PREFIX}*"):
        try:
            if tmp.stat().st_mtime >= cutoff:
                continue
            if tmp.is_dir():  # a Rasa training folder
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink()
            removed += 1
        except FileNotFoundError:  # another process cleaned it first
            continue
    if removed:
        log.info("removed %d stale temporary model file(s) in %s", removed, directory)
    return removed
