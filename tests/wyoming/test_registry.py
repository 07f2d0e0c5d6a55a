"""`assistant satellites add/list/remove`: the hub's satellites in the store, each with the member it speaks for."""

import json

import pytest

from assistant.cli import main


@pytest.fixture
def cli(tmp_path, capsys):
    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--data-dir", str(tmp_path / "data")])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_satellites_are_added_listed_owned_and_removed(cli):
    assert cli("users", "add", "sam")[0] == 0
    assert cli("satellites", "add", "kitchen", "tcp://192.168.1.20:10700", "--user", "sam")[0] == 0
    code, out, _ = cli("satellites", "add", "hall", "tcp://192.168.1.21:10700")
    assert code == 0 and "household" in out and "who's ordering" in out
    listed = json.loads(cli("satellites", "list", "--json")[1])["satellites"]
    assert listed == [
        {"name": "hall", "uri": "tcp://192.168.1.21:10700", "user": None},
        {"name": "kitchen", "uri": "tcp://192.168.1.20:10700", "user": "sam"},
    ]
    assert cli("satellites", "remove", "kitchen")[0] == 0
    assert [s["name"] for s in json.loads(cli("satellites", "list", "--json")[1])["satellites"]] == ["hall"]
    for args, message in (
        (("remove", "kitchen"), "no satellite named 'kitchen'"),
        (("add", "attic", "http://pi:10700"), "tcp://HOST:PORT"),
        (("add", "attic", "tcp://pi:10700", "--user", "nobody"), "no user named 'nobody'"),
    ):
        code, _, err = cli("satellites", *args)
        assert code == 2 and message in err, err


def test_a_hub_device_of_the_same_name_does_not_change_whom_a_satellite_speaks_for(cli):
    assert cli("users", "add", "sam")[0] == 0
    assert cli("satellites", "add", "porch", "tcp://192.168.1.22:10700", "--user", "sam")[0] == 0
    assert cli("devices", "pair", "porch", "--household")[0] == 0
    assert cli("devices", "revoke", "porch")[0] == 0
    (porch,) = json.loads(cli("satellites", "list", "--json")[1])["satellites"]
    assert porch["user"] == "sam"
