"""Pi satellites: the real `wyoming-satellite` program in two rooms, driven by the hub (`assistant wyoming`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.wav import read_wav
from tests.voice_helpers import HAVE_ESPEAK, speak
from tests.wyoming.conftest import Server, cli, start_server
from tests.wyoming.rooms import HAVE_SATELLITE, Room

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is installed by scripts/install-voice.sh"),
    pytest.mark.skipif(not HAVE_SATELLITE, reason="wyoming-satellite is installed by scripts/install-satellite.sh"),
]
TAIL = np.zeros(int(16000 * 0.8), np.int16)
"""Silence after each command, longer than the hub's end-of-speech pause."""


class House:
    def __init__(self, folder: Path, server: Server, rooms: dict[str, Room]) -> None:
        self.folder, self.server, self.rooms = folder, server, rooms
        self._n = 0

    def say(self, room: str, text: str) -> None:
        self._n += 1
        pcm = read_wav(speak(text, self.folder / f"said-{self._n}.wav", voice="en-us"))
        self.rooms[room].say(np.concatenate([pcm, TAIL]))

    def exchange(self, room: str, text: str) -> None:
        """Say something in a room and wait until that room has played the reply."""
        count = len(self.rooms[room].played())
        self.say(room, text)
        self.rooms[room].wait_played(count + 1)


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Iterator[House]:
    folder = tmp_path_factory.mktemp("house")
    data = folder / "data"
    rooms = {name: Room(folder, name).start() for name in ("kitchen", "lounge", "hall")}
    cli(data, "users", "add", "sam")
    cli(data, "users", "add", "alice")
    cli(data, "users", "set-code", "alice", "1234")
    cli(data, "satellites", "add", "hall", rooms["hall"].uri)  # the household's: it asks who's ordering
    cli(data, "satellites", "add", "kitchen", rooms["kitchen"].uri, "--user", "default")
    cli(data, "satellites", "add", "lounge", rooms["lounge"].uri, "--user", "sam")
    server = start_server(data)
    try:
        yield House(folder, server, rooms)
    finally:
        server.stop()
        for room in rooms.values():
            room.kill()


def test_two_rooms_at_once_and_an_order_waits_for_the_same_rooms_yes(house):
    kitchen, lounge = house.rooms["kitchen"], house.rooms["lounge"]
    house.say("kitchen", "hey shopper, add oat milk to my basket")
    house.say("lounge", "hey shopper, add coffee to my basket")  # at the same time
    kitchen.wait_played(1)
    lounge.wait_played(1)
    house.exchange("kitchen", "hey shopper, check out")  # "... Shall I place the order?"
    house.exchange("lounge", "hey shopper, yes")  # the lounge was asked nothing
    assert house.server.orders("default") == [] and house.server.orders("sam") == []
    house.exchange("kitchen", "yes")  # a question was asked here: no wake phrase needed
    (order,) = house.server.orders("default")
    assert ["oat milk" in line["name"].lower() for line in order["lines"]] == [True], order
    assert house.server.orders("sam") == []
    reply = kitchen.reply_audio(-1)
    assert len(reply) > 22050 and np.abs(reply).max() > 1000  # the confirmation was spoken


def wait_until(check, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_satellite_killed_mid_turn_is_reconnected_and_loses_nothing(house):
    kitchen = house.rooms["kitchen"]
    house.exchange("kitchen", "hey shopper, add coffee to my basket")
    heard = len(kitchen.heard())
    house.say("kitchen", "hey shopper, check out")
    wait_until(lambda: len(kitchen.heard()) > heard)
    kitchen.kill()  # the hub has heard "check out" and is answering it
    assert "check out" in kitchen.heard()[-1].lower()
    house.rooms["kitchen"] = Room(house.folder, "kitchen", port=kitchen.port).start()
    wait_until(lambda: house.server.log.read_text().count("satellite kitchen connected") == 2)
    time.sleep(2)  # a reply the kitchen missed is spoken again once it is back
    assert house.server.alive() and len(house.server.orders("default")) == 1
    house.say("kitchen", "yes")  # to the question asked before the plug was pulled
    wait_until(lambda: len(house.server.orders("default")) == 2)


def test_a_household_satellite_asks_whos_ordering_and_the_purchase_code(house):
    hall = house.rooms["hall"]
    house.exchange("hall", "hey shopper, add oat milk to my basket")  # "Who's ordering? ..."
    house.exchange("hall", "alice")
    house.exchange("hall", "hey shopper, check out")  # "Who's ordering?" again: a name holds for one question
    house.exchange("hall", "alice")
    house.exchange("hall", "yes")  # "What's the purchase code for alice?"
    assert house.server.orders("alice") == []
    house.exchange("hall", "one two three four")
    (order,) = house.server.orders("alice")
    assert ["oat milk" in line["name"].lower() for line in order["lines"]] == [True]
    assert len(hall.played()) == 6
