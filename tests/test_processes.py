"""Several assistants (two devices, eight) of one user on one data directory, all at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ROUNDS = 3


def _chat(data_dir: Path, lines: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "chat", "--json", "--data-dir", str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=dict(os.environ),
    )


@pytest.mark.slow
@pytest.mark.parametrize("processes", [2, 8])
def test_units_ordered_and_left_add_up_to_units_added(tmp_path, processes):
    data = tmp_path / "data"
    started = datetime.now() - timedelta(seconds=1)
    script = ["add bananas to my basket", "check out", "yes"] * ROUNDS
    procs = [_chat(data, script) for _ in range(processes)]
    outputs = [p.communicate("\n".join(script) + "\n", timeout=600) for p in procs]
    added = 0
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "Traceback" not in err, err
        turns = [json.loads(line) for line in out.splitlines()]
        assert len(turns) == len(script)
        added += sum(t["reply"].startswith("Added") for t in turns)
    orders = json.loads(
        subprocess.run(
            [sys.executable, "-m", "assistant.cli", "orders", "--json", "--data-dir", str(data)],
            capture_output=True, text=True, cwd=REPO, check=True,
        ).stdout
    )  # fmt: skip
    new = [o for o in orders if datetime.fromisoformat(o["placed_at"]) >= started]
    demo = [o for o in orders if o not in new]
    ordered = sum(line["quantity"] for o in new for line in o["lines"])
    from assistant.store import Database, Orders

    db = Database(data)
    left = sum(line.quantity for line in Orders(db, "default").cart())
    db.close()
    assert added >= processes  # every process got some in
    assert ordered + left == added, (ordered, left, added)
    assert len(demo) == 14  # the demo history, seeded once however many started at once
