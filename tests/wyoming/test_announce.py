"""Notifications announced on real `wyoming-satellite`s by the hub (`assistant wyoming`): on the member's own
and the household's idle satellites, once, and not in the quiet hours."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.store import Database
from assistant.store.notices import Notifications
from tests.voice_helpers import HAVE_ESPEAK
from tests.wyoming.conftest import REPO, cli, start_server
from tests.wyoming.rooms import HAVE_SATELLITE, Room

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is installed by scripts/install-voice.sh"),
    pytest.mark.skipif(not HAVE_SATELLITE, reason="wyoming-satellite is installed by scripts/install-satellite.sh"),
]
NOTE = "The bread is ready to bake"


def with_quiet_hours(folder: Path, window: str | None) -> Path:
    text = (REPO / "config.yml").read_text()
    value = "null" if window is None else f'"{window}"'
    text, n = re.subn(r"quiet_hours: .*", f"quiet_hours: {value}", text)
    assert n == 1
    path = folder / f"config-{'none' if window is None else 'quiet'}.yml"
    path.write_text(text)
    return path


def around_now() -> str:
    hour = time.localtime().tm_hour
    return f"{(hour - 1) % 24:02d}:00-{(hour + 2) % 24:02d}:00"


def wait_until(check, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.fixture
def house(tmp_path: Path) -> Iterator[tuple[Path, dict[str, Room]]]:
    data = tmp_path / "data"
    rooms = {name: Room(tmp_path, name, spoken=True).start() for name in ("kitchen", "lounge", "hall")}
    cli(data, "users", "add", "sam")
    cli(data, "satellites", "add", "hall", rooms["hall"].uri)  # the household's
    cli(data, "satellites", "add", "kitchen", rooms["kitchen"].uri, "--user", "default")
    cli(data, "satellites", "add", "lounge", rooms["lounge"].uri, "--user", "sam")
    try:
        yield data, rooms
    finally:
        for room in rooms.values():
            room.kill()


def connected(server, names) -> bool:
    log = server.log.read_text()
    return all(f"satellite {name} connected" in log for name in names)


def test_announced_once_on_the_members_and_the_households_idle_satellites_after_the_quiet_hours(house, monkeypatch):
    data, rooms = house
    db = Database(data)
    notes = Notifications(db)
    member = db.user_id("default")
    notes.post(member, "recipes", NOTE, builtin=False)

    monkeypatch.setenv("ASSISTANT_CONFIG", str(with_quiet_hours(data.parent, around_now())))
    server = start_server(data)
    try:
        wait_until(lambda: connected(server, rooms))
        time.sleep(4)  # several looks at the store: in the quiet hours it waits
        assert all(not room.spoken() for room in rooms.values())
        assert notes.pending(member) == 1
    finally:
        server.stop()

    monkeypatch.setenv("ASSISTANT_CONFIG", str(with_quiet_hours(data.parent, None)))
    server = start_server(data)
    try:
        kitchen, hall, lounge = rooms["kitchen"], rooms["hall"], rooms["lounge"]
        wait_until(lambda: kitchen.spoken() and hall.spoken())
        assert kitchen.spoken() == [f"By the way, the recipes skill asked me to tell you: {NOTE}."]
        assert hall.spoken() == [f"default, by the way, the recipes skill asked me to tell you: {NOTE}."]
        played = kitchen.wait_played(1)
        audio = np.frombuffer((kitchen.out / played[0]["file"]).read_bytes(), "<i2")
        assert len(audio) > 16000 and np.abs(audio).max() > 1000  # synthesized and played, as a reply is
        time.sleep(3)
        assert lounge.spoken() == []  # sam's satellite: not sam's notification
        assert len(kitchen.spoken()) == 1 and len(hall.spoken()) == 1  # once
        assert notes.pending(member) == 0
        assert db.query("SELECT said_via FROM notifications")[0][0] == "satellite"
    finally:
        server.stop()
        db.close()
