import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from assistant.store import Catalog, Database, Orders
from assistant.store.demo import HISTORY_FILE

REPO = Path(__file__).resolve().parents[2]
DEMO_ORDERS = len(json.loads(HISTORY_FILE.read_text(encoding="utf-8"))["user_orders"])

START = textwrap.dedent(
    """
    import sys, time
    from assistant.store import Database, ensure_demo
    while time.time() < float(sys.argv[2]):  # all start together
        time.sleep(0.001)
    print(ensure_demo(Database(sys.argv[1]), "me"))
    """
)


def test_eight_processes_starting_at_once_seed_the_demo_exactly_once(tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    go = str(time.time() + 3)  # after every interpreter has imported
    children = [
        subprocess.Popen([sys.executable, "-c", START, str(data), go], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    loaded = []
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        loaded.append(out.strip())
    assert sorted(loaded) == ["False"] * 7 + ["True"]
    db = Database(data)
    assert len(Orders(db, "me").history()) == DEMO_ORDERS
    assert Catalog(db).count() == 631
    assert db.query("SELECT count(*) FROM users WHERE name LIKE 'shopper-%'")[0][0] == 300


def test_orders_json_on_a_fresh_data_dir_shows_the_demo_history(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "ASSISTANT_DATA_DIR": str(tmp_path / "fresh")}
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "orders", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    orders = json.loads(out.stdout)
    assert len(orders) == DEMO_ORDERS and all(o["lines"] for o in orders)
