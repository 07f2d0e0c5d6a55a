"""Benchmark of skill isolation: added latency per skill call, and memory per skill process.

    .venv/bin/python bench/isolation.py [--calls 300]

Installs the example recipes skill into a temporary folder, then calls the same handler in-process
and in its worker process. Prints a table and writes bench/results/isolation.json.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the repo's `skills` package, not a file of this folder


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    site = Path(tempfile.mkdtemp()) / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", "--target", str(site), str(REPO / "examples" / "recipes-skill")],
        check=True,
    )  # fmt: skip
    sys.path.insert(0, str(site))
    from assistant.app import App
    from assistant.config import load_config
    from assistant.nlu.parse import Entity
    from assistant.sdk import Request
    from assistant.skills.state import SkillStates
    from bench.core import machine, percentile, print_table, save

    results: dict[str, object] = {}
    # a real call: catalogue searches and basket writes, each a round trip to the core when isolated
    request = Request("add_recipe", "add what I need for pancakes", 1.0, (Entity("dish", "pancakes", 0, 1),))
    for isolation in ("none", "third-party"):
        config = load_config(REPO / "config.yml")
        config.dialogue.isolation = isolation
        with tempfile.TemporaryDirectory() as tmp:
            SkillStates(Path(tmp)).set("recipes", True)
            app = App.build(config, data_dir=Path(tmp))
            loaded = app.dispatcher.by_name["recipes"]
            ctx = app.conversation().context(loaded)

            def call(loaded=loaded, ctx=ctx, app=app):
                return app.dispatcher.call(loaded, loaded.intents["add_recipe"], request, None, ctx, 10.0)

            reply = call()  # warm up (and start the worker)
            assert reply.speech.startswith("For pancakes"), reply.speech
            times = []
            for _ in range(args.calls):
                t0 = time.perf_counter()
                call()
                times.append((time.perf_counter() - t0) * 1000)
            results[f"{isolation}_call_ms_p50"] = round(percentile(times, 0.5), 3)
            results[f"{isolation}_call_ms_p95"] = round(percentile(times, 0.95), 3)
            executor = app.dispatcher.executors.get("recipes")
            worker = getattr(executor, "worker", None)
            if worker is not None and worker._proc is not None:
                results["worker_rss_mb"] = round(rss_mb(worker._proc.pid), 1)
            app.close()
    results["added_ms_p50"] = round(results["third-party_call_ms_p50"] - results["none_call_ms_p50"], 3)
    results["added_ms_p95"] = round(results["third-party_call_ms_p95"] - results["none_call_ms_p95"], 3)
    results["machine"] = machine()
    print_table(results)
    save("isolation", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
