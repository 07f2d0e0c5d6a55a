"""From nothing to an answering skill, as docs/skills.md tells an author to do it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def assistant(*args: str, env: dict, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )


@pytest.mark.slow
def test_scaffold_install_enable_answer(tmp_path: Path):
    proc = assistant("skills", "new", "pantry", "--dir", str(tmp_path), env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    package = tmp_path / "pantry-skill"
    assert (package / "pyproject.toml").exists() and (package / "pantry_skill" / "nlu.yml").exists()
    assert (package / "pantry_skill" / "skill.toml").exists()

    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", "--target", str(site), str(package)],
        check=True,
    )  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(site)}
    data = tmp_path / "data"

    listed = json.loads(assistant("skills", "list", "--json", "--data-dir", str(data), env=env).stdout)
    pantry = next(s for s in listed["skills"] if s["name"] == "pantry")
    assert pantry["enabled"] is False and pantry["source"] == "assistant-skill-pantry"

    refused = assistant("skills", "enable", "pantry", "--data-dir", str(data), env=env)
    assert refused.returncode == 2 and "--yes" in refused.stderr

    enabled = assistant("skills", "enable", "pantry", "--yes", "--data-dir", str(data), env=env)
    assert enabled.returncode == 0 and "asks to" in enabled.stdout

    turn = json.loads(
        assistant("chat", "--json", "--data-dir", str(data), env=env, stdin="give me a pantry tip\n").stdout
    )
    assert turn["skill"] == "pantry" and "tip" in turn["reply"]

    # the scaffold's own test passes too
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_unknown_skill_and_bad_names(tmp_path: Path):
    env = dict(os.environ)
    proc = assistant("skills", "enable", "nope", "--yes", "--data-dir", str(tmp_path), env=env)
    assert proc.returncode == 2 and "no skill named 'nope'" in proc.stderr
    proc = assistant("skills", "new", "Bad Name", "--dir", str(tmp_path), env=env)
    assert proc.returncode == 2 and "lowercase" in proc.stderr
