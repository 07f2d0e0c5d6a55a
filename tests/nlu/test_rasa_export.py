"""The Rasa project `export_project` writes: same data back, roles/groups in the domain, a ResponseSelector when needed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from assistant.nlu.data import load_file, load_files
from assistant.nlu.rasa import default_pipeline, default_venv, export_project, rasa_installed

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]


def _shape(data):
    return sorted(
        (e.full_intent, e.text, tuple((s.entity, s.value, s.start, s.end, s.role, s.group) for s in e.entities))
        for e in data.examples
    )


@pytest.fixture
def exported(tmp_path: Path):
    data = load_files([DATA / "block_form.yml", DATA / "list_form.yml", DATA / "people.yml"])
    return data, export_project(data, tmp_path / "project")


def test_export_reads_back_as_the_same_data(exported):
    data, out = exported
    again = load_file(out / "data" / "nlu.yml")
    assert _shape(again) == _shape(data)
    assert again.synonyms == data.synonyms and again.synonyms["nyc"] == " New York"
    assert again.lookups["account"] == ["checking", "isa", "savings"]
    assert again.retrieval_intents == ["chitchat"]


def test_retrieval_intents_get_a_response_selector_after_the_classifier(exported):
    _, out = exported
    names = [c["name"] for c in yaml.safe_load((out / "config.yml").read_text())["pipeline"]]
    assert names.index("DIETClassifier") < names.index("ResponseSelector") < names.index("FallbackClassifier")
    domain = yaml.safe_load((out / "domain.yml").read_text())
    assert "chitchat" in domain["intents"] and "chitchat/ask_name" not in domain["intents"]
    assert {"account": {"groups": ["1"], "roles": ["from", "to"]}} in domain["entities"]


def test_no_response_selector_without_retrieval_intents(tmp_path: Path):
    out = export_project(load_file(DATA / "people.yml"), tmp_path / "project")
    pipeline = yaml.safe_load((out / "config.yml").read_text())["pipeline"]
    assert pipeline == default_pipeline()


@pytest.mark.rasa
@pytest.mark.slow
@pytest.mark.skipif(not rasa_installed(), reason="Rasa is not installed (scripts/install-rasa.sh)")
def test_rasa_itself_validates_the_export(exported):
    _, out = exported
    proc = subprocess.run(
        [str(default_venv() / "bin" / "rasa"), "data", "validate", "--data", "data", "--domain", "domain.yml"],
        cwd=out, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
