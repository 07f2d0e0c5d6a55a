"""A real App (store in tmp_path, the trained NLU) behind the hub, and paired devices to call it with."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.app import App
from assistant.config import load_config
from assistant.hub import create_hub
from assistant.hub.limits import Limits
from assistant.hub.pairing import Pairing


@dataclass
class HubUnderTest:
    app: App
    pairing: Pairing
    client: TestClient
    app_limits: Limits

    def device(self, name: str, user: str | None = None, *, household: bool = False) -> dict[str, str]:
        """Pair a device (the configured user's, another member's, or the household's): its headers."""
        user = None if household else (user or self.app.config.user)
        if user and self.app.household.get(user) is None:
            self.app.household.add(user)
        return {"Authorization": f"Bearer {self.pairing.pair(name, user)}"}

    def order_ids(self, user: str | None = None) -> set[int]:
        return {o.id for o in self.app.account(user).history()}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubUnderTest]:
    config = load_config()
    app = App.build(config, data_dir=tmp_path / "data")
    pairing = Pairing(app.db, app.household)
    limits = Limits(body_bytes=4096, rate_per_s=20, burst=40)
    api = create_hub(app, pairing, limits)
    try:
        with TestClient(api) as client:
            yield HubUnderTest(app, pairing, client, limits)
    finally:
        app.close()
