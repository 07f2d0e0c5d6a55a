import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from assistant.config import ShopSettings
from assistant.errors import StoreBusy, StoreCorrupt, StoreFull, StoreReadOnly
from assistant.purchase import PurchaseGate
from assistant.store import Catalog, Database, Orders, ensure_demo

pytestmark = pytest.mark.sqlite_only  # the SQLite file itself: locks, damage, permissions, a full disk (PostgreSQL: test_postgres.py)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    db = Database(tmp_path / "data")
    ensure_demo(db, "me")
    db.close()
    return tmp_path / "data"


def hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another program's open write transaction on the same file."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_held_lock_gives_one_busy_sentence_and_orders_nothing(seeded):
    db = Database(seeded)
    db.conn.execute("PRAGMA busy_timeout = 200")  # the real 10 s would slow the suite
    gate = PurchaseGate(db, ShopSettings())
    orders = Orders(db, "me")
    orders.add(Catalog(db).by_sku("GRO-0001").id, 2)
    quote = gate.quote(orders.user_id, "kitchen", None)
    other = hold_write_lock(db.path)
    try:
        with pytest.raises(StoreBusy) as err:
            gate.place(quote.token, orders.user_id, "kitchen")
        with pytest.raises(StoreBusy):
            orders.add(Catalog(db).by_sku("GRO-0002").id)
    finally:
        other.execute("ROLLBACK")
    assert str(db.path) in str(err.value) and "\n" not in str(err.value)
    assert err.value.spoken == StoreBusy.SPOKEN and "try again" in err.value.spoken
    assert [(ln.product.sku, ln.quantity) for ln in orders.cart()] == [("GRO-0001", 2)]
    assert gate.place(quote.token, orders.user_id, "kitchen").placed  # the same yes works once it is free


def test_a_lock_released_within_the_busy_timeout_is_waited_for(seeded):
    db = Database(seeded)
    db.conn.execute("PRAGMA busy_timeout = 5000")
    other = hold_write_lock(db.path)
    threading.Timer(0.3, lambda: other.execute("ROLLBACK")).start()
    orders = Orders(db, "me")
    assert orders.add(Catalog(db).by_sku("GRO-0001").id) == 1


def corrupt(path: Path, offset: int) -> None:
    with path.open("r+b") as fh:
        fh.seek(offset)
        fh.write(bytes(range(256)) * 128)  # 32 KiB of junk over the pages


@pytest.mark.parametrize("offset", [0, 4096])
def test_corrupt_database_names_the_file_and_says_move_it_away(seeded, offset):
    path = seeded / Database.FILENAME
    corrupt(path, offset)
    with pytest.raises(StoreCorrupt) as err:
        Database(seeded)
    message = str(err.value)
    assert message.startswith(f"{path}: the database is damaged") and "move it away" in message
    assert "\n" not in message and "damaged" in err.value.spoken


def test_corrupt_pages_met_later_are_classified_too(seeded):
    db = Database(seeded)
    pages = db.query("SELECT rootpage FROM sqlite_master WHERE name = 'order_lines'")[0][0]
    db.close()
    corrupt(seeded / Database.FILENAME, (pages - 1) * 4096)
    db = Database(seeded)
    with pytest.raises(StoreCorrupt):
        Orders(db, "me").history()


def unshare_mount_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True, check=False
    )
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(
    not unshare_mount_works(),
    reason="needs root and mount namespaces (unshare -m) to mount a tmpfs or a read-only bind",
)


