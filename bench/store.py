"""Benchmark of the store: devices of one user checking out at once, and reading long WAV files.

    .venv/bin/python bench/store.py [--units 20] [--minutes 10]

Prints a table and writes bench/results/store.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
import wave
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.core import machine, percentile, print_table, save  # noqa: E402

DEVICE = textwrap.dedent(
    """
    import json, random, sys, time
    from assistant.config import ShopSettings
    from assistant.purchase import PurchaseGate, Refusal
    from assistant.store import Catalog, Database, Orders

    db = Database(sys.argv[1])
    gate = PurchaseGate(db, ShopSettings())
    orders = Orders(db, "me")
    milk = [p.id for p in Catalog(db).search("milk", limit=4)]
    quote_ms, place_ms, outcomes, rng = [], [], [], random.Random(sys.argv[2])
    for i in range(int(sys.argv[3])):
        orders.add(milk[i % len(milk)], 1)
        t = time.perf_counter()
        quote = gate.quote(orders.user_id, sys.argv[2], None)
        quote_ms.append((time.perf_counter() - t) * 1000)
        if isinstance(quote, Refusal):
            outcomes.append("refused")
            continue
        time.sleep(rng.uniform(0, 0.01))  # the user hears the question and says yes; other devices go on
        t = time.perf_counter()
        outcomes.append(gate.place(quote.token, orders.user_id, sys.argv[2]).outcome.value)
        place_ms.append((time.perf_counter() - t) * 1000)
    print(json.dumps({"quote_ms": quote_ms, "place_ms": place_ms, "outcomes": outcomes}))
    """
)

MEASURE_WAV = textwrap.dedent(
    """
    import resource, sys, time
    from assistant.audio import wav
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    if sys.argv[2] == "stream_wav":
        samples = sum(len(block) for block in wav.stream_wav(sys.argv[1]))
    else:
        samples = len(wav.read_wav(sys.argv[1]))
    grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(samples, grew / 1024, time.perf_counter() - t)
    """
)


def checkout(processes: int, units: int, results: dict) -> None:
    from assistant.store import Database, Orders, ensure_demo

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp))
        ensure_demo(db, "me")
        me = db.user_id("me")
        children = [
            subprocess.Popen(
                [sys.executable, "-c", DEVICE, tmp, f"device-{n}", str(units)],
                env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in range(processes)
        ]
        reports = [json.loads(child.communicate(timeout=600)[0]) for child in children]
        ordered = db.query(
            "SELECT coalesce(sum(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id "
            "WHERE o.user_id = ? AND o.token IS NOT NULL",
            (me,),
        )[0][0]
        left = sum(line.quantity for line in Orders(db, me).cart())
        db.close()
    outcomes = [o for r in reports for o in r["outcomes"]]
    place_ms = [v for r in reports for v in r["place_ms"]]
    key = f"{processes}_devices"
    results[f"{key}_units_added"] = processes * units
    results[f"{key}_units_ordered"] = ordered
    results[f"{key}_units_left"] = left
    results[f"{key}_units_lost_or_doubled"] = processes * units - ordered - left
    results[f"{key}_placed_changed"] = f"{outcomes.count('placed')}/{outcomes.count('changed')}"
    results[f"{key}_place_ms_p50"] = round(percentile(place_ms, 0.5), 1)
    results[f"{key}_place_ms_p95"] = round(percentile(place_ms, 0.95), 1)


def long_wav(minutes: int, results: dict) -> None:
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.wav"
        noise = (np.random.default_rng(0).standard_normal((441000, 2)) * 3000).astype(np.int16).tobytes()
        with wave.open(str(path), "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(44100)
            for _ in range(minutes * 6):
                w.writeframes(noise)
        for how in ("read_wav", "stream_wav"):
            out = subprocess.run(
                [sys.executable, "-c", MEASURE_WAV, str(path), how],
                env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
                capture_output=True,
                text=True,
                check=True,
            )
            _, grew_mb, seconds = (float(v) for v in out.stdout.split())
            results[f"{how}_{minutes}min_44k_stereo_rss_growth_mb"] = round(grew_mb, 1)
            results[f"{how}_{minutes}min_44k_stereo_x_realtime"] = round(minutes * 60 / seconds, 1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=20, help="units each device adds (and checks out)")
    parser.add_argument("--minutes", type=int, default=10, help="length of the WAV read")
    args = parser.parse_args()
    results: dict[str, object] = {"machine": machine(), "units_per_device": args.units}
    start = time.perf_counter()
    for processes in (2, 8):
        checkout(processes, args.units, results)
    long_wav(args.minutes, results)
    results["bench_s"] = round(time.perf_counter() - start, 1)
    print_table(results)
    save("store", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
