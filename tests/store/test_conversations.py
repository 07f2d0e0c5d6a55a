"""Conversation records: one turn at a time holds a conversation, whichever process it runs in."""

import multiprocessing
import threading
import time
from pathlib import Path

import pytest

from assistant.errors import StoreBusy
from assistant.store import Database
from assistant.store.conversations import ConversationRecords, stamp


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def records(tmp_path: Path):
    clock = Clock()
    db = Database(tmp_path / "data")
    yield ConversationRecords(db, clock=clock), clock
    db.close()


def test_a_saved_record_is_read_by_the_next_turn_until_it_expires(records):
    store, clock = records
    lease = store.load_for_turn("hub:a/kitchen", lease_s=5, wait_s=1)
    assert lease.state is None  # a new conversation
    assert store.save(lease, '{"format":1}', member_id=None, keep_s=60)
    assert store.load_for_turn("hub:a/kitchen", lease_s=5, wait_s=1).state == '{"format":1}'


def test_an_expired_record_is_not_read(records):
    store, clock = records
    lease = store.load_for_turn("k", lease_s=5, wait_s=1)
    store.save(lease, "{}", member_id=None, keep_s=60)
    clock.now += 61
    assert store.load_for_turn("k", lease_s=5, wait_s=1).state is None
    assert store.peek("k") is None


def test_a_second_turn_waits_for_the_first_and_then_reads_what_it_wrote(records):
    store, _ = records
    first = store.load_for_turn("k", lease_s=30, wait_s=1)
    read: list[str | None] = []
    second = threading.Thread(target=lambda: read.append(store.load_for_turn("k", lease_s=30, wait_s=5).state))
    second.start()
    time.sleep(0.3)
    assert read == []  # still waiting: the first turn holds the conversation
    store.save(first, '{"turn":1}', member_id=None, keep_s=60)
    second.join(5)
    assert read == ['{"turn":1}']


def test_a_turn_that_cannot_take_the_conversation_in_time_hears_busy(records):
    store, _ = records
    store.load_for_turn("k", lease_s=30, wait_s=1)
    with pytest.raises(StoreBusy):
        store.load_for_turn("k", lease_s=30, wait_s=0.2)
    assert store.load_for_turn("another", lease_s=30, wait_s=0.2).state is None  # other conversations go on


def test_a_dead_turns_hold_lapses_and_its_late_save_is_refused(records):
    store, clock = records
    dead = store.load_for_turn("k", lease_s=5, wait_s=1)
    clock.now += 6
    alive = store.load_for_turn("k", lease_s=5, wait_s=0.1)
    assert not store.save(dead, '{"stale":true}', member_id=None, keep_s=60)
    assert store.save(alive, '{"fresh":true}', member_id=None, keep_s=60)
    assert store.peek("k") == '{"fresh":true}'


def test_forgetting_a_member_removes_their_conversations_but_the_asking_one(records):
    store, _ = records
    user = store.db.user_id("alice")
    for key in ("phone", "kitchen", "cli"):
        store.save(store.load_for_turn(key, lease_s=5, wait_s=1), f'"{key}"', member_id=user, keep_s=60)
    other = store.load_for_turn("bob's", lease_s=5, wait_s=1)
    store.save(other, '"bob"', member_id=store.db.user_id("bob"), keep_s=60)
    assert sorted(store.forget_member(user, keep="cli")) == ['"kitchen"', '"phone"']
    assert [store.peek(k) for k in ("phone", "kitchen", "cli", "bob's")] == [None, None, '"cli"', '"bob"']


def test_ending_an_idle_conversation_spares_one_spoken_in_meanwhile(records):
    store, clock = records
    store.save(store.load_for_turn("k", lease_s=5, wait_s=1), '"asked"', member_id=None, keep_s=3600)
    clock.now += 30
    assert store.end("k", idle_s=60) is None  # another process spoke in it 30 s ago
    clock.now += 31
    assert store.end("k", idle_s=60) == '"asked"'
    assert store.peek("k") is None


def test_times_are_kept_as_text_in_time_order():
    assert stamp(1_000_000_000.5) < stamp(1_000_000_001) < stamp(9_000_000_000)
    assert stamp(0) == "1970-01-01T00:00:00.000000Z"


def _take_and_hold(data_dir: str, taken, release) -> None:
    store = ConversationRecords(Database(Path(data_dir)))
    lease = store.load_for_turn("k", lease_s=30, wait_s=5)
    taken.set()
    release.wait(10)
    store.save(lease, '"from the other process"', member_id=None, keep_s=60)


def test_turns_in_two_processes_are_serialised_by_the_store(records, tmp_path):
    store, _ = records
    ctx = multiprocessing.get_context("spawn")
    taken, release = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_take_and_hold, args=(str(store.db.data_dir), taken, release))
    other.start()
    try:
        assert taken.wait(30)
        with pytest.raises(StoreBusy):  # no process-local lock knows of the other process's turn
            store.load_for_turn("k", lease_s=30, wait_s=0.3)
        release.set()
        lease = store.load_for_turn("k", lease_s=30, wait_s=10)
        assert lease.state == '"from the other process"'
    finally:
        release.set()
        other.join(10)
