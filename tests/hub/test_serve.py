"""`assistant serve` and `assistant devices` as real processes: binding rules, pairing, shutdown, a kill."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from assistant.store import Database

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args, "--data-dir", str(data_dir)],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """A running `assistant serve` and the page link it printed."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "serve", "--port", str(self.port), "--data-dir", str(data_dir),
             *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        )  # fmt: skip
        line = self.proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)/#pair=(\S+)", line)
        assert match, line + self.proc.stderr.read()
        self.base, self.code = match.groups()
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.base}/healthz", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and self.proc.poll() is None, self.proc.stderr.read()
                time.sleep(0.2)

    def token(self) -> dict[str, str]:
        paired = httpx.post(f"{self.base}/v1/pair", json={"code": self.code}).json()
        return {"Authorization": f"Bearer {paired['token']}"}

    def turn(self, headers: dict[str, str], text: str) -> httpx.Response:
        return httpx.post(f"{self.base}/v1/conversations/c1/turns", json={"text": text}, headers=headers, timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def test_a_non_loopback_address_without_tls_is_refused_in_one_line(tmp_path):
    proc = cli("serve", "--host", "0.0.0.0", data_dir=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "refusing to listen on 0.0.0.0 without TLS" in proc.stderr
    assert "--certfile" in proc.stderr


def test_devices_are_paired_listed_and_revoked_and_tokens_stored_hashed(tmp_path):
    paired = cli("devices", "pair", "kitchen-tablet", data_dir=tmp_path)
    assert paired.returncode == 0, paired.stderr
    token = re.search(r": (\S+)$", paired.stdout.splitlines()[0]).group(1)
    listed = json.loads(cli("devices", "list", "--json", data_dir=tmp_path).stdout)
    assert [d["name"] for d in listed["devices"]] == ["kitchen-tablet"] and listed["devices"][0]["user"] == "default"
    db = Database(tmp_path)
    stored = db.query("SELECT token_hash FROM hub_tokens")
    assert stored and token not in stored[0][0]
    if db.engine == "sqlite":
        assert token.encode() not in (tmp_path / "assistant.sqlite3").read_bytes()
    db.close()
    assert cli("devices", "revoke", "kitchen-tablet", data_dir=tmp_path).returncode == 0
    assert json.loads(cli("devices", "list", "--json", data_dir=tmp_path).stdout)["devices"] == []
    again = cli("devices", "revoke", "kitchen-tablet", data_dir=tmp_path)
    assert again.returncode == 2 and "no paired device" in again.stderr


@pytest.mark.slow
def test_served_hub_answers_and_sigterm_lets_turns_in_flight_finish(tmp_path):
    served = Served(tmp_path)
    try:
        headers = served.token()
        assert served.turn(headers, "add oat milk to my basket").status_code == 200
        signalled = threading.Event()

        def slow_body():
            yield b'{"text": "what is in'
            signalled.wait(10)  # the request is in flight, half sent, when the hub is told to stop
            yield b' my basket"}'

        result: list[httpx.Response] = []
        sender = threading.Thread(
            target=lambda: result.append(
                httpx.post(f"{served.base}/v1/conversations/c1/turns", content=slow_body(),
                           headers={**headers, "Content-Type": "application/json"}, timeout=30)
            )
        )  # fmt: skip
        sender.start()
        time.sleep(1.0)
        served.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        signalled.set()
        sender.join(30)
        assert served.proc.wait(60) == 0, served.proc.stderr.read()
        assert result and result[0].status_code == 200 and "oat milk" in result[0].json()["reply"].lower()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{served.base}/healthz")
    finally:
        served.stop()


@pytest.mark.slow
def test_sigkill_mid_checkout_leaves_at_most_one_order(tmp_path):
    served = Served(tmp_path)
    before = {o["id"] for o in json.loads(cli("orders", "--json", data_dir=tmp_path).stdout)}
    try:
        headers = served.token()
        served.turn(headers, "add two oat milk to my basket")
        assert "?" in served.turn(headers, "check out").json()["reply"]

        def answer() -> None:
            with contextlib.suppress(httpx.HTTPError):  # the hub dies under it: a reset is expected
                served.turn(headers, "yes")

        yes = threading.Thread(target=answer, daemon=True)
        yes.start()
        time.sleep(0.01)
        os.kill(served.proc.pid, signal.SIGKILL)
        yes.join(10)
    finally:
        served.stop()
    after = [o for o in json.loads(cli("orders", "--json", data_dir=tmp_path).stdout) if o["id"] not in before]
    assert len(after) <= 1
    assert all(o["lines"] for o in after)


def test_any_address_but_loopback_needs_tls_files_and_a_paired_device(tmp_path):
    from assistant.hub.server import HubRefused, check_bind

    cert, key = tmp_path / "hub.crt", tmp_path / "hub.key"
    cert.write_text("certificate")
    key.write_text("key")
    for host in ("127.0.0.1", "::1", "localhost"):
        check_bind(host, None, None, paired=0)
    with pytest.raises(HubRefused, match="without TLS"):
        check_bind("192.168.1.20", None, None, paired=3)
    with pytest.raises(HubRefused, match="no paired device"):
        check_bind("0.0.0.0", str(cert), str(key), paired=0)
    with pytest.raises(HubRefused, match="both"):
        check_bind("0.0.0.0", str(cert), None, paired=1)
    with pytest.raises(HubRefused, match="no such TLS file"):
        check_bind("0.0.0.0", str(cert), str(tmp_path / "missing.key"), paired=1)
    check_bind("0.0.0.0", str(cert), str(key), paired=1)
