"""Hostile skills (tests/fixtures/hostile/) replayed against the sandbox: each test checks what the user keeps, not how."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.errors import PermissionDenied, SkillCrashed, SkillError
from assistant.sdk import Conversation, Reply, Request, ShopInfo
from assistant.skills.capabilities import CartAccess, CatalogAccess, OrdersAccess
from assistant.skills.isolation import SkillWorker
from assistant.skills.registry import LoadedSkill, discover
from assistant.store import Catalog, Database, Orders, Recommender, ensure_demo
from tests.sandboxed import needs_sandbox

pytestmark = needs_sandbox

REPO = Path(__file__).resolve().parents[2]
SHOP = ShopInfo("GBP", True, None, "Home", 1, 10, 3)


class Host:
    """The assistant's side, reduced to what an attack meets: a real store and real sandboxed workers."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.db = Database(data_dir)
        ensure_demo(self.db, "me")
        self.orders = Orders(self.db, "me")
        self.catalog = Catalog(self.db)
        self.capabilities = {
            "catalog": CatalogAccess(self.catalog),
            "cart": CartAccess(self.orders),
            "orders": OrdersAccess(self.orders, Recommender(self.db, self.orders)),
        }
        self.skills = {s.name: s for s in discover()[0]}
        self.workers: dict[str, SkillWorker] = {}
        self.recorded: list[tuple[str, str, str]] = []

    def worker(self, name: str) -> SkillWorker:
        if name not in self.workers:
            self.workers[name] = SkillWorker(self.skills[name], self.data_dir)
        return self.workers[name]

    def call(self, name: str, intent: str, params: object = None) -> Reply:
        loaded: LoadedSkill = self.skills[name]
        request = Request(intent, json.dumps(params if params is not None else {}))
        return self.worker(name).call(
            loaded.intents[intent], request, None, Conversation(), SHOP, [], self.capabilities, 5.0, self.record
        )

    def record(self, capability: str, method: str, args: tuple, kwargs: dict, result: object) -> None:
        """What the access log would be told, as the dispatcher tells it."""
        self.recorded.append((capability, method, type(result).__name__))

    def close(self) -> None:
        for worker in self.workers.values():
            worker.stop()
        self.db.close()


@pytest.fixture
def host(with_skills: Path, tmp_path: Path) -> Iterator[Host]:
    h = Host(tmp_path / "data")
    yield h
    h.close()


def test_the_database_cannot_be_read_or_written(host: Host):
    db_path = Database(host.data_dir).path
    prices = {p.sku: p.price_pence for p in host.catalog.search("milk", limit=20)}
    reply = host.call("dbthief", "steal_db", {"db": str(db_path)})
    assert reply.speech == "nothing"  # not by path, sqlite URI, ctypes, a subprocess or a guess
    assert {p.sku: p.price_pence for p in host.catalog.search("milk", limit=20)} == prices


def test_no_packet_reaches_a_listener_on_this_machine(host: Host):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(1)
    with udp, tcp:
        host.call("phoner", "phone_home", {"udp": udp.getsockname()[1], "tcp": tcp.getsockname()[1]})
        udp.settimeout(0.5)
        with pytest.raises(TimeoutError):
            udp.recvfrom(100)
        tcp.settimeout(0.5)
        with pytest.raises(TimeoutError):
            tcp.accept()


def test_home_folder_and_environment_secrets_stay_hidden(host: Host, tmp_path: Path, monkeypatch):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("PRIVATE-KEY-7f3a")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SHOP_API_TOKEN", "TOKEN-91c2")
    reply = host.call("snoop", "snoop", {"home": str(home), "pid": os.getpid()})
    assert reply.speech.startswith("I found")  # it ran, and looked
    assert "PRIVATE-KEY-7f3a" not in reply.speech and "TOKEN-91c2" not in reply.speech


def test_a_skill_that_switches_off_its_own_checks_still_cannot_fill_the_basket(host: Host):
    # the skill disabled the SDK's permission check in its process at import: the host checks again
    with pytest.raises(PermissionDenied, match="forger.*cart.write"):
        host.call("forger", "fill_cart")
    assert host.orders.cart() == []
    assert ("cart", "add", "PermissionDenied") in host.recorded  # and the access log says it tried


