"""The store's tests' shop: a fresh file with the demo catalogue and the member 'me'."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.store import Database, ensure_demo


@pytest.fixture
def shop(tmp_path: Path):
    db = Database(tmp_path / "data")
    ensure_demo(db, "me")
    yield db
    db.close()
