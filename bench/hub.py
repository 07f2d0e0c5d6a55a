"""Benchmark of the hub: many clients shopping at once over HTTP and WebSocket, and a spoken turn.

    .venv/bin/python bench/hub.py [--clients 1,10,50,200] [--spoken 10] [--think 2]
    .venv/bin/python bench/hub.py --clients none --spoken 20    # the spoken turn only (hub-spoken.json)
    .venv/bin/python bench/hub.py --clients 10 --think 0 --duration 300 --spoken 0   # closed loop, 5 min a transport

Runs `assistant serve` as its own process on a fresh data directory. Each simulated client is a
paired device of its own household member and holds real shopping conversations ("do you have oat
milk", "add the first one", "check out", "yes") over HTTP or over the WebSocket, one turn after
another. Measures turn latency, turns/s, errors, the hub's RSS, and that the orders in the store
equal the confirmations the clients were given. Then end of speech (push-to-talk released) to the
first reply audio frame over the WebSocket. Prints a table and writes bench/results/hub.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.core import machine, percentile, save  # noqa: E402

SCRIPT = ["do you have oat milk", "add the first one", "check out", "yes"]
TURNS_PER_LEVEL = 40
"""Each level runs at least this many turns, and every client at least two conversations."""
THINK_S = 2.0
"""Mean pause between a client's turns (uniform, half to one and a half times): saying a request and
hearing the reply take a person several seconds, so 50 clients offer about 25 turns/s."""
PLACED = re.compile(r"\bOrder \d+ is placed\b")
"""What the purchase gate says when it has placed an order (not "already placed")."""
SPOKEN = ["add oat milk to my basket", "do you have coffee beans", "what's in my basket", "check out", "no thanks"]


@dataclass
class Level:
    transport: str
    clients: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    confirmations: int = 0
    unconfirmed: int = 0
    """A "yes" to the checkout question that placed no order (the reply said why)."""
    seconds: float = 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pair_devices(data_dir: Path, count: int) -> list[tuple[str, str]]:
    """(user, token) for ``count`` devices, each speaking for a member of its own."""
    from assistant.config import load_config
    from assistant.household import Household
    from assistant.hub.pairing import Pairing
    from assistant.store import Database, ensure_demo

    config = load_config()
    db = Database(data_dir)
    ensure_demo(db, config.user)
    household = Household(db, config.user)
    pairing = Pairing(db, household)
    out = []
    for i in range(count):
        user = f"bench{i}"
        household.add(user, exist_ok=True)
        out.append((user, pairing.pair(f"bench-device-{i}", user)))
    db.close()
    return out


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds a process has used (wall time is disturbed by whatever else runs)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def think(seconds: float) -> None:
    if seconds:
        await asyncio.sleep(random.uniform(0.5 * seconds, 1.5 * seconds))


def confirmed(level: Level, text: str, reply: str) -> None:
    if text == "yes":
        if PLACED.search(reply):
            level.confirmations += 1
        else:
            level.unconfirmed += 1


def conversations(rounds: int, until: float | None):
    """Conversation numbers: ``rounds`` of them, or as many as start before ``until`` (monotonic)."""
    r = 0
    while (r < rounds) if until is None else (time.monotonic() < until):
        yield r
        r += 1


async def http_client(
    base: str, token: str, rounds: int, level: Level, index: int, pause: float, until: float | None = None
) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        for r in conversations(rounds, until):
            for text in SCRIPT:
                await think(pause)
                t0 = time.perf_counter()
                try:
                    response = await client.post(f"/v1/conversations/c{index}-{r}/turns", json={"text": text})
                    response.raise_for_status()
                    reply = response.json()["reply"]
                except Exception as exc:  # noqa: BLE001 - every failure is counted, whatever it is
                    level.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                    continue
                level.latencies.append(time.perf_counter() - t0)
                confirmed(level, text, reply)


async def ws_client(
    base: str, token: str, rounds: int, level: Level, index: int, pause: float, until: float | None = None
) -> None:
    import websockets

    url = base.replace("http", "ws", 1)
    for r in conversations(rounds, until):
        try:
            async with websockets.connect(
                f"{url}/v1/conversations/w{index}-{r}/stream", subprotocols=["bearer", token], open_timeout=60
            ) as ws:
                for text in SCRIPT:
                    await think(pause)
                    t0 = time.perf_counter()
                    await ws.send(json.dumps({"type": "text", "text": text}))
                    while True:
                        event = json.loads(await asyncio.wait_for(ws.recv(), 60))
                        if event["type"] in ("turn", "error"):
                            break
                    if event["type"] == "error":
                        level.errors.append(event["error"][:200])
                        continue
                    level.latencies.append(time.perf_counter() - t0)
                    confirmed(level, text, event["turn"]["reply"])
        except Exception as exc:  # noqa: BLE001
            level.errors.append(f"{type(exc).__name__}: {exc}"[:200])


async def run_level(
    base: str, devices: list[tuple[str, str]], transport: str, clients: int, pause: float, duration: float | None
) -> Level:
    """Every client holds conversations: a few each, or for ``duration`` seconds (a closed loop with no pause)."""
    level = Level(transport, clients)
    rounds = max(2, math.ceil(TURNS_PER_LEVEL / (clients * len(SCRIPT))))
    until = None if duration is None else time.monotonic() + duration
    client = http_client if transport == "http" else ws_client
    t0 = time.perf_counter()
    await asyncio.gather(*(client(base, devices[i][1], rounds, level, i, pause, until) for i in range(clients)))
    level.seconds = time.perf_counter() - t0
    return level


def orders_of(data_dir: Path, users: list[str]) -> int:
    from assistant.store import Database

    db = Database(data_dir)
    try:
        marks = ",".join("?" * len(users))
        query = f"SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id WHERE u.name IN ({marks})"  # noqa: S608
        return int(db.query(query, tuple(users))[0][0])
    finally:
        db.close()


async def spoken_turns(base: str, token: str, count: int, folder: Path) -> list[float]:
    """End of speech (the client's audio-end) to the first binary frame of the reply, in seconds."""
    import numpy as np
    import websockets

    from assistant.audio.wav import read_wav
    from tests.voice_helpers import speak

    clips = [read_wav(speak(text, folder / f"spoken{i}.wav")) for i, text in enumerate(SPOKEN)]
    out = []
    url = base.replace("http", "ws", 1)
    async with websockets.connect(f"{url}/v1/conversations/spoken/stream", subprotocols=["bearer", token]) as ws:
        for i in range(count):
            pcm = np.concatenate([np.zeros(4800, np.int16), clips[i % len(clips)], np.zeros(1600, np.int16)])
            for at in range(0, len(pcm), 1600):
                await ws.send(pcm[at : at + 1600].astype("<i2").tobytes())
                await asyncio.sleep(0.1)  # as a microphone delivers it
            t0 = time.perf_counter()
            await ws.send(json.dumps({"type": "audio-end"}))
            first = None
            while True:
                message = await asyncio.wait_for(ws.recv(), 60)
                if isinstance(message, bytes) and first is None:
                    first = time.perf_counter() - t0
                elif isinstance(message, str) and json.loads(message)["type"] == "reply-audio-end":
                    break
            if first is not None:
                out.append(first)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", default="1,10,50,200")
    parser.add_argument("--spoken", type=int, default=10, help="spoken turns to time (0: none)")
    parser.add_argument("--think", type=float, default=THINK_S, help="mean seconds between a client's turns (0: none)")
    parser.add_argument("--duration", type=float, default=None, help="seconds each level runs (default: ~40 turns)")
    args = parser.parse_args()
    levels = [int(n) for n in args.clients.split(",") if n.strip() and n != "none"]
    results: dict[str, object] = {
        "machine": machine(), "script": SCRIPT, "think_s": args.think, "duration_s": args.duration, "levels": []
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        devices = pair_devices(data_dir, max(levels, default=0) + 1)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        hub = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port), "--data-dir", str(data_dir),
             "--rate-limit", "10000", "--connections-per-address", "1000"],  # clients here turn as fast as the
            # hub answers, all from loopback: measure it, not the limits
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            hub.stdout.readline()  # the page link: the hub is about to listen
            import httpx

            while True:
                try:
                    httpx.get(f"{base}/healthz", timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    if hub.poll() is not None:
                        raise SystemExit(hub.stderr.read()) from None
                    time.sleep(0.2)
            results["hub_rss_mb_idle"] = round(rss_mb(hub.pid), 1)
            for transport in ("http", "ws"):
                for clients in levels:
                    users = [devices[i][0] for i in range(clients)]
                    before = orders_of(data_dir, users)
                    cpu_before = cpu_s(hub.pid)
                    level = asyncio.run(run_level(base, devices, transport, clients, args.think, args.duration))
                    placed = orders_of(data_dir, users) - before
                    cpu = cpu_s(hub.pid) - cpu_before
                    lat = [x * 1000 for x in level.latencies] or [float("nan")]
                    row = {
                        "transport": transport, "clients": clients, "turns": len(level.latencies),
                        "p50_ms": round(percentile(lat, 0.5), 1), "p95_ms": round(percentile(lat, 0.95), 1),
                        "p99_ms": round(percentile(lat, 0.99), 1),
                        "turns_per_s": round(len(level.latencies) / level.seconds, 1), "errors": len(level.errors),
                        "confirmations": level.confirmations, "unconfirmed": level.unconfirmed, "orders": placed, "hub_rss_mb": round(rss_mb(hub.pid), 1),
                        "hub_cpu_s": round(cpu, 1), "turns_per_cpu_s": round(len(level.latencies) / cpu, 1) if cpu else None,
                        "first_errors": sorted(set(level.errors))[:3],
                    }  # fmt: skip
                    results["levels"].append(row)
                    print(json.dumps(row), flush=True)
            if args.spoken:
                first = asyncio.run(spoken_turns(base, devices[-1][1], args.spoken, Path(tmp)))
                ms = [x * 1000 for x in first]
                results["spoken_turns"] = len(ms)
                results["spoken_end_to_first_audio_ms_p50"] = round(percentile(ms, 0.5), 1) if ms else None
                results["spoken_end_to_first_audio_ms_p95"] = round(percentile(ms, 0.95), 1) if ms else None
            results["hub_rss_mb_end"] = round(rss_mb(hub.pid), 1)
        finally:
            hub.terminate()
            hub.wait(60)
    print_table(results)
    save("hub" if levels else "hub-spoken", results)
    return 0


def print_table(results: dict) -> None:
    print(f"\n{results['machine']}")
    print(f"think time {results['think_s']} s")
    print(
        "| transport | clients | turns | p50 ms | p95 ms | p99 ms | turns/s | errors | confirmations "
        "| yes without order | orders | hub RSS MB | hub CPU s | turns/CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results["levels"]:
        print(
            f"| {r['transport']} | {r['clients']} | {r['turns']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
            f"{r['turns_per_s']} | {r['errors']} | {r['confirmations']} | {r['unconfirmed']} | {r['orders']} | {r['hub_rss_mb']} | "
            f"{r.get('hub_cpu_s')} | {r.get('turns_per_cpu_s')} |"
        )
    if "spoken_turns" in results:
        print(
            f"spoken turn, end of speech to first reply audio ({results['spoken_turns']} turns): "
            f"p50 {results['spoken_end_to_first_audio_ms_p50']} ms, p95 {results['spoken_end_to_first_audio_ms_p95']} ms"
        )


if __name__ == "__main__":
    sys.exit(main())
