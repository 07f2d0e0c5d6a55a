"""Benchmark of what trusting third-party skills costs: the access log, vetting their data, the two-model guard.

    .venv/bin/python bench/trust.py [--calls 300]

Prints a table and writes bench/results/trust.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the repo's `skills` package, not a file of this folder


def timed(fn, runs: int) -> list[float]:
    """Milliseconds per call."""
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    from assistant.nlu import create_engine, load_training_data
    from assistant.nlu.data import load_file
    from assistant.skills.access_log import AccessLog, logged_capabilities
    from assistant.skills.capabilities import CatalogAccess
    from assistant.skills.vetting import GuardedEngine, ThirdPartySkillData, merge_third_party
    from assistant.store import Catalog, Database, ensure_demo
    from bench.core import machine, percentile, print_table, save

    results: dict[str, object] = {"machine": machine()}

    def p50_p95(key: str, values: list[float], unit: str = "ms", scale: float = 1.0) -> None:
        results[f"{key} p50 ({unit})"] = round(percentile(values, 0.5) * scale, 3)
        results[f"{key} p95 ({unit})"] = round(percentile(values, 0.95) * scale, 3)

    with tempfile.TemporaryDirectory() as tmp:
        # -- the access log -------------------------------------------------------------------
        log = AccessLog(Path(tmp) / "log")
        p50_p95("access log: record", timed(lambda: log.record("recipes", "catalog", "search", "x"), 2000), "us", 1000)
        for i in range(10_000):
            log.record("recipes" if i % 2 else "deals", "catalog", "search", f"searched for {i}")
        p50_p95("access log: 200 newest of one skill in 10,000", timed(lambda: log.entries("recipes", limit=200), 50))
        start = time.perf_counter()
        log.erase()
        results["access log: erase 10,000 (ms)"] = round((time.perf_counter() - start) * 1000, 1)

        db = Database(Path(tmp) / "data")
        ensure_demo(db, "bench")
        plain = CatalogAccess(Catalog(db))
        logged = logged_capabilities({"catalog": plain}, "recipes", log)["catalog"]
        p50_p95("catalog.search, direct", timed(lambda: plain.search("milk", limit=5), args.calls))
        p50_p95("catalog.search, logged", timed(lambda: logged.search("milk", limit=5), args.calls))
        log.close()
        db.close()

        # -- vetting and the guard ------------------------------------------------------------
        builtin = load_training_data(sorted(REPO.glob("skills/*/nlu.yml")))
        recipes = ThirdPartySkillData("recipes", REPO / "examples/recipes-skill/recipes_skill/nlu.yml")
        vetting = timed(lambda: merge_third_party(builtin, [recipes]), 5)
        results["vet and merge one skill's nlu.yml (ms)"] = round(min(vetting), 1)
        merged = merge_third_party(builtin, [recipes])
        cache = Path(tmp) / "models"
        single = create_engine("embedded")
        start = time.perf_counter()
        single.train(merged.data, cache)
        results["train one model (s)"] = round(time.perf_counter() - start, 1)
        guard = GuardedEngine(lambda: create_engine("embedded"), builtin)
        start = time.perf_counter()
        guard.train(merged.data, cache)  # the merged model is cached: this is the built-in model's training
        results["guard: train the extra built-in model (s)"] = round(time.perf_counter() - start, 1)
        texts = [e.text for e in load_file(REPO / "tests/data/nlu_test.yml").examples]
        one, two = [], []
        for text in texts * 3:  # interleaved, so load from elsewhere on the machine hits both alike
            one += timed(lambda text=text: single.parse(text), 1)
            two += timed(lambda text=text: guard.parse(text), 1)
        p50_p95("parse, one model", one)
        p50_p95("parse, guarded (two models)", two)
        second = sum(guard.needs_second(t) for t in texts)
        results["guarded parses that need the second model (%)"] = round(100 * second / len(texts), 1)
        single.close()
        guard.close()

    print_table(results)
    save("trust", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
