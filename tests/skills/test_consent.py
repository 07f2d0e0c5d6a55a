"""`skills enable` records what the user agreed to per version; an upgrade asking for more waits for a new yes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.nlu import load_training_data
from assistant.skills import consent
from assistant.skills.state import SkillStates, forget_uninstalled

SKILL = """
from assistant.sdk import Skill, intent, say


class GardenSkill(Skill):
    name = {name!r}
    version = {version!r}
    permissions = frozenset({permissions!r})

    @intent({intent!r})
    def tips(self, ctx, request):
        return say("Water the tomatoes.")
"""
NLU = 'version: "3.1"\nnlu:\n- intent: {intent}\n  examples: |\n    - garden tips\n    - what should i plant\n'


def install(
    site: Path,
    version: str,
    permissions: set[str],
    *,
    name: str = "garden",
    entry: str = "garden",
    intent: str = "garden_tips",
) -> None:
    """Lay a skill package out as pip would: the module, its nlu.yml, and a dist-info with the entry point."""
    package = site / "garden_skill"
    package.mkdir(parents=True, exist_ok=True)
    fields = {"name": name, "version": version, "permissions": permissions or set(), "intent": intent}
    (package / "__init__.py").write_text(SKILL.format(**fields))
    (package / "nlu.yml").write_text(NLU.format(intent=intent))
    # the manifest discovery reads without importing (where it does), saying the same as the class
    perms = ", ".join(f'"{p}"' for p in sorted(permissions))
    (package / "skill.toml").write_text(
        f'[skills.{entry}]\nversion = "{version}"\npermissions = [{perms}]\nintents = {{ "{intent}" = "tips" }}\n'
    )
    info = site / f"assistant_skill_garden-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: assistant-skill-garden\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[assistant.skills]\n{entry} = garden_skill:GardenSkill\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A fresh folder on sys.path per version, so the newest install is the one discovered."""
    sites: list[Path] = []

    def new_site() -> Path:
        for old in sites:
            monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(old)])
        monkeypatch.delitem(sys.modules, "garden_skill", raising=False)
        path = tmp_path / f"site{len(sites)}"
        path.mkdir()
        sites.append(path)
        monkeypatch.syspath_prepend(str(path))
        return path

    return new_site


@pytest.fixture(scope="module")
def builtin_data():
    return load_training_data(sorted((Path(__file__).resolve().parents[2] / "skills").glob("*/nlu.yml")))


def skills_list(data: Path, capsys) -> dict[str, dict]:
    capsys.readouterr()
    assert main(["skills", "list", "--json", "--data-dir", str(data)]) == 0
    return {row["name"]: row for row in json.loads(capsys.readouterr().out)["skills"]}


def test_enabling_without_a_terminal_needs_yes(tmp_path, site, capsys):
    install(site(), "1.0.0", {"catalog.read"})
    data = tmp_path / "data"
    assert main(["skills", "enable", "garden", "--data-dir", str(data)]) == 2
    assert "add --yes" in capsys.readouterr().err
    assert skills_list(data, capsys)["garden"]["enabled"] is False


