"""`assistant` commands run as a user would, in their own processes, on a test's data directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def cli(data: Path, *args: str, said: list[str] | None = None) -> str:
    """An `assistant` command on ``data`` (``said``: `chat`'s lines); its output. It must succeed."""
    cmd = [sys.executable, "-m", "assistant.cli", *args, "--data-dir", str(data)]
    stdin = "".join(f"{line}\n" for line in said) if said is not None else None
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def config_for(folder: Path, user: str) -> Path:
    """config.yml with another default user (so `assistant orders` lists that member's orders)."""
    text = (REPO / "config.yml").read_text().replace("user: default", f"user: {user}", 1)
    path = folder / f"config-{user}.yml"
    path.write_text(text)
    return path


def placed_orders(data: Path, user: str | None = None) -> list[dict]:
    """The orders ``user`` (config.yml's by default) has placed, as `assistant orders --json` lists them."""
    extra = ["--config", str(config_for(data.parent, user))] if user else []
    return [o for o in json.loads(cli(data, "orders", "--json", *extra)) if o["status"] == "placed"]
