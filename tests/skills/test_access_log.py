"""The access log: every capability call of a third-party skill, what it saw, bounded, erasable."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from assistant.cli import main
from assistant.skills.access_log import AccessLog, AccessLogReader, logged_capabilities
from assistant.skills.capabilities import CartAccess, CatalogAccess, ProfileAccess
from assistant.store import Catalog, Database, Orders, ensure_demo


@pytest.fixture
def shop(tmp_path):
    db = Database(tmp_path / "data")
    ensure_demo(db, "sam")
    log = AccessLog(db.data_dir)
    orders = Orders(db, "sam")
    caps = {
        "catalog": CatalogAccess(Catalog(db)),
        "cart": CartAccess(orders),
        "profile": ProfileAccess("sam", "1 High Street"),
    }
    yield db, log, orders, logged_capabilities(caps, "recipes", log, user="sam")
    log.close()
    db.close()


def test_each_call_is_recorded_with_what_it_saw_and_did(shop):
    _, log, orders, caps = shop
    found = caps["catalog"].search("milk", limit=3)
    assert found
    caps["cart"].add(found[0], 2)
    caps["profile"].address()
    entries = log.entries(skill="recipes")
    assert [(e.capability, e.method) for e in entries] == [
        ("profile", "address"),
        ("cart", "add"),
        ("catalog", "search"),
    ]
    assert entries[2].summary == f"searched the catalogue for 'milk': {len(found)} products"
    assert entries[1].summary == f"added 2 items to the basket ({found[0].title})"
    assert entries[0].summary == "read your delivery address"
    assert all(e.user == "sam" and datetime.now(UTC) - e.at < timedelta(minutes=1) for e in entries)
    assert [line.quantity for line in orders.cart()] == [2]  # the call itself still happened


def test_the_wrapped_store_object_is_out_of_reach(shop):
    caps = shop[3]
    with pytest.raises(AttributeError):
        caps["catalog"]._catalog  # noqa: B018 - the point is that reading it fails


def test_a_failed_call_is_recorded_and_still_fails(shop):
    _, log, _, caps = shop
    with pytest.raises(AttributeError):
        caps["cart"].add("not a product")
    assert log.entries()[0].summary == "tried add: failed (AttributeError)"


def test_the_log_keeps_only_the_newest_entries(tmp_path):
    log = AccessLog(tmp_path, max_entries=50)
    for i in range(130):
        log.record("recipes", "catalog", "search", f"call {i}")
    entries = log.entries()
    assert len(entries) == 50
    assert entries[0].summary == "call 129" and entries[-1].summary == "call 80"


def test_entries_older_than_the_limit_are_gone_when_the_log_opens(tmp_path):
    AccessLog(tmp_path).close()
    old = (datetime.now(UTC) - timedelta(days=31)).isoformat()
    with sqlite3.connect(tmp_path / AccessLog.FILENAME) as db:
        db.execute(
            "INSERT INTO access (at, user, skill, capability, method, summary) VALUES (?, '', 'recipes', 'catalog', "
            "'search', 'an old search')",
            (old,),
        )
    log = AccessLog(tmp_path)
    log.record("recipes", "catalog", "search", "a new search")
    assert [e.summary for e in log.entries()] == ["a new search"]


def test_since_and_skill_narrow_the_answer(tmp_path):
    log = AccessLog(tmp_path)
    log.record("recipes", "catalog", "search", "one")
    log.record("deals", "cart", "lines", "two")
    assert [e.summary for e in log.entries(skill="deals")] == ["two"]
    assert log.entries(since=datetime.now() + timedelta(minutes=1)) == []  # naive = local time
    reader = AccessLogReader(log)
    assert [e.skill for e in reader.entries(since=datetime.now() - timedelta(hours=1))] == ["deals", "recipes"]


def test_erase_leaves_nothing_in_the_file(tmp_path):
    log = AccessLog(tmp_path)
    for _ in range(20):
        log.record("recipes", "profile", "address", "read your delivery address at 1 Secret Lane", user="sam")
    log.record("recipes", "catalog", "search", "kept for the other user", user="alex")
    assert log.erase("sam") == 20
    assert [e.user for e in log.entries()] == ["alex"]
    raw = b"".join(p.read_bytes() for p in tmp_path.glob(AccessLog.FILENAME + "*"))
    assert b"Secret Lane" not in raw  # while the assistant still runs
    log.erase()
    log.close()
    assert AccessLog(tmp_path).entries() == []


def test_skills_log_command_prints_the_log(tmp_path, capsys):
    data = tmp_path / "data"
    log = AccessLog(data)
    log.record("recipes", "catalog", "search", "searched the catalogue for 'flour': 3 products")
    log.record("deals", "cart", "lines", "read your basket (2 lines)")
    log.close()
    assert main(["skills", "log", "recipes", "--data-dir", str(data), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["entries"]
    assert [(r["skill"], r["capability"], r["method"], r["summary"]) for r in rows] == [
        ("recipes", "catalog", "search", "searched the catalogue for 'flour': 3 products")
    ]
    assert main(["skills", "log", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and "deals" in out[0] and "read your basket (2 lines)" in out[0]
    assert main(["skills", "log", "nobody", "--data-dir", str(data)]) == 0
    assert "No calls" in capsys.readouterr().out
