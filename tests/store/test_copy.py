"""A household moving its SQLite store to a shared PostgreSQL server keeps everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.household import Household
from assistant.hub.pairing import Pairing
from assistant.store import Database
from assistant.store.copy import TABLES
from assistant.store.skill_states import SkillStates
from tests.cli_helpers import REPO

pytestmark = pytest.mark.sqlite_only  # the source is an SQLite file, whatever the run's engine


def _run(data: Path, *args: str, url: str, said: list[str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "ASSISTANT_STORE_URL": url}
    stdin = "".join(f"{line}\n" for line in said) if said is not None else None
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args, "--data-dir", str(data)],
        input=stdin, capture_output=True, text=True, cwd=REPO, timeout=300, env=env,
    )  # fmt: skip


def _rows(db: Database, table: str) -> list[tuple]:
    return sorted(tuple(r) for r in db.query(f"SELECT * FROM {table}"))  # noqa: S608


def test_every_table_of_the_schema_is_copied(tmp_path: Path):
    db = Database(tmp_path, f"sqlite:///{tmp_path / 'a.sqlite3'}")
    tables = {
        r[0] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        if r[0] not in ("meta", "sqlite_sequence") and not r[0].startswith("products_fts")
    }  # fmt: skip
    assert tables == set(TABLES)


@pytest.mark.slow
def test_a_household_copied_to_postgresql_keeps_its_orders_list_members_and_devices(tmp_path: Path, postgres_server):
    data = tmp_path / "data"
    lite = f"sqlite:///{data / Database.FILENAME}"
    said = ["search for oat milk", "add the second one", "put washing-up liquid on the list", "check out", "yes"]
    chat = _run(data, "chat", url=lite, said=said)
    assert chat.returncode == 0 and "order" in chat.stdout.lower(), chat.stderr[-1000:]
    source = Database(data, lite)
    Household(source, "default").add("alice")
    Household(source, "default").set_code("alice", "4321")
    token = Pairing(source, Household(source, "default")).pair("kitchen-tablet")
    SkillStates(source).set("recommend", False, "switched off by you")
    before = {t: _rows(source, t) for t in TABLES}

    target = postgres_server.database()
    done = _run(data, "store", "copy", lite, target, url=lite)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Copied ") and "postgres@" in done.stdout
    copied = Database(tmp_path / "other", target)
    assert {t: _rows(copied, t) for t in TABLES} == before

    # the household goes on on the server: its orders, its list, its new orders numbered after the old
    assert json.loads(_run(data, "orders", "--json", url=target).stdout) == json.loads(
        _run(data, "orders", "--json", url=lite).stdout
    )
    chat = _run(data, "chat", url=target, said=["what's on my shopping list", "search for coffee beans",
                                                "add the first one", "check out", "yes"])  # fmt: skip
    assert chat.returncode == 0, chat.stderr[-1000:]
    assert "washing up liquid" in chat.stdout.lower()
    newest = max(json.loads(_run(data, "orders", "--json", url=target).stdout), key=lambda o: o["id"])
    assert newest["id"] > max(o[0] for o in before["orders"])
    assert Pairing(copied, Household(copied, "default")).authenticate(token) is not None
    assert Household(copied, "default").check_code(copied.user_id("alice"), "4321", "test")

    # a second copy into the same database is refused: nothing is doubled
    again = _run(data, "store", "copy", lite, target, url=lite)
    assert again.returncode != 0 and "already holds" in again.stderr and again.stderr.count("\n") == 1
