"""Both NLU engines on the same held-out file in one run: accuracy, F1, training time, latency, RSS.

    .venv/bin/python bench/nlu.py [--epochs N] [--variants] [--only NAME,...]

`--variants` also trains Rasa pipeline variants (more epochs, no character n-grams, no lexical
features, CRF entities), to show what in the pipeline earns its keep.

Prints a table and writes bench/results/nlu.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.core import machine, percentile, save  # noqa: E402


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, help="Rasa epochs (default: config.yml's nlu.rasa.epochs)")
    parser.add_argument("--variants", action="store_true", help="also Rasa pipeline variants")
    parser.add_argument("--only", help="comma-separated engine names; their rows replace those in the saved results")
    args = parser.parse_args()
    from assistant.app import App
    from assistant.config import load_config
    from assistant.nlu import create_engine
    from assistant.nlu.data import load_file
    from assistant.nlu.evaluate import evaluate
    from assistant.nlu.rasa import RasaEngine, default_pipeline

    test = load_file(REPO / "tests/data/nlu_test.yml")
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ASSISTANT_MODEL_CACHE"] = str(Path(tmp) / "models")
        config = load_config(REPO / "config.yml")
        args.epochs = args.epochs or config.nlu.rasa.epochs
        config.nlu.rasa.epochs = args.epochs
        base = App.build(config, data_dir=Path(tmp) / "data", engine="embedded")
        data = base.training_data()
        base.close()
        engines = {"embedded": lambda: create_engine("embedded"), "rasa": lambda: create_engine("rasa", config.nlu)}
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
        if args.only:
            wanted = args.only.split(",")
            engines = {name: make for name, make in engines.items() if name in wanted}
            saved = REPO / "bench/results/nlu.json"
            if saved.exists():
                rows.update(json.loads(saved.read_text())["engines"])
        for name, make in engines.items():
            engine = make()
            print(f"training {name}...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            engine.train(data, Path(tmp) / f"cache-{name}")
            train_s = time.perf_counter() - t0
            start_s = getattr(engine, "startup_seconds", 0.0)

            def parse(text: str, engine=engine):
                p = engine.parse(text)
                if p.intent.confidence < config.nlu.threshold and p.intent.name != "out_of_scope":
                    from assistant.nlu.parse import IntentScore, Parse

                    p = Parse(p.text, IntentScore("out_of_scope", p.intent.confidence), p.ranking, p.entities)
                return p

            report = evaluate(parse, test)
            latencies = []
            for example in test.examples[:200]:
                t1 = time.perf_counter()
                engine.parse(example.text)
                latencies.append((time.perf_counter() - t1) * 1000)
            rss = tree_rss_mb(engine.pid) if getattr(engine, "pid", None) else rss_mb(os.getpid())
            rows[name] = {
                "intent_accuracy": round(report.intent_accuracy, 3),
                "intent_macro_f1": round(report.intent_macro_f1, 3),
                "entity_f1": round(report.entity_f1, 3),
                "train_s": round(train_s - start_s, 1),
                "server_start_s": round(start_s, 1),
                "parse_ms_p50": round(percentile(latencies, 0.5), 2),
                "parse_ms_p95": round(percentile(latencies, 0.95), 2),
                "rss_mb": round(rss, 0),
            }
            engine.close()
    keys = list(next(iter(rows.values())))
    width = max(len(name) for name in rows) + 2
    print(f"{'':18}" + "".join(f"{name:>{width}}" for name in rows))
    for key in keys:
        print(f"{key:18}" + "".join(f"{rows[name][key]:>{width}}" for name in rows))
    print(f"machine: {machine()}")
    save("nlu", {"machine": machine(), "examples": len(test.examples), "epochs": args.epochs, "engines": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
