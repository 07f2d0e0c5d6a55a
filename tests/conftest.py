"""Shared fixtures: one trained NLU model per test run, a fresh store per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> None:
    # trained models are cached for the whole run; no test touches the user's real data
    os.environ.setdefault("ASSISTANT_MODEL_CACHE", str(tmp_path_factory.mktemp("models")))
    os.environ["ASSISTANT_DATA_DIR"] = str(tmp_path_factory.mktemp("default-data"))
    os.environ["ASSISTANT_CONFIG"] = str(REPO / "config.yml")


@pytest.fixture
def chat(tmp_path: Path):
    from assistant.testing import Chat

    with Chat(tmp_path / "data") as c:
        yield c
