"""Fuzzing the text turn: random lines through one conversation; every exception that escapes is a crash.

    .venv/bin/python bench/fuzz.py [--lines 10000] [--seed 1]

Lines mix shop words, absurd numbers (hundreds of digits), control and format characters (line
and paragraph separators, zero-width joiners), random Unicode and plain noise. Prints a table and
writes bench/results/fuzz.json with the crash count and the first crashing lines.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

WORDS = [
    "yes",
    "no",
    "add",
    "buy",
    "the",
    "second",
    "one",
    "check",
    "out",
    "order",
    "usual",
    "again",
    "milk",
    "remove",
    "cancel",
    "why",
    "pounds",
    "ten",
    "thousand",
    "last",
    "place",
    "basket",
    "delete",
    "my",
    "data",
    "surprise",
    "me",
    "oat",
    "coffee",
    "under",
    "quid",
    "what's",
    "in",
    "trolley",
    "two",
    "of",
    "those",
    "hey",
    "shopper",
    "please",
    "nah",
    "yeah",
    "stop",
    "repeat",
    "help",
    "recommend",
]
ODD = ["\u2028", "\u2029", "\u200b", "\u200d", "\x00", "\x1b[31m", "\ufeff", "\r", "\t", "𝟘", "٣", "Ⅻ", "½"]


def line(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 10)))
    if kind == 1:  # absurd numbers where quantities and prices go
        n = "9" * rng.randint(20, 700)
        return rng.choice([f"add {n} bananas", f"coffee under {n} pounds", f"the {n}th one", f"{n}.{n} quid"])
    if kind == 2:
        return "".join(rng.choice(WORDS + ODD) + rng.choice(["", " "]) for _ in range(rng.randint(1, 12)))
    if kind == 3:
        return "".join(chr(rng.randint(1, 0x2FFFF)) for _ in range(rng.randint(0, 60)))
    if kind == 4:
        return rng.choice(WORDS) * rng.randint(50, 2000)
    return "".join(rng.choice("()[]{}|*+?.^$\\#@!%&<>\"'") for _ in range(rng.randint(1, 40)))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    from assistant.app import App
    from assistant.config import load_config
    from bench.core import machine, print_table, save

    rng = random.Random(args.seed)
    crashes: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("ASSISTANT_MODEL_CACHE", str(Path(tmp) / "models"))
        app = App.build(load_config(REPO / "config.yml"), data_dir=Path(tmp) / "data")
        conversation = app.conversation()
        before = {o.id for o in app.account().history()}
        t0 = time.perf_counter()
        for i in range(args.lines):
            text = line(rng)
            try:
                turn = conversation.handle(text)
                if not isinstance(turn.reply, str) or not turn.reply:
                    raise AssertionError("an empty reply")
            except Exception as exc:  # noqa: BLE001 - counting them is the point
                crashes.append({"line": text[:200], "error": f"{type(exc).__name__}: {exc}"[:300]})
                if len(crashes) == 1:
                    traceback.print_exc()
            if i % 500 == 499:
                app.account().orders.clear_cart()
        elapsed = time.perf_counter() - t0
        ordered = len({o.id for o in app.account().history()} - before)
        app.close()
    results = {
        "machine": machine(),
        "lines": args.lines,
        "crashes": len(crashes),
        "crashes_per_10k": round(len(crashes) * 10000 / args.lines, 1),
        "orders_placed": ordered,
        "turns_per_s": round(args.lines / elapsed, 1),
        "first_crashes": crashes[:10],
    }
    print_table({k: v for k, v in results.items() if k != "first_crashes"})
    save("fuzz", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
