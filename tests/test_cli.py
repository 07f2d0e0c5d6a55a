"""The command-line contracts other front ends use."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run(*args: str, stdin: str = "", data_dir: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "assistant.cli", *args]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)


@pytest.mark.slow
def test_chat_json_one_object_per_turn_and_orders(tmp_path):
    proc = run(
        "chat",
        "--json",
        stdin="do you have oat milk\nadd the first one\ncheck out\nyes\nyes\n",
        data_dir=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    turns = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(turns) == 5
    for turn in turns:
        assert set(turn) == {"text", "intent", "confidence", "entities", "skill", "reply"}
    assert turns[0]["intent"] == "search_product" and turns[0]["skill"] == "search"
    assert any(e["entity"] == "product" for e in turns[0]["entities"])
    assert "already placed" in turns[4]["reply"]
    orders = json.loads(run("orders", "--json", data_dir=tmp_path).stdout)
    placed = [o for o in orders if o["status"] == "placed"]
    assert len(placed) == 1 and placed[0]["lines"]


@pytest.mark.slow
def test_nlu_parse_json_is_rasa_shaped(tmp_path):
    proc = run(
        "nlu",
        "parse",
        "--json",
        stdin="add two bags of lavazza coffee beans to my basket\nwhat's the weather\n",
        data_dir=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    first, second = (json.loads(line) for line in proc.stdout.splitlines())
    assert set(first) == {"text", "intent", "intent_ranking", "entities"}
    assert first["intent"]["name"] == "add_to_cart" and 0 < first["intent"]["confidence"] <= 1
    assert first["intent_ranking"][0]["name"] == "add_to_cart"
    entity = next(e for e in first["entities"] if e["entity"] == "quantity")
    assert {"entity", "value", "start", "end", "confidence"} <= set(entity) and entity["value"] == "2"
    assert first["text"][entity["start"] : entity["end"]] == "two"
    assert second["intent"]["name"] == "out_of_scope"


@pytest.mark.slow
def test_nlu_evaluate_on_held_out_file(tmp_path):
    proc = run(
        "nlu",
        "evaluate",
        "--data",
        str(REPO / "tests/data/nlu_test.yml"),
        "--json",
        data_dir=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["intent_accuracy"] >= 0.85, report["confusions"]
    assert report["entity_f1"] >= 0.7
    assert {"intent_macro_f1", "confusions"} <= set(report)


def test_bad_config_is_one_clear_line(tmp_path):
    bad = tmp_path / "config.yml"
    bad.write_text("nlu:\n  engine: embedded\ncolour: blue\n")
    proc = run("chat", "--config", str(bad), data_dir=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {bad}:3: unknown key 'colour'"


def test_unusable_data_dir_names_the_path(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    proc = run("orders", data_dir=not_a_dir)
    assert proc.returncode == 2 and str(not_a_dir) in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_catalog_import_reports_bad_rows(tmp_path):
    csv = tmp_path / "shop.csv"
    csv.write_text(
        "sku,name,brand,category,size,price\nZ1,Gold Tea,Fancy,groceries,100 g,9.99\nZ2,Broken,,groceries,,abc\n"
    )
    proc = run("catalog", "import", str(csv), data_dir=tmp_path / "data")
    assert proc.returncode == 0
    assert "Imported 1 products" in proc.stdout and f"{csv}:3" in proc.stderr


@pytest.mark.slow
def test_household_members_have_their_own_basket_and_purchase_code(tmp_path):
    assert run("users", "add", "tom", data_dir=tmp_path).returncode == 0
    assert "already exists" in run("users", "add", "tom", data_dir=tmp_path).stderr
    assert run("users", "set-code", "tom", "12", data_dir=tmp_path).returncode != 0  # too short to be a code
    assert run("users", "set-code", "tom", "2580", data_dir=tmp_path).returncode == 0
    users = json.loads(run("users", "list", "--json", data_dir=tmp_path).stdout)["users"]
    assert {"name": "tom", "purchase_code": True} in users
    proc = run("chat", "--json", "--user", "tom", stdin="add bananas to my basket\ncheck out\nyes\n2 5 8 0\n",
               data_dir=tmp_path)  # fmt: skip
    replies = [json.loads(line)["reply"] for line in proc.stdout.splitlines()]
    assert "purchase code" in replies[2] and "is placed" in replies[3], replies
    # the configured user's basket and new orders are untouched
    proc = run("chat", "--json", stdin="what's in my basket\n", data_dir=tmp_path)
    assert "empty" in json.loads(proc.stdout.splitlines()[0])["reply"].lower()
