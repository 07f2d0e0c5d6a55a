"""NLU engines side by side: the shop's held-out file, or cross-validation on any Rasa-format data set.

    .venv/bin/python bench/nlu.py [--engines embedded,rasa] [--epochs N] [--variants]
    .venv/bin/python bench/nlu.py --data bench/data/banking.yml [--cross-validation 5] [--engines ...]

Without --data: every engine trains on the project's data (core + built-in skills + the demo
catalogue's brands and products, as the assistant does) and is scored on tests/data/nlu_test.yml,
which nothing is trained on. With --data: stratified K-fold cross-validation on that file, the
same folds for every engine (fixed seed). `--variants` also trains Rasa pipeline variants.

Prints a table and merges its rows into bench/results/nlu.json (one entry per data set).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.core import machine, percentile, save  # noqa: E402

RESULTS = REPO / "bench" / "results" / "nlu.json"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and its children (the Rasa watchdog and server)."""
    total = rss_mb(pid)
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for cpid in child.read_text().split():
            total += tree_rss_mb(int(cpid))
    return total


def crf_entities(pipeline: list[dict]) -> list[dict]:
    """DIET for intents only; Rasa's CRFEntityExtractor (features of the word and its neighbours) for entities."""
    out = []
    for component in pipeline:
        if component["name"] == "DIETClassifier":
            out.append({**component, "entity_recognition": False})
            out.append({"name": "CRFEntityExtractor"})
        else:
            out.append(component)
    return out


def shop_training_data(config, tmp: Path):
    """What the assistant trains on: core + skills' data, and the catalogue's brands and products as lookups."""
    from assistant.nlu import load_training_data
    from assistant.skills.registry import discover
    from assistant.store import Catalog, Database, ensure_demo

    skills, _ = discover()
    data = load_training_data([s.nlu_file for s in skills if s.nlu_file], config.nlu)
    db = Database(tmp / "store")
    ensure_demo(db, config.user)
    catalog = Catalog(db)
    data.lookups.setdefault("brand", []).extend(b.lower() for b in catalog.brands())
    data.lookups.setdefault("product", []).extend(catalog.product_names())
    db.close()
    return data


