"""What syncing a shopping list over CalDAV costs: a client reading a full list, and ticking one item.

    .venv/bin/python bench/dav.py [--items 200]

The hub runs in this process (tests/hub/served.py), so the CPU figures (user+sys, `os.times`) are the
server's and the `caldav` client's together, as one machine running both would spend.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import caldav  # noqa: E402

from assistant.store.lists import ShoppingLists  # noqa: E402
from tests.hub.served import Served  # noqa: E402


def timed(fn) -> tuple[float, float]:
    cpu, wall = sum(os.times()[:2]), time.perf_counter()
    fn()
    return sum(os.times()[:2]) - cpu, time.perf_counter() - wall


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        served = Served(Path(tmp) / "data", speech=False)
        try:
            lists = ShoppingLists(served.app.db)
            for i in range(args.items):
                lists.add(None, f"thing number {i}")
            token = served.pairing.pair("bench", served.app.config.user)
            client = caldav.DAVClient(url=f"{served.base}/dav/", username="bench", password=token)
            calendars = {c.get_display_name(): c for c in client.principal().calendars()}
            household = calendars["Household shopping list"]
            reads = [timed(household.todos) for _ in range(10)]
            todos = household.todos()
            assert len(todos) == args.items
            ticks = [timed(todo.complete) for todo in todos[:20]]
        finally:
            served.close()
    results = {
        "items": args.items,
        "read_all_cpu_s_median": round(statistics.median(c for c, _ in reads), 3),
        "read_all_wall_s_median": round(statistics.median(w for _, w in reads), 3),
        "tick_one_cpu_ms_median": round(statistics.median(c for c, _ in ticks) * 1000, 1),
        "tick_one_wall_ms_median": round(statistics.median(w for _, w in ticks) * 1000, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
