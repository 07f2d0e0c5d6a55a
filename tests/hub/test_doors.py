"""`assistant serve` as an attacker on this machine would try it: the hub rows of issue 18, each failing.

One real hub process; devices are paired, revoked and re-paired by `assistant devices` in other
processes, as a user would. alice has a purchase code; kitchen is the household's device.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from assistant.skills.access_log import AccessLog
from assistant.store import Database
from tests.cli_helpers import cli, placed_orders
from tests.hub.test_serve import Served

pytestmark = [pytest.mark.slow, pytest.mark.shared_store]  # one hub process for the module
ALICE_CODE = "1357"


def pair(data: Path, name: str, *how: str) -> dict[str, str]:
    token = re.search(r": (\S+)$", cli(data, "devices", "pair", name, *how).splitlines()[0]).group(1)
    return {"Authorization": f"Bearer {token}"}


def orders(data: Path, user: str) -> list[int]:
    return [o["id"] for o in placed_orders(data, user)]


class Hub:
    def __init__(self, data: Path, served: Served) -> None:
        self.data, self.served, self.base = data, served, served.base

    def turn(self, headers: dict[str, str], text: str, conversation: str = "c1") -> str:
        url = f"{self.base}/v1/conversations/{conversation}/turns"
        answer = httpx.post(url, json={"text": text}, headers=headers, timeout=60)
        assert answer.status_code == 200, answer.text
        return answer.json()["reply"]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    data = tmp_path_factory.mktemp("doors") / "data"
    cli(data, "users", "add", "alice")
    cli(data, "users", "add", "bob")
    cli(data, "users", "set-code", "alice", ALICE_CODE)
    out = cli(data, "chat", "--user", "alice", said=["add coffee beans to my basket", "check out", "yes", ALICE_CODE])
    assert "is placed" in out, out
    served = Served(data, "--request-timeout", "2")
    try:
        yield Hub(data, served)
    finally:
        served.stop()


def events(ws, kind: str) -> dict:
    while True:
        event = json.loads(ws.recv(timeout=60))
        if event["type"] in (kind, "error"):
            return event


def test_revoking_a_device_in_another_process_closes_its_open_socket(hub):
    headers = pair(hub.data, "victim")
    before = orders(hub.data, "default")
    url = hub.base.replace("http", "ws") + "/v1/conversations/c1/stream"
    with connect(url, subprotocols=["bearer", headers["Authorization"].split()[1]]) as ws:
        ws.send(json.dumps({"type": "text", "text": "add oat milk to my basket"}))
        assert events(ws, "turn")["type"] == "turn"
        ws.send(json.dumps({"type": "text", "text": "check out"}))
        assert "Shall I place the order?" in events(ws, "turn")["turn"]["reply"]
        cli(hub.data, "devices", "revoke", "victim")
        answered = []
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(3):  # the hub closes it; nothing the socket sends is answered
                ws.send(json.dumps({"type": "text", "text": "yes"}))
                answered.append(events(ws, "turn"))
        assert answered == [] and closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    again = pair(hub.data, "victim")  # paired anew: the old conversation and its question are gone
    assert "placed" not in hub.turn(again, "yes")
    assert orders(hub.data, "default") == before


def test_a_re_paired_name_is_a_new_device_with_none_of_the_old_conversation(hub):
    tablet = pair(hub.data, "tablet", "--user", "alice")
    assert "added" in hub.turn(tablet, "add bananas to my basket").lower()
    cli(hub.data, "devices", "revoke", "tablet")
    bobs = pair(hub.data, "tablet", "--user", "bob")
    assert httpx.get(f"{hub.base}/v1/conversations/c1", headers=bobs).status_code == 404
    assert "banana" not in hub.turn(bobs, "what's in my basket").lower()  # bob's basket, not alice's
    assert "coffee" not in hub.turn(bobs, "what did I buy last time").lower()  # nor alice's orders


def test_a_household_device_reads_no_members_skill_log_and_switches_no_skill(hub):
    AccessLog(Database(hub.data)).record("search", "catalog", "search", "alice-secret-search", user="alice")
    kitchen = pair(hub.data, "kitchen", "--household")
    listed = httpx.get(f"{hub.base}/v1/skills", headers=kitchen).json()["skills"]
    assert not any("alice-secret" in a for s in listed for a in s["accessed"])
    off = httpx.post(f"{hub.base}/v1/skills", json={"name": "search", "enabled": False}, headers=kitchen)
    assert off.status_code == 403 and "household device" in off.json()["error"]
    alices = pair(hub.data, "alice-phone", "--user", "alice")
    mine = httpx.get(f"{hub.base}/v1/skills", headers=alices).json()["skills"]
    assert next(s for s in mine if s["name"] == "search")["enabled"]
    assert any("alice-secret" in a for s in mine for a in s["accessed"])  # alice's own device sees hers


def test_a_household_device_names_the_member_each_time_and_needs_the_code_to_read_or_erase(hub):
    kitchen = pair(hub.data, "kitchen-2", "--household")
    before = orders(hub.data, "alice")
    assert "Who's ordering?" in hub.turn(kitchen, "add bananas to my basket")
    assert "added" in hub.turn(kitchen, "alice").lower()
    history = hub.turn(kitchen, "what did I buy last time")
    assert "Who's ordering?" in history and "coffee" not in history.lower()
    assert "purchase code for alice" in hub.turn(kitchen, "alice")
    assert "coffee" not in hub.turn(kitchen, "yes").lower()
    assert "haven't done anything" in hub.turn(kitchen, "cancel")
    assert "Who's ordering?" in hub.turn(kitchen, "delete my data")
    assert "purchase code for alice" in hub.turn(kitchen, "alice")
    assert "isn't right" in hub.turn(kitchen, "yes")
    assert "deleted" not in hub.turn(kitchen, "yes").lower()
    assert orders(hub.data, "alice") == before


def test_a_half_sent_request_is_timed_out_and_one_address_cannot_hold_every_connection(hub):
    port = hub.served.port
    held = []
    for _ in range(70):  # more than one address may hold
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n")  # the headers never finish
        held.append(s)
    # another address (127.0.0.2 is this machine too) is still answered
    other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    assert other.get(f"{hub.base}/healthz", timeout=30).status_code == 200
    answers = []
    for s in held:
        s.settimeout(60)
        answers.append(s.recv(200).split(b"\r\n", 1)[0])  # the hub answers and closes, it does not wait forever
        s.close()
    assert (
        answers.count(b"HTTP/1.1 408 Request Timeout") == 64 and answers.count(b"HTTP/1.1 503 Service Unavailable") == 6
    )
    limits = Path(f"/proc/{hub.served.proc.pid}/limits").read_text()
    soft, hard = re.search(r"Max open files\s+(\d+)\s+(\d+)", limits).groups()
    assert soft == hard


def test_x_forwarded_for_from_a_local_client_does_not_choose_its_rate_limit_key(hub):
    with httpx.Client(base_url=hub.base) as client:
        statuses = [
            client.post("/v1/pair", json={"code": "not-a-code"}, headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code
            for i in range(200)
        ]  # fmt: skip
    assert 429 in statuses  # one client (127.0.0.1), one bucket, whatever it claims to be


def test_the_page_and_the_api_say_they_cannot_be_framed_or_sniffed(hub):
    for path in ("/", "/app.js", "/v1/orders"):
        headers = httpx.get(f"{hub.base}{path}").headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "default-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def test_the_data_is_private_to_this_account_on_every_start(hub, tmp_path):
    data = tmp_path / "data"
    cli(data, "users", "list")
    data.chmod(0o755)
    for f in data.glob("*.sqlite3*"):
        f.chmod(0o644)
    cli(data, "users", "list")  # any start puts it right
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = list(data.glob("*.sqlite3*"))
    assert files or os.environ.get("ASSISTANT_STORE_URL")  # on PostgreSQL the folder holds no database
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    served = hub.data
    assert stat.S_IMODE(served.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in served.glob("*.sqlite3*"))


def test_a_page_on_another_port_cannot_frame_the_hub(hub, tmp_path):
    page_test = pytest.importorskip("tests.hub.test_page")  # Chromium and Playwright, as the page's tests use them
    if not page_test.CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    import functools
    import http.server
    import threading

    (tmp_path / "decoy.html").write_text(
        f'<button id="win">Win a prize</button><iframe src="{hub.base}/" style="opacity:0.01"></iframe>'
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    attacker = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    try:
        with page_test.sync_api.sync_playwright() as p:
            chromium = page_test.browser(p)
            page = chromium.new_page()
            page.goto(f"http://127.0.0.1:{attacker.server_address[1]}/decoy.html", wait_until="load")
            (framed,) = [f for f in page.frames if f is not page.main_frame]
            assert framed.url != f"{hub.base}/" and framed.locator("#log").count() == 0
            page.goto(f"{hub.base}/")  # the same page, opened as itself, works
            assert page.locator("#log").count() == 1
            chromium.close()
    finally:
        attacker.shutdown()