def run_engine(make: Callable, splits: list, threshold: float, cache: Path) -> dict:
    """Train on each split's training part, parse its test part; one row of the table.

    The assistant's confidence threshold (unsure -> out_of_scope) applies only to data that has
    an out_of_scope intent to fall back to; foreign data sets are scored on the top intent.
    """
    from assistant.nlu.evaluate import predict, report
    from assistant.nlu.parse import IntentScore, Parse

    predictions, train_s, start_s, rss = [], [], [], []
    for i, (train, test) in enumerate(splits, start=1):
        engine = make()
        t0 = time.perf_counter()
        engine.train(train, cache / f"split-{i}")
        started = getattr(engine, "startup_seconds", 0.0)
        train_s.append(time.perf_counter() - t0 - started)
        start_s.append(started)

        floor = threshold if "out_of_scope" in train.intents else 0.0

        def parse(text: str, engine=engine, floor=floor) -> Parse:
            p = engine.parse(text)
            if p.intent.confidence < floor and p.intent.name != "out_of_scope":
                p = Parse(p.text, IntentScore("out_of_scope", p.intent.confidence), p.ranking, p.entities)
            return p

        predictions += predict(parse, test.examples)
        rss.append(tree_rss_mb(engine.pid) if getattr(engine, "pid", None) else rss_mb(os.getpid()))
        engine.close()
    found = report(predictions)
    latencies = [p.latency_ms for p in predictions]
    return {
        "intent_accuracy": round(found.intent_accuracy, 3),
        "intent_macro_f1": round(found.intent_macro_f1, 3),
        "entity_f1": round(found.entity_f1, 3),
        "train_s": round(sum(train_s) / len(train_s), 1),
        "server_start_s": round(sum(start_s) / len(start_s), 1),
        "parse_ms_p50": round(percentile(latencies, 0.5), 2),
        "parse_ms_p95": round(percentile(latencies, 0.95), 2),
        "rss_mb": round(max(rss), 0),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", help="a Rasa-format data set to cross-validate (default: the shop's held-out test)")
    parser.add_argument("--cross-validation", type=int, default=5, metavar="K", help="folds with --data (default 5)")
    parser.add_argument("--engines", default="embedded,rasa", help="comma-separated (default: embedded,rasa)")
    parser.add_argument("--epochs", type=int, help="Rasa epochs (default: config.yml's nlu.rasa.epochs)")
    parser.add_argument("--variants", action="store_true", help="also Rasa pipeline variants")
    args = parser.parse_args()
    from assistant.config import load_config
    from assistant.nlu import create_engine
    from assistant.nlu.crossval import folds
    from assistant.nlu.data import load_file
    from assistant.nlu.rasa import RasaEngine, default_pipeline

    config = load_config(REPO / "config.yml")
    args.epochs = args.epochs or config.nlu.rasa.epochs
    config.nlu.rasa.epochs = args.epochs
    engines: dict[str, Callable] = {
        "embedded": lambda: create_engine("embedded"),
        # a loaded 2-core machine can take minutes to start a server; the assistant's 180 s is for a quiet one
        "rasa": lambda: RasaEngine(config.nlu.rasa.pipeline, args.epochs, config.nlu.rasa.venv, startup_timeout=900),
    }
    if args.variants:
        full = default_pipeline(args.epochs)
        more = 100 if args.epochs < 100 else 2 * args.epochs
        engines[f"rasa-{more}-epochs"] = lambda: RasaEngine(default_pipeline(more), more)
        engines["rasa-no-char-ngrams"] = lambda: RasaEngine(
            [c for c in full if c.get("analyzer") != "char_wb"], args.epochs
        )
        engines["rasa-no-lexical"] = lambda: RasaEngine(
            [c for c in full if c["name"] != "LexicalSyntacticFeaturizer"], args.epochs
        )
        engines["rasa-crf-entities"] = lambda: RasaEngine(crf_entities(full), args.epochs)
    wanted = args.engines.split(",") + [n for n in engines if n.startswith("rasa-")]
    engines = {name: make for name, make in engines.items() if name in wanted}

    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ASSISTANT_MODEL_CACHE"] = str(Path(tmp) / "models")
        if args.data:
            data = load_file(Path(args.data))
            splits = folds(data, args.cross_validation)
            name = f"{Path(args.data).stem} ({args.cross_validation}-fold cross-validation)"
            size = len(data.examples)
        else:
            splits = [(shop_training_data(config, Path(tmp)), load_file(REPO / "tests/data/nlu_test.yml"))]
            name = "shop held-out (tests/data/nlu_test.yml)"
            size = len(splits[0][1].examples)
        for engine, make in engines.items():
            print(f"{name}: {engine}...", file=sys.stderr, flush=True)
            rows[engine] = run_engine(make, splits, config.nlu.threshold, Path(tmp) / engine)
    keys = list(next(iter(rows.values())))
    width = max(len(n) for n in rows) + 2
    print(f"{name}, {size} examples")
    print(f"{'':18}" + "".join(f"{n:>{width}}" for n in rows))
    for key in keys:
        print(f"{key:18}" + "".join(f"{rows[n][key]:>{width}}" for n in rows))
    print(f"machine: {machine()}")
    # merged into what is saved only now: runs on other data sets may have finished meanwhile
    datasets = json.loads(RESULTS.read_text()).get("datasets", {}) if RESULTS.exists() else {}
    merged = datasets.setdefault(name, {"examples": size, "engines": {}})
    merged["examples"] = size
    merged["engines"].update(rows)
    save("nlu", {"machine": machine(), "epochs": args.epochs, "datasets": datasets})
    return 0


if __name__ == "__main__":
    sys.exit(main())
