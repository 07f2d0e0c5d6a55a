"""The access log: every capability call of a third-party skill, what it saw, bounded, erasable."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from assistant.cli import main
from assistant.skills.access_log import LEGACY_FILE, AccessLog, AccessLogReader, CallRecord, logged_capabilities
from assistant.skills.capabilities import CartAccess, CatalogAccess, ProfileAccess
from assistant.store import Catalog, Database, Orders, ensure_demo


@pytest.fixture
def shop(tmp_path):
    db = Database(tmp_path / "data")
    ensure_demo(db, "sam")
    log = AccessLog(db)
    orders = Orders(db, "sam")
    caps = {
        "catalog": CatalogAccess(Catalog(db)),
        "cart": CartAccess(orders),
        "profile": ProfileAccess("sam", "1 High Street"),
    }
    yield db, log, orders, logged_capabilities(caps, "recipes", log, user="sam")
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
    log = AccessLog(Database(tmp_path), max_entries=50)
    for i in range(130):
        log.record("recipes", "catalog", "search", f"call {i}")
    entries = log.entries()
    assert len(entries) == 50
    assert entries[0].summary == "call 129" and entries[-1].summary == "call 80"


def test_entries_older_than_the_limit_are_gone_when_the_log_opens(tmp_path):
    db = Database(tmp_path)
    AccessLog(db)
    old = (datetime.now(UTC) - timedelta(days=31)).isoformat()
    with db.transaction() as tx:
        tx.execute(
            'INSERT INTO skill_access (at, "user", skill, capability, method, summary) '
            "VALUES (?, '', 'recipes', 'catalog', 'search', 'an old search')",
            (old,),
        )
    log = AccessLog(db)
    log.record("recipes", "catalog", "search", "a new search")
    assert [e.summary for e in log.entries()] == ["a new search"]


def test_a_skill_call_that_fails_or_times_out_cannot_take_its_reads_off_the_record(tmp_path):
    # as the dispatcher runs a sandboxed skill: its capability calls inside one transaction, which a
    # failure or a timeout rolls back with everything the skill wrote
    db = Database(tmp_path)
    ensure_demo(db, "sam")
    log = AccessLog(db)
    record = CallRecord(log, "nosy", "sam")
    profile = ProfileAccess("sam", "1 Secret Lane")
    with pytest.raises(TimeoutError), db.transaction():
        record("profile", "address", (), {}, profile.address())
        raise TimeoutError("the skill ran out of time")
    record.rolled_back()
    told = [e.summary for e in log.entries("nosy", user="sam")]
    assert "read your delivery address" in told
    record.rolled_back()  # said twice, still once on the record
    assert [e.summary for e in log.entries("nosy", user="sam")] == told


def test_an_older_assistants_log_file_moves_into_the_store(tmp_path):
    path = tmp_path / LEGACY_FILE
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE access (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT NOT NULL, "
            "skill TEXT NOT NULL, capability TEXT NOT NULL, method TEXT NOT NULL, summary TEXT NOT NULL)"
        )
        old.execute(
            "INSERT INTO access (at, user, skill, capability, method, summary) VALUES (?, 'sam', 'recipes', "
            "'catalog', 'search', 'searched the catalogue for ''flour'': 3 products')",
            (datetime.now(UTC).isoformat(),),
        )
    old.close()
    log = AccessLog(Database(tmp_path))
    assert [(e.skill, e.user) for e in log.entries()] == [("recipes", "sam")]
    assert not path.exists()
    assert AccessLog(Database(tmp_path)).entries() == log.entries()  # moved once, not twice


def test_since_and_skill_narrow_the_answer(tmp_path):
    log = AccessLog(Database(tmp_path))
    log.record("recipes", "catalog", "search", "one")
    log.record("deals", "cart", "lines", "two")
    assert [e.summary for e in log.entries(skill="deals")] == ["two"]
    assert log.entries(since=datetime.now() + timedelta(minutes=1)) == []  # naive = local time
    reader = AccessLogReader(log)
    assert [e.skill for e in reader.entries(since=datetime.now() - timedelta(hours=1))] == ["deals", "recipes"]


def test_erase_leaves_nothing_in_the_file(tmp_path):
    db = Database(tmp_path)
    log = AccessLog(db)
    for _ in range(20):
        log.record("recipes", "profile", "address", "read your delivery address at 1 Secret Lane", user="sam")
    log.record("recipes", "catalog", "search", "kept for the other user", user="alex")
    assert log.erase("sam") == 20
    assert [e.user for e in log.entries()] == ["alex"]
    if db.engine == "sqlite":  # the store's file and its write-ahead log, while the assistant still runs
        raw = b"".join(p.read_bytes() for p in tmp_path.glob(Database.FILENAME + "*"))
        assert b"delivery address" in raw or b"other user" in raw  # the file is the one holding the log
        assert b"Secret Lane" not in raw
    log.erase()
    assert AccessLog(Database(tmp_path)).entries() == []


def test_skills_log_command_prints_the_log(tmp_path, capsys):
    data = tmp_path / "data"
    log = AccessLog(Database(data))
    log.record("recipes", "catalog", "search", "searched the catalogue for 'flour': 3 products")
    log.record("deals", "cart", "lines", "read your basket (2 lines)")
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
