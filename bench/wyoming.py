"""Satellites end to end: end of speech at a real wyoming-satellite to its first reply audio, and the hub's cost.

    .venv/bin/python bench/wyoming.py [--turns 12] [--rounds 6] [--idle 20]

Real programs only: `assistant wyoming` as the hub, `wyoming-satellite` 1.0.0 from ./.venv-satellite
(scripts/install-satellite.sh) in each room, whose microphone streams espeak-ng commands in real
time and whose speaker program notes when a reply's first bytes arrive (tests/wyoming/rooms.py).
Latency = time the reply's first audio reached the satellite's speaker program - time the last
voiced sample of the command left its microphone program. Hub CPU and RSS are the hub's whole
process tree (its speech helper and skill workers too), read from /proc, per connected satellite.
Prints a table and writes bench/results/wyoming.json.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# run as a script, this file's folder comes first on the path and its name would hide the wyoming package
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

from assistant.audio.wav import read_wav  # noqa: E402
from bench.core import machine, percentile, save  # noqa: E402
from tests.voice_helpers import speak  # noqa: E402
from tests.wyoming.conftest import REPO, start_server  # noqa: E402
from tests.wyoming.rooms import HAVE_SATELLITE, Room  # noqa: E402

COMMANDS = [
    "hey shopper, do you have coffee",
    "hey shopper, add oat milk to my basket",
    "hey shopper, what's in my basket",
    "hey shopper, recommend something",
]
TAIL_S = 0.8
TICK = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        todo += [int(c) for c in children]
    return out


def cpu_seconds(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICK


def rss_mb(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(found.group(1)) if found else 0
    return total / 1024


def spoken(folder: Path) -> list[tuple[str, np.ndarray, float]]:
    """Each command with its tail of silence, and how long after its last voiced sample the file ends."""
    out = []
    for i, text in enumerate(COMMANDS):
        pcm = read_wav(speak(text, folder / f"cmd-{i}.wav", voice="en-us"))
        voiced = np.nonzero(np.abs(pcm) > 500)[0]
        after = (len(pcm) - (voiced[-1] + 1)) / 16000 + TAIL_S
        out.append((text, np.concatenate([pcm, np.zeros(int(16000 * TAIL_S), np.int16)]), after))
    return out


def talk(rooms: list[Room], command: tuple[str, np.ndarray, float], timeout: float = 30) -> list[float | None]:
    """Every room says the command at once; each room's end-of-speech to first-reply-audio latency."""
    _, pcm, after = command
    before = [(len(r.played()), len(r.said())) for r in rooms]
    for room in rooms:
        room.say(pcm)
    out: list[float | None] = []
    for room, (played, said) in zip(rooms, before, strict=True):
        try:
            replies = room.wait_played(played + 1, timeout)
        except AssertionError:
            out.append(None)  # the hub did not answer (it misheard the wake phrase): counted as a miss
            continue
        while len(room.said()) <= said:  # the reply can start before the command's tail of silence is out
            time.sleep(0.05)
        end_of_speech = room.said()[said]["end"] - after
        out.append(replies[played]["first"] - end_of_speech)
    return out


def idle(pid: int, seconds: float) -> float:
    """The hub's CPU use, in % of one core, over a quiet stretch."""
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - c0) / (time.monotonic() - t0)


