"""Engine `rasa`: real Rasa 3.6, trained on the project's data, served and stopped by the assistant."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.config import load_config
from assistant.errors import EngineNotAvailable
from assistant.nlu.data import load_file
from assistant.nlu.evaluate import evaluate
from assistant.nlu.rasa import RasaEngine, export_project, rasa_installed
from assistant.testing import Chat

REPO = Path(__file__).resolve().parents[2]
EPOCHS = 40  # the default; about 3 minutes of training on 2 cores, trained once per test run

pytestmark = [
    pytest.mark.rasa,
    pytest.mark.slow,
    pytest.mark.skipif(not rasa_installed(), reason="Rasa is not installed (scripts/install-rasa.sh)"),
]


def _config():
    config = load_config(REPO / "config.yml")
    config.nlu.rasa.epochs = EPOCHS
    return config


@pytest.fixture(scope="module")
def rasa_chat(tmp_path_factory):
    with Chat(tmp_path_factory.mktemp("rasa"), engine="rasa", config=_config()) as chat:
        yield chat


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_same_shopping_conversation_as_embedded(rasa_chat: Chat):
    reply = rasa_chat.say("do you have oat milk")
    assert rasa_chat.last.intent == "search_product" and "Oat" in reply
    rasa_chat.say("add the second one")
    assert len(rasa_chat.cart) == 1
    assert "Shall I place the order?" in rasa_chat.say("check out")
    assert "is placed" in rasa_chat.say("yes")
    assert "already placed" in rasa_chat.say("yes")
    assert len(rasa_chat.new_orders()) == 1


def test_held_out_accuracy_is_sane(rasa_chat: Chat):
    report = evaluate(rasa_chat.app.parse, load_file(REPO / "tests/data/nlu_test.yml"))
    assert report.intent_accuracy >= 0.85, report.confusions
    assert report.entity_f1 >= 0.7


def test_entities_roles_and_synonyms_come_back(rasa_chat: Chat):
    parse = rasa_chat.app.parse("duracell batteries under ten pounds")
    price = parse.entity("price")
    assert price is not None and price.role == "max"
    assert parse.entity("brand") is not None


def test_no_rasa_process_left_after_close(tmp_path):
    chat = Chat(tmp_path, engine="rasa", config=_config())
    pid = chat.app.engine.pid
    assert pid and _alive(pid)
    chat.close()
    assert not _alive(pid)


CHILD = """
import sys, time
from pathlib import Path
from assistant.config import load_config
from assistant.app import App
config = load_config()
config.nlu.rasa.epochs = int(sys.argv[2])
d = App.build(config, data_dir=Path(sys.argv[1]), engine="rasa")
print(d.engine.pid, flush=True)
time.sleep(600)
"""


def test_no_orphan_when_the_assistant_is_killed(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), str(EPOCHS)], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    pid = int(proc.stdout.readline())
    assert _alive(pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 20
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _alive(pid), "the Rasa server outlived the assistant"


def test_missing_install_is_one_clear_line(tmp_path):
    with pytest.raises(EngineNotAvailable) as err:
        RasaEngine(venv=tmp_path / "nowhere")
    assert "install-rasa.sh" in str(err.value) and "\n" not in str(err.value)


def test_export_is_a_rasa_project(tmp_path, rasa_chat: Chat):
    out = export_project(rasa_chat.app.training_data(), tmp_path / "project")
    proc = subprocess.run(
        [str(REPO / ".venv-rasa/bin/rasa"), "data", "validate", "--data", "data", "--domain", "domain.yml"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
