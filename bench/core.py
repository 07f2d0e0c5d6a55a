"""Benchmark of the text assistant: NLU training, turn latency, held-out accuracy, RSS, cold start.

    .venv/bin/python bench/core.py [--turns 300] [--engine embedded]

Prints a table and writes bench/results/core.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SCRIPT = [
    "do you have oat milk", "add the second one", "what's in my basket", "do you have batteries",
    "add two of the first one", "remove the batteries", "check out", "no", "what do you recommend",
    "why", "surprise me", "order the usual", "no", "where is my order", "what did I buy last time",
    "help", "what's the weather", "say that again",
]  # fmt: skip


CONCURRENT = """
import json, sys, time
from pathlib import Path
from assistant.app import App
from assistant.config import load_config
sys.path.insert(0, "bench")
from core import SCRIPT
app = App.build(load_config(), data_dir=Path(sys.argv[1]), engine=sys.argv[2])
conversation = app.conversation()
times = []
for i in range(int(sys.argv[3])):
    t0 = time.perf_counter()
    conversation.handle(SCRIPT[i % len(SCRIPT)])
    times.append((time.perf_counter() - t0) * 1000)
app.close()
print(json.dumps(times))
"""
"""One of 8 processes: a conversation of the same user, its turn latencies as JSON."""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def watch_check_ms(folder: Path, watches: int = 10_000, products: int = 5_000) -> dict[str, float]:
    """What a catalogue import of ``products`` price drops costs with ``watches`` watches (5 products each)."""
    import random

    from assistant.store import Database
    from assistant.store.catalog import upsert_products

    db = Database(folder)
    rng = random.Random(20261202)
    items = [
        {"sku": f"B-{n:05d}", "name": f"thing {n}", "brand": "", "category": "groceries", "size": "",
         "price_pence": 1000 + n, "description": ""}
        for n in range(products)
    ]  # fmt: skip
    with db.transaction() as tx:
        upsert_products(tx, items, [])
        ids = [r[0] for r in tx.execute("SELECT id FROM products")]
        users = [db.user_id(f"member{n}") for n in range(10)]
        for n in range(watches):
            cur = tx.execute(
                "INSERT INTO watches(user_id, query, below_pence) VALUES (?, 'thing', ?)",
                (users[n % 10], None if n % 2 else 1000 + rng.randrange(products)),
            )
            tx.executemany(
                "INSERT OR IGNORE INTO watch_products VALUES (?, ?)", [(cur.lastrowid, i) for i in rng.sample(ids, 5)]
            )
    cheaper = [{**item, "price_pence": item["price_pence"] - 500} for item in items]
    t0 = time.perf_counter()
    with db.transaction() as tx:
        report = upsert_products(tx, cheaper, [])
    total = (time.perf_counter() - t0) * 1000
    db.close()
    return {"watch_check_import_ms": round(total, 1), "watch_check_news": report.price_news,
            "watch_check_watches": watches, "watch_check_price_changes": report.price_changes}  # fmt: skip


def machine() -> str:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--engine", default="embedded")
    args = parser.parse_args()
    results: dict[str, object] = {"machine": machine(), "engine": args.engine}

    from assistant.app import App
    from assistant.config import load_config
    from assistant.nlu.data import load_file
    from assistant.nlu.evaluate import evaluate

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ASSISTANT_MODEL_CACHE"] = str(Path(tmp) / "models")
        config = load_config(REPO / "config.yml")
        start = time.perf_counter()
        app = App.build(config, data_dir=Path(tmp) / "data", engine=args.engine)
        results["first_start_with_training_s"] = round(time.perf_counter() - start, 2)
        app.close()

        latencies = []
        app = App.build(config, data_dir=Path(tmp) / "data", engine=args.engine)
        conversation = app.conversation()
        for i in range(args.turns):
            text = SCRIPT[i % len(SCRIPT)]
            t0 = time.perf_counter()
            conversation.handle(text)
            latencies.append((time.perf_counter() - t0) * 1000)
        results["turn_ms_p50"] = round(percentile(latencies, 0.5), 1)
        results["turn_ms_p95"] = round(percentile(latencies, 0.95), 1)
        results["turns"] = args.turns
        report = evaluate(app.parse, load_file(REPO / "tests/data/nlu_test.yml"))
        results.update(
            {
                f"heldout_{k}": v
                for k, v in report.as_dict().items()
                if k in ("examples", "intent_accuracy", "intent_macro_f1", "entity_f1")
            }
        )
        # the shopping list's intents beside the basket's own phrasings (tests/data/nlu_test_list.yml)
        lists = evaluate(app.parse, load_file(REPO / "tests/data/nlu_test_list.yml")).as_dict()
        results["heldout_list_intent_accuracy"] = lists["intent_accuracy"]
        results["heldout_list_entity_f1"] = lists["entity_f1"]
        for name in ("add_to_list", "remove_from_list", "view_list", "clear_list", "order_list",
                     "add_to_cart", "remove_from_cart", "view_cart"):  # fmt: skip
            results[f"heldout_list_recall_{name}"] = lists["per_intent"].get(name, {}).get("recall")
        results["rss_mb_after_turns"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        app.close()

        # a 5,000-product price change imported with no watches, then with 10,000 of them
        unwatched = watch_check_ms(Path(tmp) / "no-watches", watches=0)
        results["import_5000_price_drops_ms"] = unwatched["watch_check_import_ms"]
        results.update(watch_check_ms(Path(tmp) / "watches"))

        # cold start: a new process, cached model, until the chat answers its first turn
        env = {**os.environ, "ASSISTANT_MODEL_CACHE": str(Path(tmp) / "models")}
        cold = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "assistant.cli",
                    "chat",
                    "--data-dir",
                    str(Path(tmp) / "data"),
                    "--engine",
                    args.engine,
                ],
                input="hello\n",
                capture_output=True,
                text=True,
                env=env,
                check=True,
                cwd=REPO,
            )
            cold.append(time.perf_counter() - t0)
        results["cold_start_to_first_reply_s"] = round(min(cold), 2)
        t0 = time.perf_counter()
        rss = subprocess.run(
            [sys.executable, "-c", "import resource,sys; from assistant.config import load_config; from assistant.app import App; from pathlib import Path; a=App.build(load_config(), data_dir=Path(sys.argv[1]), engine=sys.argv[2]); a.conversation().handle('hello'); print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)", str(Path(tmp) / "data"), args.engine],
            capture_output=True, text=True, env=env, check=True, cwd=REPO,
        )  # fmt: skip
        results["rss_mb_after_start"] = round(int(rss.stdout.strip()) / 1024, 1)

        # 8 assistants of one user on one data directory at once (8 devices, or 8 processes)
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", CONCURRENT, str(Path(tmp) / "data"), args.engine, str(args.turns // 8)],
                stdout=subprocess.PIPE, text=True, env=env, cwd=REPO,
            )  # fmt: skip
            for _ in range(8)
        ]
        concurrent = [ms for p in procs for ms in json.loads(p.communicate()[0])]
        results["turn_ms_p50_8_processes"] = round(percentile(concurrent, 0.5), 1)
        results["turn_ms_p95_8_processes"] = round(percentile(concurrent, 0.95), 1)

        # embedded training time alone, on an empty cache
        from assistant.nlu.embedded import EmbeddedEngine

        app = App.build(config, data_dir=Path(tmp) / "data", engine=args.engine)
        data = app.training_data()
        app.close()
        t0 = time.perf_counter()
        EmbeddedEngine().train(data, Path(tmp) / "fresh-cache")
        results["embedded_training_s"] = round(time.perf_counter() - t0, 2)
        results["training_examples"] = len(data.examples)

    print_table(results)
    save("core", results)
    return 0


def print_table(results: dict) -> None:
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")


def save(name: str, results: dict) -> Path:
    """Write bench/results/NAME.json and say where."""
    out = REPO / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=float))
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    sys.exit(main())