def run_in_mount_namespace(mounts: str, script: str, *args: str) -> dict:
    """Run a Python script as a child in its own mount namespace, so nothing stays mounted."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    quoted = " ".join(f"'{a}'" for a in args)
    out = subprocess.run(
        ["unshare", "-m", "sh", "-ec", f"{mounts}\n'{sys.executable}' -c '{script}' {quoted}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


READ_ONLY = textwrap.dedent(
    """
    import json, sys
    from assistant.errors import StoreError
    from assistant.store import Database, Orders
    try:
        db = Database(sys.argv[1])
        Orders(db, "me").add(1)
        result = {"error": None}
    except StoreError as exc:
        result = {"error": type(exc).__name__, "message": str(exc), "spoken": exc.spoken}
    print(json.dumps(result))
    """
).replace("'", '"')


@needs_mounts
@pytest.mark.parametrize("what", ["file", "folder"])
def test_read_only_database_says_check_permissions_not_move_it_away(seeded, what):
    target = seeded / Database.FILENAME if what == "file" else seeded
    mounts = f"mount --bind '{target}' '{target}'\nmount -o remount,ro,bind '{target}'"
    result = run_in_mount_namespace(mounts, READ_ONLY, str(seeded))
    assert result["error"] == StoreReadOnly.__name__
    assert result["message"].startswith(str(target)) and "read-only" in result["message"]
    assert "check its permissions" in result["message"] and "move it away" not in result["message"]
    assert "read-only" in result["spoken"]


DISK_FULL = textwrap.dedent(
    """
    import json, os, sys
    from assistant.config import ShopSettings
    from assistant.errors import StoreError
    from assistant.purchase import PurchaseGate
    from assistant.store import Catalog, Database, Orders, ensure_demo

    mount, room = sys.argv[1], int(sys.argv[2])
    data, filler = os.path.join(mount, "data"), os.path.join(mount, "filler")

    def fill(leave=0):
        # fill the disk but for about `leave` bytes
        with open(filler, "wb", buffering=0) as fh:
            try:
                while True:
                    stat = os.statvfs(mount)
                    if stat.f_bavail * stat.f_frsize <= leave:
                        break
                    fh.write(bytes(16384))
            except OSError:
                pass

    def attempt(step):
        try:
            step()
            return None
        except StoreError as exc:
            return {"error": type(exc).__name__, "message": str(exc), "spoken": exc.spoken}

    result = {}
    fill(room)  # room for the empty database (and maybe the catalogue), not for the whole demo shop
    result["first_start"] = attempt(lambda: ensure_demo(Database(data), "me"))
    result["files_after_first_start"] = sorted(os.listdir(data))
    os.remove(filler)
    db = Database(data)
    result["seeded_after_space_freed"] = ensure_demo(db, "me")
    orders = Orders(db, "me")
    milk = Catalog(db).by_sku("GRO-0001").id
    orders.add(milk, 3)
    gate = PurchaseGate(db, ShopSettings())
    quote = gate.quote(orders.user_id, "kitchen", None)
    # an emptied log must grow to take the order (a used one has room in it, and the yes would just work)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    fill()  # full at the moment of "yes"
    result["at_yes"] = attempt(lambda: gate.place(quote.token, orders.user_id, "kitchen"))
    result["add_when_full"] = attempt(lambda: orders.add(milk, 50))
    os.remove(filler)
    db.close()
    db = Database(data)
    orders = Orders(db, "me")
    result["history"] = len(orders.history())
    result["ordered"] = sum(o.items for o in orders.history() if o.status == "placed")
    result["left"] = sum(line.quantity for line in orders.cart())
    result["placed_later"] = PurchaseGate(db, ShopSettings()).place(quote.token, orders.user_id, "kitchen").placed
    print(json.dumps(result))
    """
).replace("'", '"')


@needs_mounts
@pytest.mark.parametrize("room", [300_000, 600_000])
def test_disk_full_is_one_sentence_and_leaves_nothing_that_breaks_the_next_start(tmp_path, room):
    """600 kB left once let the catalogue in but not the demo history, which then never loaded."""
    mount = tmp_path / "small"
    mount.mkdir()
    result = run_in_mount_namespace(f"mount -t tmpfs -o size=4m tmpfs '{mount}'", DISK_FULL, str(mount), str(room))
    for step in ("first_start", "at_yes", "add_when_full"):
        assert result[step]["error"] == StoreFull.__name__, step
        assert "disk is full" in result[step]["message"] and "full" in result[step]["spoken"]
    assert result["seeded_after_space_freed"] is True
    assert result["history"] >= 1 and result["ordered"] == 0 and result["left"] == 3
    assert result["placed_later"] is True


def test_cli_on_a_corrupt_database_prints_one_line_and_exits_non_zero(seeded):
    corrupt(seeded / Database.FILENAME, 4096)
    env = {**os.environ, "PYTHONPATH": str(REPO), "ASSISTANT_DATA_DIR": str(seeded)}
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "orders", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode != 0 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        f"error: {seeded / Database.FILENAME}: the database is damaged (database disk image is malformed); "
        "move it away to start afresh"
    ]
