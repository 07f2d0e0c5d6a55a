"""`assistant wyoming` as a stranger on this machine would try it: the attacks of issue 18, each failing.

The server here listens on loopback with no client allowed, as it starts by default: every
connection is an unnamed household door. Members alice and bob have purchase codes, carol has none;
bob has a paired hub device (bob-phone) and a satellite (porch) with bananas in his basket.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from wyoming.asr import Transcript
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.handle import Handled
from wyoming.info import Describe

from tests.wyoming.conftest import REPO, Server, cli, start_server

pytestmark = pytest.mark.slow
CODES = {"alice": "1357", "bob": "2468", "dora": "9753"}
MEMBERS = ("default", "alice", "bob", "carol", "dora")


@dataclass
class Door:
    server: Server
    data: Path

    def orders(self) -> dict[str, int]:
        return {m: len(self.server.orders(m)) for m in MEMBERS}


def _buy(data: Path, user: str, product: str) -> None:
    said = [f"add {product} to my basket", "check out", "yes"] + ([CODES[user]] if user in CODES else [])
    out = cli(data, "chat", "--user", user, said=said)
    assert "is placed" in out, out


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Door]:
    data = tmp_path_factory.mktemp("door") / "data"
    for member in ("alice", "bob", "carol", "dora"):
        cli(data, "users", "add", member)
    for member, code in CODES.items():
        cli(data, "users", "set-code", member, code)
    cli(data, "devices", "pair", "bob-phone", "--user", "bob")
    cli(data, "satellites", "add", "porch", "tcp://127.0.0.1:9", "--user", "bob")  # away: never answers
    for member in ("alice", "carol", "dora"):
        _buy(data, member, "coffee beans")
    cli(data, "chat", "--user", "bob", said=["add bananas to my basket"])
    server = start_server(data, "--audio-timeout", "3")
    try:
        yield Door(server, data)
    finally:
        server.stop()


async def _talk(port: int, texts: list[str], context: dict | None = None) -> list[str]:
    """Say each text on one connection; the replies."""
    replies = []
    async with AsyncTcpClient("127.0.0.1", port) as client:
        for text in texts:
            await client.write_event(Transcript(text=text, context=context).event())
            event = await asyncio.wait_for(client.read_event(), 60)
            assert event is not None and Handled.is_type(event.type), event
            replies.append(Handled.from_event(event).text)
    return replies


def talk(door: Door, texts: list[str], context: dict | None = None) -> list[str]:
    return asyncio.run(_talk(door.server.port, texts, context))


def test_a_stranger_reads_no_ones_orders_hears_no_names_and_buys_nothing(door):
    before = door.orders()
    read = talk(door, ["what did I buy last time", "alice", "yes"])
    assert read[0] == "Who's ordering? Say your name.", read  # not the configured user's orders, no names
    assert "purchase code for alice" in read[1] and "isn't right" in read[2], read
    bought = talk(door, ["add oat milk", "alice", "check out", "alice", "yes", "yes"])
    assert bought[0] == "Who's ordering? Say your name.", bought
    assert "Who's ordering?" in bought[2]  # "alice" held for the one question it answered
    assert "purchase code for alice" in bought[4] and "isn't right" in bought[5], bought
    assert not any(m in reply for reply in read + bought for m in MEMBERS if m != "alice")
    assert door.orders() == before


def test_a_hub_devices_name_as_device_id_speaks_for_no_one(door):
    context = {"device_id": "bob-phone", "satellite_id": "porch"}
    before = door.orders()
    replies = talk(door, ["what's in my basket", "check out", "yes"], context)
    assert all("banana" not in r.lower() for r in replies), replies  # bob's basket is not read
    assert replies[0].startswith("Who's ordering?") and "placed" not in replies[-1]
    assert door.orders() == before


def test_a_satellites_predictable_conversation_id_does_not_reach_its_conversation(door):
    for conversation_id in ("satellite:porch", "satellite"):
        (reply,) = talk(door, ["what's in my basket"], {"conversation_id": conversation_id})
        assert "banana" not in reply.lower() and reply.startswith("Who's ordering?"), reply


def test_a_second_connection_with_the_same_conversation_id_cannot_answer_the_first(door):
    context = {"conversation_id": "01HS6SP2XD"}
    before = door.orders()

    async def both() -> tuple[list[str], list[str]]:
        first = []
        async with AsyncTcpClient("127.0.0.1", door.server.port) as victim:
            for text in ["add oat milk", "alice", "check out", "alice"]:
                await victim.write_event(Transcript(text=text, context=context).event())
                first.append(Handled.from_event(await asyncio.wait_for(victim.read_event(), 60)).text)
            second = await _talk(door.server.port, ["yes"], context)  # while the victim's question is open
        return first, second

    first, (second,) = asyncio.run(both())
    assert "Shall I place the order?" in first[-1], first
    assert "placed" not in second and "purchase code" not in second, second
    assert door.orders() == before


def test_delete_my_data_from_a_stranger_erases_nothing(door):
    before = door.orders()
    dora = talk(door, ["delete my data", "dora", "yes"])
    assert "purchase code for dora" in dora[1] and "isn't right" in dora[2], dora
    carol = talk(door, ["delete my data", "carol"])
    assert "carol has no purchase code" in carol[1] and "set-code carol" in carol[1], carol
    plain = talk(door, ["delete my data", "yes"])  # the old way: no one named, the configured user's data
    assert not any("deleted" in r.lower() for r in plain), plain
    assert door.orders() == before


def test_wrong_codes_at_this_door_do_not_lock_the_member_out_of_their_own(door):
    replies = talk(door, ["what did I buy", "bob", "one one one one", "two two two two", "three three three three"])
    assert "locked here" in replies[-1], replies
    assert "locked" in talk(door, ["what did I buy", "bob"])[-1]
    _buy(door.data, "bob", "oat milk")  # bob himself, at his own door (the CLI), still buys


def test_silent_connections_are_closed_and_one_address_cannot_hold_them_all(door):
    async def hold() -> tuple[int, int, list[str]]:
        clients = [AsyncTcpClient("127.0.0.1", door.server.port) for _ in range(40)]
        for c in clients:
            await c.connect()
        answered = refused = 0
        for c in clients:
            await c.write_event(Describe().event())
            try:
                event = await asyncio.wait_for(c.read_event(), 30)
            except ConnectionError:
                event = None
            answered += event is not None and event.type == "info"
            refused += event is None
        # those let in are closed once they have been silent for the audio timeout
        closing = []
        for c in clients:
            try:
                event = await asyncio.wait_for(c.read_event(), 30)
            except ConnectionError:
                event = None
            closing.append(event.data.get("code") if event is not None and event.type == "error" else "closed")
            await c.disconnect()
        return answered, refused, closing

    answered, refused, closing = asyncio.run(hold())
    assert (answered, refused) == (32, 8)
    assert set(closing) <= {"idle-timeout", "closed"} and closing.count("idle-timeout") == 32


def own_address() -> str | None:
    """This machine's address on its network (no packet is sent), or None if it has only loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))
        except OSError:
            return None
        host = s.getsockname()[0]
    return None if host.startswith("127.") else host


def test_another_address_is_refused_unless_named(tmp_path):
    data = tmp_path / "data"
    refused = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "wyoming", "--uri", "tcp://0.0.0.0:0", "--data-dir", str(data)],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "refusing to listen on 0.0.0.0 with no allowed clients" in refused.stderr
    host = own_address()
    if host is None:
        pytest.skip("this machine has no address but loopback")
    server = start_server(data, "--no-satellites", "--allow", "192.0.2.250", uri="tcp://0.0.0.0:0")
    try:

        async def describe(at: str) -> Event | None:
            async with AsyncTcpClient(at, server.port) as client:
                await client.write_event(Describe().event())
                try:
                    return await asyncio.wait_for(client.read_event(), 30)
                except ConnectionError:
                    return None

        assert asyncio.run(describe(host)) is None
        assert asyncio.run(describe(host)) is None
        log = server.log.read_text()
        assert log.count(f"refused a connection from {host}") == 1, log[-2000:]  # one line, not one per try
        assert f"assistant wyoming clients add NAME {host}" in log
        cli(data, "wyoming", "clients", "add", "ha", host)  # named in another process: let in at once
        event = asyncio.run(describe(host))
        assert event is not None and event.type == "info"
    finally:
        server.stop()
