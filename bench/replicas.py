"""Benchmark of the hub's store engines and replicas: SQLite with one hub against PostgreSQL with one
and with two `assistant serve` replicas behind HAProxy (round-robin, no sticky sessions).

    .venv/bin/python bench/replicas.py [--households 200] [--duration 60] [--configs sqlite,pg1,pg2]

Each household is a member with a paired device of its own, shopping with no pause between turns
("do you have oat milk", "add the first one", "check out", "yes") over HTTP. Measures turns/s, turns
per CPU-second of the hub processes (user+sys, /proc), p50/p95/p99, errors, orders against the
yeses that placed one, and the most PostgreSQL connections seen. Prints a table and writes
bench/results/replicas.json. Run it alone on a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.core import machine, percentile, save  # noqa: E402
from bench.hub import run_level  # noqa: E402
from tests.postgres import running  # noqa: E402
from tests.replicas import Replica, replicated  # noqa: E402

HUB_ARGS = ("--rate-limit", "10000", "--connections-per-address", "1000")
"""The clients all come from loopback as fast as the hub answers: measure it, not its limits."""


def cpu_seconds(pid: int) -> float:
    """user+sys of a process and its finished children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def prepare(url: str, households: int) -> list[tuple[str, str]]:
    from assistant.config import load_config
    from assistant.household import Household
    from assistant.hub.pairing import Pairing
    from assistant.store import Database, ensure_demo

    config = load_config()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp), url)
        ensure_demo(db, config.user)
        household = Household(db, config.user)
        pairing = Pairing(db, household)
        devices = []
        for i in range(households):
            household.add(f"home{i}", exist_ok=True)
            devices.append((f"home{i}", pairing.pair(f"home-device-{i}", f"home{i}")))
        db.close()
    return devices


def orders(url: str) -> int:
    from assistant.store import Database

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp), url)
        n = db.query("SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id WHERE u.name LIKE 'home%'")[0][0]
        db.close()
    return int(n)


class ConnectionCount(threading.Thread):
    """The most connections PostgreSQL held while the level ran."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.most, self.done = url, 0, threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            while not self.done.wait(0.5):
                n = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'").fetchone()[0]
                self.most = max(self.most, n - 1)


def measure(name: str, base: str, pids: list[int], url: str, devices, duration: float, pg: bool) -> dict:
    before_orders = orders(url)
    counter = ConnectionCount(url) if pg else None
    if counter:
        counter.start()
    cpu0 = sum(cpu_seconds(p) for p in pids)
    level = asyncio.run(run_level(base, devices, "http", len(devices), 0.0, duration))
    cpu = sum(cpu_seconds(p) for p in pids) - cpu0
    if counter:
        counter.done.set()
        counter.join()
    lat = [x * 1000 for x in level.latencies] or [float("nan")]
    turns = len(level.latencies)
    row = {
        "config": name, "households": len(devices), "seconds": round(level.seconds, 1), "turns": turns,
        "turns_per_s": round(turns / level.seconds, 1), "turns_per_cpu_s": round(turns / cpu, 1) if cpu else None,
        "hub_cpu_s": round(cpu, 1), "p50_ms": round(percentile(lat, 0.5), 1), "p95_ms": round(percentile(lat, 0.95), 1),
        "p99_ms": round(percentile(lat, 0.99), 1), "errors": len(level.errors), "confirmations": level.confirmations,
        "unconfirmed": level.unconfirmed, "orders": orders(url) - before_orders,
        "pg_connections": counter.most if counter else None, "first_errors": sorted(set(level.errors))[:3],
    }  # fmt: skip
    print(json.dumps(row), flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds each configuration runs")
    parser.add_argument("--configs", default="sqlite,pg1,pg2")
    args = parser.parse_args()
    results: dict = {"machine": machine(), "households": args.households, "duration_s": args.duration, "rows": []}
    for name in args.configs.split(","):
        with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
            if name == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'data' / 'assistant.sqlite3'}"
                devices = prepare(url, args.households)
                hub = Replica("sqlite", Path(tmp) / "data", url, HUB_ARGS).start()
                stack.callback(hub.stop)
                base, pids = hub.base, [hub.pid]
            else:
                server = stack.enter_context(running())
                url = server.database()
                devices = prepare(url, args.households)
                balancer, replicas = stack.enter_context(replicated(url, int(name.removeprefix("pg")), HUB_ARGS))
                base, pids = balancer.base, [r.pid for r in replicas]
            results["rows"].append(measure(name, base, pids, url, devices, args.duration, name != "sqlite"))
    print_table(results)
    save("replicas", results)
    return 0


def print_table(results: dict) -> None:
    print(f"\n{results['machine']}; {results['households']} households, no pause between turns, {results['duration_s']} s each")
    print("| store, hubs | turns | turns/s | turns per hub CPU-s | p50 ms | p95 ms | p99 ms | errors | yeses that ordered | orders | PostgreSQL connections |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results["rows"]:
        print(
            f"| {r['config']} | {r['turns']} | {r['turns_per_s']} | {r['turns_per_cpu_s']} | {r['p50_ms']} | {r['p95_ms']} | "
            f"{r['p99_ms']} | {r['errors']} | {r['confirmations']} | {r['orders']} | {r['pg_connections'] or '-'} |"
        )


if __name__ == "__main__":
    sys.exit(main())