@pytest.mark.parametrize("intent", ["forge_price", "forge_field", "pickle"])
def test_forged_wire_messages_are_refused_and_the_assistant_goes_on(host: Host, tmp_path: Path, intent: str):
    rows = host.db.query("SELECT id, sku FROM products ORDER BY price_pence")
    cheap, dear = rows[0]["sku"], rows[-1]["id"]
    with pytest.raises(SkillCrashed, match="forger"):
        host.call("forger", intent, {"cheap": cheap, "dear": dear})
    assert not Path("/tmp/pwned").exists()
    # the worker is started afresh and answers honestly again
    with pytest.raises(PermissionDenied):
        host.call("forger", "fill_cart")


def test_a_skill_whose_class_does_not_match_its_manifest_is_refused_in_one_line(host: Host):
    with pytest.raises(SkillCrashed) as refused:
        host.call("liar", "lie")
    message = str(refused.value)
    assert "'liar'" in message and "permissions" in message and "\n" not in message


def _run_host(with_skills: Path, data_dir: Path, name: str, intent: str, params: dict, *flags: str) -> dict:
    proc = subprocess.run(
        [sys.executable, str(REPO / "tests" / "skills" / "run_host.py"), str(with_skills), str(data_dir), name, intent,
         json.dumps(params), *flags],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_skill_cannot_kill_the_assistant(with_skills: Path, tmp_path: Path):
    host = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        result = _run_host(with_skills, tmp_path / "data", "assassin", "kill_host", {"pid": host.pid})
        assert result["alive"]
        assert host.poll() is None  # nor any other process of this machine
    finally:
        host.kill()
        host.wait()


def _heartbeat(data_dir: Path) -> int:
    beat = data_dir / "skills" / "lingerer" / "storage" / "heartbeat"
    return beat.stat().st_size if beat.exists() else 0


def test_nothing_a_skill_started_outlives_its_worker(host: Host):
    host.call("lingerer", "linger")
    time.sleep(0.5)
    assert _heartbeat(host.data_dir) > 0  # the child did run
    host.worker("lingerer").stop()
    time.sleep(0.3)
    stopped = _heartbeat(host.data_dir)
    time.sleep(0.6)
    assert _heartbeat(host.data_dir) == stopped


def test_nothing_a_skill_started_outlives_an_assistant_that_died(with_skills: Path, tmp_path: Path):
    data_dir = tmp_path / "data"
    _run_host(with_skills, data_dir, "lingerer", "linger", {}, "--exit-without-stop")
    time.sleep(0.5)
    stopped = _heartbeat(data_dir)
    time.sleep(0.6)
    assert _heartbeat(data_dir) == stopped


def test_a_skill_writes_only_in_its_storage_folder_and_only_so_much(host: Host, tmp_path: Path, with_skills: Path):
    outside = [host.data_dir / "evil.txt", tmp_path / "evil.txt", with_skills / "evil.txt"]
    host.call("scribbler", "scribble", {"targets": [str(p) for p in outside]})
    assert [p for p in outside if p.exists()] == []
    assert not (with_skills / "hostile_write" / "evil.txt").exists()
    storage = host.data_dir / "skills" / "scribbler" / "storage"
    assert (storage / "mine.txt").read_text() == "kept"  # ctx.storage is its own, and writable
    assert (storage / "big.bin").stat().st_size <= 16 * 1024 * 1024


def test_a_skill_holds_only_so_many_files_open(host: Host):
    held = int(host.call("scribbler", "hoard_files").speech.split()[1])
    assert 0 < held < 64


def test_output_goes_to_the_log_not_the_terminal(host: Host, capfd):
    reply = host.call("shouter", "shout")
    assert reply.speech == "I shouted."
    out, err = capfd.readouterr()
    assert "JUNK" not in out and "JUNK" not in err
    deadline = time.monotonic() + 3
    while "JUNK-IN-CALL on fd 2" not in host.worker("shouter").output() and time.monotonic() < deadline:
        time.sleep(0.05)  # the log reads the worker's output as it comes
    printed = host.worker("shouter").output()
    assert "JUNK-AT-IMPORT on stdout" in printed and "JUNK-IN-CALL on fd 2" in printed


def test_a_flood_of_output_is_kept_bounded(host: Host):
    assert host.call("shouter", "flood").speech == "Flooded."
    time.sleep(0.5)
    assert 0 < len(host.worker("shouter").output()) <= 64 * 1024


@pytest.mark.parametrize(
    "intent", ["number_reply", "dict_reply", "huge_reply", "made_up_product", "garbage_reply", "endless_line"]
)
def test_a_reply_that_is_not_short_text_is_an_apology_and_the_skill_answers_again(host: Host, intent: str):
    with pytest.raises(SkillError, match="badreply"):
        host.call("badreply", intent)
    assert host.call("badreply", "fine_reply").speech == "All good."


def test_a_purchase_crosses_as_product_ids_and_quantities_only(host: Host):
    dear = host.db.query("SELECT id FROM products ORDER BY price_pence DESC LIMIT 1")[0]["id"]
    proposed = host.call("badreply", "penny_phone", dear)
    # no name or price of the skill's making reaches the core: the gate prices these lines itself
    assert proposed.purchase is not None and proposed.purchase.lines == ((dear, 1),)
    assert proposed.expect == "confirm" and proposed.speech == "Just one oat milk for a penny."
    basket = host.call("badreply", "buy_basket")
    assert basket.purchase is not None and basket.purchase.lines is None


def test_the_sandbox_shares_the_network_only_with_the_permission(host: Host, tmp_path: Path):
    from assistant.skills.sandbox import sandbox_args

    loaded = host.skills["phoner"]
    without = sandbox_args(loaded, frozenset({"catalog.read"}), tmp_path)
    granted = sandbox_args(loaded, frozenset({"catalog.read", "network"}), tmp_path)
    assert "--unshare-all" in without and "--share-net" not in without
    assert "--share-net" in granted and "/etc/resolv.conf" in granted


def assistant(*args: str, env: dict, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=REPO, timeout=300,
    )  # fmt: skip


@pytest.mark.slow
def test_a_disabled_skill_never_runs(with_skills: Path, tmp_path: Path):
    marker = tmp_path / "imported"
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(with_skills), *sys.path]), "HOSTILE_MARKER": str(marker)}
    env["ASSISTANT_DATA_DIR"] = str(data)
    listed = json.loads(assistant("skills", "list", "--json", "--data-dir", str(data), env=env).stdout)
    sleeper = next(s for s in listed["skills"] if s["name"] == "sleeper")
    assert sleeper["enabled"] is False
    turn = json.loads(assistant("chat", "--json", "--data-dir", str(data), env=env, stdin="hello\n").stdout)
    assert turn["reply"]
    assert not marker.exists()
    db = Database(data)
    assert db.query("SELECT min(price_pence) AS low FROM products")[0]["low"] > 1  # its import wrote no prices
    db.close()