def stage_timings(log: str) -> dict[str, float]:
    """The hub's own account of each turn (p50): recognition, the turn, the first sentence's synthesis."""
    found = re.findall(
        r"recognition ([\d.]+) s \(started in the pause\), turn ([\d.]+) s, first sentence spoken in ([\d.]+) s", log
    )
    if not found:
        return {}
    cols = np.array(found, float)
    return {
        "recognition_p50_s": float(np.median(cols[:, 0])),
        "turn_p50_s": float(np.median(cols[:, 1])),
        "first_sentence_tts_p50_s": float(np.median(cols[:, 2])),
        "turns_recognized_in_the_pause": len(found),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=12, help="commands said to one satellite")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of all five satellites speaking at once")
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of quiet to measure idle CPU")
    args = parser.parse_args()
    if not HAVE_SATELLITE:
        print("wyoming-satellite is not installed: run scripts/install-satellite.sh", file=sys.stderr)
        return 1
    folder = Path(tempfile.mkdtemp(prefix="bench-wyoming-"))
    data = folder / "data"
    commands = spoken(folder)
    rooms = [Room(folder, f"room{i}").start() for i in range(5)]
    for room in rooms:
        subprocess.run(
            [sys.executable, "-m", "assistant.cli", "satellites", "add", room.name, room.uri, "--data-dir", str(data), "--user", "default"],
            check=True, capture_output=True, cwd=REPO,
        )  # fmt: skip
    server = start_server(data, "--no-satellites")  # first: the hub alone
    results: dict = {"machine": machine(), "load_average_at_start": os.getloadavg()}
    try:
        time.sleep(3)
        results["idle_cpu_pct_no_satellites"] = idle(server.proc.pid, args.idle / 2)
        results["rss_mb_no_satellites"] = rss_mb(server.proc.pid)
        server.stop()
        # now with the satellites: only room0 for the one-satellite figures, then all five
        for room in rooms[1:]:
            subprocess.run(
                [sys.executable, "-m", "assistant.cli", "satellites", "remove", room.name, "--data-dir", str(data)],
                check=True, capture_output=True, cwd=REPO,
            )  # fmt: skip
        server = start_server(data)
        time.sleep(4)  # connected, streaming silence
        pid = server.proc.pid
        results["idle_cpu_pct_1_satellite"] = idle(pid, args.idle)
        one: list[float | None] = []
        mark = len(server.log.read_text())
        c0, t0 = cpu_seconds(pid), time.monotonic()
        for i in range(args.turns):
            one += talk(rooms[:1], commands[i % len(commands)])
        results["talking_cpu_pct_1_satellite"] = 100 * (cpu_seconds(pid) - c0) / (time.monotonic() - t0)
        results["hub_cpu_s_per_command"] = (cpu_seconds(pid) - c0) / args.turns
        results["stages_1_satellite"] = stage_timings(server.log.read_text()[mark:])
        results["rss_mb_1_satellite"] = rss_mb(pid)
        for room in rooms[1:]:
            subprocess.run(
                [sys.executable, "-m", "assistant.cli", "satellites", "add", room.name, room.uri, "--data-dir", str(data), "--user", "default"],
                check=True, capture_output=True, cwd=REPO,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while server.log.read_text().count("connected (") < 5 and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)
        idle5 = idle(pid, args.idle)
        five: list[float | None] = []
        mark = len(server.log.read_text())
        c0, t0 = cpu_seconds(pid), time.monotonic()
        for i in range(args.rounds):
            five += talk(rooms, commands[i % len(commands)])
        talking5 = 100 * (cpu_seconds(pid) - c0) / (time.monotonic() - t0)
        results.update(
            idle_cpu_pct_5_satellites=idle5,
            idle_cpu_pct_per_satellite=(idle5 - results["idle_cpu_pct_no_satellites"]) / 5,
            talking_cpu_pct_5_satellites=talking5,
            rss_mb_5_satellites=rss_mb(pid),
            stages_5_at_once=stage_timings(server.log.read_text()[mark:]),
        )
    finally:
        server.stop()
        for room in rooms:
            room.kill()
    for name, values in (("1 satellite", one), ("5 at once", five)):
        got = [v for v in values if v is not None]
        results[name] = {
            "turns": len(values), "answered": len(got),
            "p50_s": percentile(got, 0.5) if got else None, "p95_s": percentile(got, 0.95) if got else None,
            "latencies_s": [None if v is None else round(v, 3) for v in values],
        }  # fmt: skip
    print(f"machine: {results['machine']}; load average at start {results['load_average_at_start']}")
    print(f"{'end of speech -> first reply audio':<40} {'answered':>9} {'p50':>8} {'p95':>8}")
    for name in ("1 satellite", "5 at once"):
        r = results[name]
        p50 = f"{r['p50_s'] * 1000:.0f} ms" if r["p50_s"] is not None else "-"
        p95 = f"{r['p95_s'] * 1000:.0f} ms" if r["p95_s"] is not None else "-"
        print(f"{name:<40} {r['answered']:>4}/{r['turns']:<4} {p50:>8} {p95:>8}")
    print(f"hub stages, 1 satellite (p50): {results['stages_1_satellite']}")
    print(f"hub stages, 5 at once (p50): {results['stages_5_at_once']}")
    print(f"hub CPU per command: {results['hub_cpu_s_per_command']:.2f} s")
    print(f"{'hub (process tree)':<40} {'CPU % of a core':>16} {'RSS':>8}")
    print(
        f"{'no satellites, idle':<40} {results['idle_cpu_pct_no_satellites']:>16.1f} {results['rss_mb_no_satellites']:>6.0f} MB"
    )
    print(f"{'1 satellite, idle (streaming silence)':<40} {results['idle_cpu_pct_1_satellite']:>16.1f}")
    print(
        f"{'1 satellite, talking':<40} {results['talking_cpu_pct_1_satellite']:>16.1f} {results['rss_mb_1_satellite']:>6.0f} MB"
    )
    print(f"{'5 satellites, idle':<40} {results['idle_cpu_pct_5_satellites']:>16.1f}")
    print(
        f"{'5 satellites, talking at once':<40} {results['talking_cpu_pct_5_satellites']:>16.1f} {results['rss_mb_5_satellites']:>6.0f} MB"
    )
    print(f"idle CPU per connected satellite: {results['idle_cpu_pct_per_satellite']:.2f} % of a core")
    save("wyoming", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
