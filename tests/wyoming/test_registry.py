"""`assistant satellites add/list/remove`: the hub's satellites, each a household device in the store."""

import json
import subprocess
import sys

from tests.wyoming.conftest import REPO


def cli(data, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "assistant.cli", *args, "--data-dir", str(data)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)


def test_satellites_are_added_listed_owned_and_removed(tmp_path):
    data = tmp_path / "data"
    assert cli(data, "users", "add", "sam").returncode == 0
    assert cli(data, "satellites", "add", "kitchen", "tcp://192.168.1.20:10700", "--user", "sam").returncode == 0
    added = cli(data, "satellites", "add", "hall", "tcp://192.168.1.21:10700")
    assert "household" in added.stdout and "who's ordering" in added.stdout
    listed = json.loads(cli(data, "satellites", "list", "--json").stdout)["satellites"]
    assert listed == [
        {"name": "hall", "uri": "tcp://192.168.1.21:10700", "user": None},
        {"name": "kitchen", "uri": "tcp://192.168.1.20:10700", "user": "sam"},
    ]
    assert cli(data, "satellites", "remove", "kitchen").returncode == 0
    assert [s["name"] for s in json.loads(cli(data, "satellites", "list", "--json").stdout)["satellites"]] == ["hall"]
    for args, message in (
        (("remove", "kitchen"), "no satellite named 'kitchen'"),
        (("add", "attic", "http://pi:10700"), "tcp://HOST:PORT"),
        (("add", "attic", "tcp://pi:10700", "--user", "nobody"), "no user named 'nobody'"),
    ):
        failed = cli(data, "satellites", *args)
        assert failed.returncode == 2 and message in failed.stderr, failed.stderr
