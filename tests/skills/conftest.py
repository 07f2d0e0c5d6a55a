"""Third-party skill packages, installed for real with pip into a folder of their own."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = [
    REPO / "examples" / "recipes-skill",
    REPO / "tests" / "fixtures" / "misbehaving-skill",
    *sorted((REPO / "tests" / "fixtures" / "hostile").iterdir()),
]


@pytest.fixture(scope="session")
def skill_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip-installs the example, the misbehaving and the hostile skill packages (offline, no build isolation)."""
    site = tmp_path_factory.mktemp("site")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--target",
        str(site),
    ]
    subprocess.run([*cmd, *map(str, PACKAGES)], check=True, capture_output=True, text=True)
    return site


@pytest.fixture
def with_skills(skill_site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(skill_site))
    importlib.invalidate_caches()
    return skill_site
