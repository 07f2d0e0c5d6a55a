"""The real `assistant wyoming` server as a process, and a Wyoming client to talk to it."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from wyoming.client import AsyncTcpClient
from wyoming.event import Event

from tests.cli_helpers import REPO, cli, placed_orders

__all__ = ["REPO", "Server", "cli", "exchange", "start_server"]
STARTUP_S = 300


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    data: Path
    log: Path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def orders(self, user: str | None = None) -> list[dict]:
        return placed_orders(self.data, user)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(data: Path, *extra: str, uri: str = "tcp://127.0.0.1:0") -> Server:
    """`assistant wyoming` on a free port; returns once it listens."""
    log = data.parent / f"{data.name}-server.log"
    cmd = [sys.executable, "-m", "assistant.cli", "wyoming", "--uri", uri, "--data-dir", str(data), "-v", *extra]
    with log.open("w") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO, env=dict(os.environ))
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        found = re.search(r"Wyoming services \(.*\) on tcp://[\d.]+:(\d+)", log.read_text())
        if found:
            return Server(proc, int(found.group(1)), data, log)
        if proc.poll() is not None:
            raise AssertionError(f"the server stopped: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"the server did not start in {STARTUP_S} s: {log.read_text()[-2000:]}")


AUDIO_TIMEOUT_S = 2.0
HOUSE_CODE = "1234"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Home Assistant's server: on loopback, with HA (127.0.0.1) allowed; a household door, so orders
    need the member's purchase code."""
    data = tmp_path_factory.mktemp("wyoming") / "data"
    cli(data, "users", "set-code", "default", HOUSE_CODE)
    srv = start_server(data, "--no-satellites", "--audio-timeout", str(AUDIO_TIMEOUT_S), "--allow", "127.0.0.1")
    yield srv
    srv.stop()


async def exchange(port: int, events: list[Event], until: str | tuple[str, ...], timeout: float = 60) -> list[Event]:
    """Send events, then read until an event of type ``until`` (or 'error') arrives; all read events."""
    until = (until,) if isinstance(until, str) else until
    got: list[Event] = []
    async with AsyncTcpClient("127.0.0.1", port) as client:
        for event in events:
            await client.write_event(event)
        while True:
            event = await asyncio.wait_for(client.read_event(), timeout)
            if event is None:
                return got
            got.append(event)
            if event.type in until or event.type == "error":
                return got
