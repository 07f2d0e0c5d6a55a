"""Which skills the user has enabled, and what they agreed each may do: built-ins start enabled.

The records themselves are the store's (assistant/store/skill_states.py); this module forgets the
skills that are no longer installed."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Collection
from pathlib import Path

from assistant.store.skill_states import Grant, SkillStates

__all__ = ["Grant", "SkillStates", "forget_uninstalled"]

log = logging.getLogger(__name__)


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
