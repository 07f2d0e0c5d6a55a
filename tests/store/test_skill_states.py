"""Skill switches and consent live in the store: one row a skill, each change its own transaction."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from assistant.store.skill_states import SkillStates


def test_a_grant_from_another_process_survives_the_hub_switching_a_skill_off(tmp_path: Path):
    hub = SkillStates(tmp_path)  # read when the hub started
    hub.set("crashy", True, "enabled by you")
    grant = (
        "from pathlib import Path; from assistant.store.skill_states import SkillStates; "
        f"SkillStates(Path({str(tmp_path)!r})).grant('garden', '1.0.0', {{'catalog.read'}})"
    )
    subprocess.run([sys.executable, "-c", grant], check=True, timeout=120)  # `assistant skills enable garden`
    assert hub.granted("garden") is not None  # the running hub sees it without a restart
    hub.set("crashy", False, "failed 3 times in a row")  # ...and switching a skill off keeps it
    later = SkillStates(tmp_path)
    assert later.enabled("garden", builtin=False) and later.granted("garden").permissions == {"catalog.read"}
    assert not later.enabled("crashy", builtin=False) and later.reason("crashy") == "failed 3 times in a row"


def test_switching_off_and_on_keeps_what_was_agreed(tmp_path: Path):
    states = SkillStates(tmp_path)
    states.grant("garden", "1.0.0", {"catalog.read", "cart.write"})
    states.set("garden", False, "disabled by you")
    states.set("garden", True, "enabled by you")
    grant = SkillStates(tmp_path).granted("garden")
    assert grant is not None and grant.version == "1.0.0" and grant.permissions == {"catalog.read", "cart.write"}
    states.forget("garden")
    assert SkillStates(tmp_path).names() == []


def test_skills_json_of_an_older_version_moves_into_the_store_once(tmp_path: Path):
    legacy = {
        "garden": {"enabled": True, "reason": "enabled by you", "version": "1.0.0",
                   "permissions": ["catalog.read"], "granted_at": "2026-11-01T10:00:00+00:00"},
        "crashy": {"enabled": False, "reason": "failed 3 times in a row"},
    }  # fmt: skip
    (tmp_path / "skills.json").write_text(json.dumps(legacy))
    states = SkillStates(tmp_path)
    assert states.granted("garden").at == "2026-11-01T10:00:00+00:00"
    assert not states.enabled("crashy", builtin=False)
    assert not (tmp_path / "skills.json").exists() and (tmp_path / "skills.json.imported").exists()
    assert SkillStates(tmp_path).names() == ["crashy", "garden"]
