"""Benchmark of skill isolation: worker start, added latency per call and memory per skill, with and without the sandbox.

    .venv/bin/python bench/isolation.py [--calls 300] [--starts 10]

Installs the example recipes skill into a temporary folder, then calls its handler in this process
(the baseline: what a built-in pays) and in its worker, unsandboxed and in bubblewrap. Prints a
table and writes bench/results/isolation.json.
"""

from __future__ import annotations

import argparse
import ctypes
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the repo's `skills` package, not a file of this folder


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants (bwrap's two processes and the worker)."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += rss_mb(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            children = (task / "children").read_text().split()
            todo += [int(c) for c in children]
    return total


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0: none), read with the landlock_create_ruleset syscall."""
    libc = ctypes.CDLL(None, use_errno=True)
    version = libc.syscall(444, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    return max(0, version)


def timed(fn: Callable[[], object], runs: int) -> list[float]:  # noqa: D103
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--starts", type=int, default=10)
    args = parser.parse_args()
    site = Path(tempfile.mkdtemp()) / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", "--target", str(site), str(REPO / "examples" / "recipes-skill")],
        check=True,
    )  # fmt: skip
    sys.path.insert(0, str(site))
    import assistant.skills.isolation as isolation
    from assistant.nlu.parse import Entity
    from assistant.sdk import CAPABILITIES, Context, Conversation, Request, ShopInfo
    from assistant.skills.capabilities import CartAccess, CatalogAccess, OrdersAccess
    from assistant.skills.registry import discover
    from assistant.skills.sandbox import bwrap_available
    from assistant.store import Catalog, Database, Orders, Recommender, ensure_demo
    from bench.core import machine, percentile, print_table, save

    results: dict[str, object] = {"machine": machine(), "landlock_abi": landlock_abi()}
    sandbox = bwrap_available()
    results["sandbox"] = "bubblewrap" if sandbox is None else f"none ({sandbox})"
    loaded = next(s for s in discover()[0] if s.name == "recipes")
    shop = ShopInfo("GBP", True, None, "Home", 1, 10, 3)
    pancakes = Request("add_recipe", "add what I need for pancakes", 1.0, (Entity("dish", "pancakes", 0, 1),))
    unknown = Request("add_recipe", "add what I need for haggis", 1.0, (Entity("dish", "haggis", 0, 1),))
    requests = {"round_trip": unknown, "recipe": pancakes}
    """round_trip: one call, no capability use; recipe: 5 searches, 5 basket writes, one basket read."""

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        db = Database(data_dir)
        ensure_demo(db, "me")
        orders = Orders(db, "me")
        caps = {
            "catalog": CatalogAccess(Catalog(db)),
            "cart": CartAccess(orders),
            "orders": OrdersAccess(orders, Recommender(db, orders)),
        }

        # the baseline: the same class in this process, as a built-in runs
        import recipes_skill

        skill = recipes_skill.RecipesSkill(recipes_skill.Settings())
        ctx = Context("recipes", loaded.permissions, {k: caps[k] for k in CAPABILITIES if k in caps}, Conversation(), {}, shop, [])  # fmt: skip
        executors: dict[str, Callable[[Request], object]] = {"in_process": lambda r: skill.add_recipe(ctx, r)}

        modes = [("unsandboxed", True)] + ([("sandboxed", False)] if sandbox is None else [])

        def worker_for(unsandboxed: bool) -> isolation.SkillWorker:
            # unsandboxed: as on a machine without bubblewrap, with skills_unsandboxed: true
            isolation.bwrap_available = (lambda: "measured without the sandbox") if unsandboxed else bwrap_available
            return isolation.SkillWorker(loaded, data_dir, allow_unsandboxed=unsandboxed)

        starts: dict[str, list[float]] = {mode: [] for mode, _ in modes}
        for _ in range(args.starts):  # interleaved, as the calls below
            for mode, unsandboxed in modes:
                worker = worker_for(unsandboxed)
                t0 = time.perf_counter()
                worker.start()
                starts[mode].append((time.perf_counter() - t0) * 1000)
                worker.stop()
        workers = []
        for mode, unsandboxed in modes:
            results[f"{mode}_start_ms_median"] = round(statistics.median(starts[mode]), 1)
            worker = worker_for(unsandboxed)
            worker.start()
            workers.append((mode, worker))
            executors[mode] = lambda r, w=worker: w.call("add_recipe", r, None, Conversation(), shop, [], caps, 10.0)
        # interleaved, so that every executor meets the same load on this shared machine
        for kind, request in requests.items():
            times: dict[str, list[float]] = {name: [] for name in executors}
            for _ in range(args.calls):
                for name, run in executors.items():
                    t0 = time.perf_counter()
                    run(request)
                    times[name].append((time.perf_counter() - t0) * 1000)
                    orders.clear_cart()
            for name, values in times.items():
                results[f"{name}_{kind}_ms_p50"] = round(percentile(values, 0.5), 3)
                results[f"{name}_{kind}_ms_p95"] = round(percentile(values, 0.95), 3)
                if name != "in_process":
                    added = percentile(values, 0.5) - percentile(times["in_process"], 0.5)
                    results[f"{name}_{kind}_added_ms_p50"] = round(added, 3)
        for mode, worker in workers:
            assert worker.pid is not None
            results[f"{mode}_worker_rss_mb"] = round(tree_rss_mb(worker.pid), 1)
            worker.stop()
        isolation.bwrap_available = bwrap_available
        if sandbox is None:
            plain = timed(lambda: subprocess.run(["true"], check=True), 20)
            boxed = timed(
                lambda: subprocess.run(
                    ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc", "true"],
                    check=True,
                ),
                20,
            )
            results["bwrap_alone_added_ms_median"] = round(statistics.median(boxed) - statistics.median(plain), 2)
        db.close()
    print_table(results)
    save("isolation", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
