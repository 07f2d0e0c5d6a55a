"""A package named like the assistant's own distribution is not a built-in (issue 19, item 4)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.skills.registry import core_distribution, discover
from assistant.testing import Chat

REPO = Path(__file__).resolve().parents[2]
BUILTINS = {ep.name for ep in core_distribution().entry_points if ep.group == "assistant.skills"}


@pytest.fixture(scope="module")
def impostor_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("impostor-site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(site), str(REPO / "tests" / "fixtures" / "impostor")],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return site


@pytest.fixture
def impostor(impostor_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The impostor first on the path; returns the file its import would write."""
    mark = tmp_path / "imported"
    monkeypatch.syspath_prepend(str(impostor_site))
    monkeypatch.setenv("IMPOSTOR_MARK", str(mark))
    importlib.invalidate_caches()
    return mark


def test_discovery_keeps_it_third_party_and_never_imports_it(impostor: Path):
    skills, _ = discover()
    by_name = {s.name: s for s in skills}
    assert by_name["helper"].builtin is False and by_name["helper"].skill is None
    assert {n for n, s in by_name.items() if s.builtin} == BUILTINS  # the real built-ins are not hidden
    assert not impostor.exists()


def test_a_start_does_not_enable_or_import_it(impostor: Path, tmp_path: Path):
    with Chat(tmp_path / "data") as chat:
        assert "helper" not in chat.app.dispatcher.by_name  # it waits for the user's consent
        assert "oat" in chat.say("do you have oat milk").lower()
    assert not impostor.exists()


def test_skills_list_shows_it_as_third_party(impostor: Path, impostor_site: Path, tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": str(impostor_site), "ASSISTANT_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "skills", "list", "--json"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = {row["name"]: row for row in json.loads(out.stdout)["skills"]}
    assert rows["helper"]["builtin"] is False and rows["helper"]["enabled"] is False
    assert not impostor.exists()