@pytest.mark.slow
def test_chat_json_carries_only_turns_and_survives_a_bad_reply(with_skills: Path, tmp_path: Path):
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(with_skills), *sys.path])}
    for name in ("shouter", "badreply"):
        assert assistant("skills", "enable", name, "--yes", "--data-dir", str(data), env=env).returncode == 0
    proc = assistant(
        "chat", "--json", "--data-dir", str(data), env=env, stdin="shout at me\ngive me a number reply\nhello\n"
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    turns = [json.loads(line) for line in proc.stdout.splitlines()]  # every line is a turn, nothing else
    assert [t["skill"] for t in turns[:2]] == ["shouter", "badreply"]
    assert turns[0]["reply"] == "I shouted."
    assert turns[1]["reply"].startswith("Sorry, the badreply skill")
    assert turns[2]["reply"]
    assert "JUNK" not in proc.stdout + proc.stderr


def test_a_skill_cannot_take_a_built_in_name_or_intent_even_disabled(with_skills: Path, tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(with_skills), *sys.path])}
    proc = assistant("skills", "list", "--json", "--data-dir", str(tmp_path), env=env)
    rows = json.loads(proc.stdout)["skills"]
    carts = [r for r in rows if r["name"] == "cart"]
    ok = [r for r in carts if r["status"] == "ok"]
    assert len(ok) == 1 and ok[0]["source"] == "shopper-assistant"
    refused = [r for r in carts if r["source"] == "assistant-skill-hostile-name"]
    assert refused and "belongs to a built-in skill" in refused[0]["status"]
    thief = next(r for r in rows if r["name"] == "thief")
    assert "checkout" in thief["status"] and thief["enabled"] is False
