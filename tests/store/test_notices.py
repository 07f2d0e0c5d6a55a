"""Notifications in the store: a skill's flood stops at the limit, and whichever door takes one first says it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from assistant.store import Catalog, Database
from assistant.store.notices import PER_DAY, PER_HOUR, Notifications
from assistant.store.watches import PriceChange, PriceWatches, check


@pytest.fixture
def db(shop: Database) -> Database:
    return shop


def test_per_skill_and_member_an_hour_and_a_day(db: Database):
    notes = Notifications(db)
    me, other = db.user_id("me"), db.user_id("other")
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    sent = [notes.post(me, "recipes", f"note {i}", builtin=False, at=start) for i in range(PER_HOUR + 2)]
    assert [s is not None for s in sent] == [True] * PER_HOUR + [False, False]
    assert notes.post(me, "timers", "another skill's own allowance", builtin=False, at=start) is not None
    assert notes.post(other, "recipes", "another member's own allowance", builtin=False, at=start) is not None
    # hour after hour the day's limit is reached, then nothing more until a day has passed
    hours = [start + timedelta(hours=h, minutes=1) for h in range(1, 8)]
    kept = sum(notes.post(me, "recipes", "again", builtin=False, at=at) is not None for at in hours for _ in range(3))
    assert PER_HOUR + kept == PER_DAY
    assert notes.post(me, "recipes", "next day", builtin=False, at=start + timedelta(days=1, minutes=2)) is not None


def test_a_notification_is_taken_once_even_by_doors_racing_for_it(db: Database):
    notes = Notifications(db)
    me = db.user_id("me")
    for i in range(3):
        notes.post(me, "recipes", f"note {i}", builtin=False)
    assert notes.waiting() == {me} and notes.pending(me) == 3
    taken: list[list] = []
    barrier = threading.Barrier(4)

    def door(via: str) -> None:
        barrier.wait()
        taken.append(notes.take(me, via))  # type: ignore[arg-type]
        db.release_thread()

    doors = [threading.Thread(target=door, args=(v,)) for v in ("page", "satellite", "conversation", "asked")]
    for t in doors:
        t.start()
    for t in doors:
        t.join()
    said = [n.text for got in taken for n in got]
    assert sorted(said) == ["note 0", "note 1", "note 2"]  # all said, none twice
    assert notes.pending(me) == 0 and notes.waiting() == set()


def test_price_news_and_skills_notes_come_in_the_order_they_happened(db: Database):
    notes = Notifications(db)
    me = db.user_id("me")
    beans = Catalog(db).by_sku("GRO-0073")  # Lavazza Qualità Rossa, 14.50
    PriceWatches(db, me).add("lavazza", [beans], 1000)
    with db.transaction() as tx:
        check(tx, [PriceChange(beans.id, 1450, 950)])
        tx.execute("UPDATE price_news SET created_at = '2026-01-01 10:00:00'")
    notes.post(me, "recipes", "the dough has risen", builtin=False)
    got = notes.take(me, "page")
    assert [n.kind for n in got] == ["price", "skill"]
    assert got[0].text == "Lavazza Qualità Rossa Coffee Beans is now 9 pounds 50, under your 10 pounds"
    assert db.query("SELECT said_via FROM price_news")[0][0] == "page"
    assert PriceWatches(db, me).unsaid() == []  # "what did I miss?" does not say it again


def test_a_flood_from_many_conversations_at_once_still_stops_at_the_limit(db: Database):
    notes = Notifications(db)
    me = db.user_id("me")
    kept: list[int] = []
    barrier = threading.Barrier(8)

    def conversation(n: int) -> None:
        barrier.wait()
        for i in range(5):
            if notes.post(me, "pester", f"flood {n}.{i}", builtin=False) is not None:
                kept.append(n)
        db.release_thread()

    flood = [threading.Thread(target=conversation, args=(n,)) for n in range(8)]
    for t in flood:
        t.start()
    for t in flood:
        t.join()
    assert len(kept) == PER_HOUR and notes.pending(me) == PER_HOUR
