"""`assistant nlu validate`: the checks `rasa data validate` makes, on small files and on the project's data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from assistant.nlu.data import load_file
from assistant.nlu.validate import validate

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", "nlu", "validate", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def test_every_problem_is_reported_in_rasas_words():
    findings = validate(load_file(DATA / "problems.yml", check_regexes=False), domain={"person", "city"})
    text = "\n".join(str(f) for f in findings)
    errors = [f for f in findings if f.severity == "error"]
    assert "The example 'good morning' was found labeled with multiple different intents" in text
    assert "The example is labeled with: goodbye, greet." in text
    assert "Intent 'thank' has only 1 training examples! Minimum is 2, training may fail." in text
    assert "Entity person has only 1 training examples!" in text
    assert "Found inconsistent entity synonyms" in text and "nyc->New York with nyc->Newcastle" in text
    assert "'[0-9{5}' is not a valid regex" in text
    assert "The lookup table 'fruit' is never matched" in text
    assert "The regex 'zipcode' has a name equal to no entity" in text
    assert "The entity 'city' is listed in the domain but never annotated" in text
    assert {f.message.split(" ")[1] for f in errors} >= {"example", "inconsistent", "training"}
    assert findings[0].severity == "error" and findings[-1].severity == "warning"  # errors first
    conflict = next(f for f in errors if "multiple different intents" in f.message)
    assert conflict.where == f"{DATA / 'problems.yml'}:7, {DATA / 'problems.yml'}:11"


def test_annotated_entity_missing_from_the_domain_is_an_error():
    findings = validate(load_file(DATA / "people.yml"), domain={"person", "city"})
    (error,) = [f for f in findings if f.severity == "error"]
    assert error.message.startswith("The entity 'service' is used in the NLU training data, but it is not listed")


def test_cli_exits_non_zero_on_errors_and_zero_on_warnings_only(tmp_path: Path):
    bad = _cli("--data", str(DATA / "problems.yml"))
    assert bad.returncode == 1
    assert "error:" in bad.stderr and "not a valid regex" in bad.stderr
    warn_only = tmp_path / "warn.yml"
    warn_only.write_text(
        "nlu:\n- intent: a\n  examples: |\n    - one\n- intent: b\n  examples: |\n    - two\n    - 2\n"
    )
    ok = _cli("--data", str(warn_only))
    assert ok.returncode == 0, ok.stderr
    assert "Intent 'a' has only 1 training examples!" in ok.stdout and "0 error(s), 1 warning(s)" in ok.stdout


def test_the_projects_own_data_passes():
    proc = _cli()
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert " 0 error(s)" in proc.stdout
    # the 20 of the design, the privacy skill's skill_activity, the shopping list's 5 and the price watches' 4
    assert "30 intents" in proc.stdout