def test_an_upgrade_asking_for_more_is_held_until_agreed_again(tmp_path, site, capsys):
    data = tmp_path / "data"
    install(site(), "1.0.0", {"catalog.read"})
    assert main(["skills", "enable", "garden", "--yes", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "catalog.read: search and read the product catalogue" in out
    assert skills_list(data, capsys)["garden"]["status"] == "ok"

    install(site(), "1.1.0", {"catalog.read", "orders.read"})
    row = skills_list(data, capsys)["garden"]
    assert row["enabled"] is False
    assert row["status"].startswith("held: version 1.1.0 asks for more than you agreed to for 1.0.0 (orders.read)")

    assert main(["skills", "enable", "garden", "--yes", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "(new) orders.read: read your order history" in out
    assert "- catalog.read" in out  # the old one is shown too, not marked new
    assert skills_list(data, capsys)["garden"]["enabled"] is True


def test_an_upgrade_asking_for_the_same_or_less_stays_enabled(tmp_path, site, capsys):
    data = tmp_path / "data"
    install(site(), "1.0.0", {"catalog.read", "cart.write"})
    assert main(["skills", "enable", "garden", "--yes", "--data-dir", str(data)]) == 0
    install(site(), "2.0.0", {"catalog.read"})
    row = skills_list(data, capsys)["garden"]
    assert (row["enabled"], row["version"], row["status"]) == (True, "2.0.0", "ok")


def test_a_skill_named_like_a_builtin_never_runs_as_it(tmp_path, site, capsys):
    install(site(), "1.0.0", {"catalog.read"}, name="cart", entry="cart")
    data = tmp_path / "data"
    main(["skills", "enable", "cart", "--yes", "--data-dir", str(data)])
    capsys.readouterr()
    assert main(["skills", "list", "--json", "--data-dir", str(data)]) == 0
    rows = json.loads(capsys.readouterr().out)["skills"]
    # refused at enable (or, where discovery refuses it first, never listed as a skill at all)
    assert [r for r in rows if r["source"] == "assistant-skill-garden" and r["enabled"]] == []


def test_the_refusal_of_a_builtins_name_is_one_line(builtin_data):
    line = consent.refusal("cart", "assistant-skill-evil", {"catalog.read"}, builtins=(), builtin_data=builtin_data)
    assert line == "skill 'cart' from assistant-skill-evil has the name of a built-in skill, so it cannot be enabled"


def test_a_builtin_only_permission_is_refused(tmp_path, site, capsys):
    install(site(), "1.0.0", {"access_log.read"})
    assert main(["skills", "enable", "garden", "--yes", "--data-dir", str(tmp_path)]) == 2
    assert "access_log.read, which only built-in skills get" in capsys.readouterr().err


def test_training_data_that_takes_a_builtin_intent_is_refused_at_enable(tmp_path, site, capsys):
    install(site(), "1.0.0", {"catalog.read"}, intent="affirm")
    assert main(["skills", "enable", "garden", "--yes", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "built-in intent(s) affirm" in err and len(err.strip().splitlines()) == 1


def test_consent_recorded_before_versions_were_kept_is_asked_again(tmp_path):
    states = SkillStates(tmp_path)
    states.set("garden", True, "enabled by you")  # as skills.json was written before
    verdict = consent.check(states, "garden", "1.0.0", {"catalog.read"}, builtin=False)
    assert not verdict.allowed and verdict.held and "assistant skills enable garden" in verdict.status
    states.grant("garden", "1.0.0", {"catalog.read"})
    states.set("garden", False, "disabled by you")
    states.set("garden", True, "enabled by you")  # switching off and on keeps what was agreed
    assert consent.check(SkillStates(tmp_path), "garden", "1.0.0", {"catalog.read"}, builtin=False).allowed


def test_builtins_run_unless_switched_off(tmp_path):
    states = SkillStates(tmp_path)
    assert consent.check(states, "cart", "0.1.0", {"cart.write"}, builtin=True).allowed
    states.set("cart", False, "disabled by you")
    assert consent.check(states, "cart", "0.1.0", {"cart.write"}, builtin=True).status == "disabled by you"


def test_an_uninstalled_skill_leaves_no_folder_and_asks_again_when_reinstalled(tmp_path):
    states = SkillStates(tmp_path)
    states.grant("garden", "1.0.0", {"catalog.read"})
    states.grant("broken", "1.0.0", set())
    for name in ("garden", "broken"):
        (tmp_path / "skills" / name / "storage").mkdir(parents=True)
        (tmp_path / "skills" / name / "storage" / "notes.txt").write_text("tomatoes")
    # 'broken' fails to import today but is still installed: discovery reports it as a problem
    assert forget_uninstalled(states, tmp_path / "skills", installed={"cart", "broken"}) == ["garden"]
    assert not (tmp_path / "skills" / "garden").exists()
    assert (tmp_path / "skills" / "broken" / "storage" / "notes.txt").exists()
    assert consent.check(SkillStates(tmp_path), "garden", "1.0.0", {"catalog.read"}, builtin=False).status == (
        "disabled until you enable it"
    )


def test_the_consent_prompt_names_notify_and_its_limit(tmp_path, site, capsys):
    install(site(), "1.0.0", {"catalog.read", "notify"})
    assert main(["skills", "enable", "garden", "--yes", "--data-dir", str(tmp_path / "data")]) == 0
    out = capsys.readouterr().out
    assert "  - notify: tell you things later, on your companion pages and speakers (at most 3 an hour" in out
