"""`assistant nlu evaluate --cross-validation K`: every example held out once, Rasa-style reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from assistant.nlu.crossval import cross_validate, folds
from assistant.nlu.data import load_file
from assistant.nlu.embedded import EmbeddedEngine

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]
SKLEARN_KEYS = {"precision", "recall", "f1-score", "support"}


def test_folds_hold_out_every_example_once_stratified_on_the_full_intent():
    data = load_file(DATA / "people.yml")
    pairs = folds(data, 3)
    held_out = [e.text for _, test in pairs for e in test.examples]
    assert sorted(held_out) == sorted(e.text for e in data.examples)
    for train, test in pairs:
        assert {e.intent for e in test.examples} == {"open_file", "deploy", "travel"}
        assert not {e.text for e in train.examples} & {e.text for e in test.examples}
        assert train.synonyms == data.synonyms  # synonyms and lookups go to every fold


def test_cross_validation_scores_each_example_with_a_model_that_never_saw_it():
    data = load_file(DATA / "people.yml")
    result = cross_validate(data, EmbeddedEngine, k=3)
    assert len(result.predictions) == len(data.examples) and len(result.train_seconds) == 3
    assert set(result.report.per_intent) == {"open_file", "deploy", "travel"}
    assert set(result.report.per_intent["deploy"]) == SKLEARN_KEYS
    # a name never seen in training is found from its context alone
    assert result.report.entity_f1 > 0.5
    assert result.report.intent_accuracy > 0.8


def test_cli_cross_validation_writes_rasa_reports(tmp_path: Path):
    proc = subprocess.run(
        [
            sys.executable, "-m", "assistant.cli", "nlu", "evaluate", "--cross-validation", "3",
            "--engine", "embedded", "--data", str(DATA / "people.yml"), str(DATA / "list_form.yml"),
            "--json", "--report", str(tmp_path),
        ],
        capture_output=True, text=True, cwd=REPO, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["folds"] == 3 and summary["examples"] == 20 + 8
    assert {"per_intent", "confusions", "errors", "entity_f1"} <= set(summary)
    intents = json.loads((tmp_path / "intent_report.json").read_text())
    assert {"accuracy", "macro avg", "weighted avg", "micro avg"} <= set(intents)
    assert set(intents["travel"]) == SKLEARN_KEYS | {"confused_with"}
    entities = json.loads((tmp_path / "EmbeddedCRFEntityExtractor_report.json").read_text())
    # Rasa's token labels: entity[.group][.role]; no_entity is left out
    assert {"person", "service", "person.recipient", "account.1.from"} <= set(entities)
    assert "no_entity" not in entities and set(entities["person"]) == SKLEARN_KEYS
