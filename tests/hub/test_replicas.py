"""Two hubs on one PostgreSQL store behind HAProxy (round-robin, no sticky sessions): any replica takes
any turn, a replica killed mid-checkout never doubles an order, the server restarting is busy then
service, and devices paired or revoked on one are so on the other."""

from __future__ import annotations

import re

import httpx
import pytest

from assistant.config import load_config
from assistant.household import Household
from assistant.hub.pairing import Pairing
from assistant.store import Database, ensure_demo
from tests.replicas import replicated

pytestmark = [pytest.mark.slow, pytest.mark.sqlite_only]  # the replicas' store is PostgreSQL in any run

PLACED = re.compile(r"\bOrder (\d+) is placed\b")


@pytest.fixture(scope="module")
def shop(tmp_path_factory, postgres_server):
    url = postgres_server.database()
    db = Database(tmp_path_factory.mktemp("setup"), url)
    ensure_demo(db, load_config().user)
    household = Household(db, load_config().user)
    household.add("alice")
    yield url, db, Pairing(db, household)
    db.close()


@pytest.fixture(scope="module")
def hubs(shop):
    """Started once for the module (a replica takes a minute to start here); the kill test comes last."""
    url, db, pairing = shop
    with replicated(url, 2) as (balancer, replicas):
        yield balancer, replicas, db, pairing


def _orders(db: Database, user: str) -> list[tuple]:
    return db.query("SELECT o.id, o.token FROM orders o JOIN users u ON u.id = o.user_id WHERE u.name = ? "
                    "AND o.status = 'placed'", (user,))  # fmt: skip


def _next_replica(client: httpx.Client) -> str:
    """Round-robin: the replica after the one that answered the last request."""
    last = client.get("/healthz").headers["x-replica"]
    return "r1" if last == "r2" else "r2"
