from pathlib import Path

import pytest

from assistant.errors import TrainingDataError
from assistant.nlu import core_data_files
from assistant.nlu.data import load_file, parse_example


def test_annotations_become_spans_with_values_and_roles():
    ex = parse_example(
        'add [two]{"entity": "quantity", "value": "2"} [oat milk](product) under [a fiver]{"entity": "price", "role": "max", "value": "5"}',
        "add_to_cart",
        "x",
    )
    assert ex.text == "add two oat milk under a fiver"
    spans = {(s.entity, s.value, ex.text[s.start : s.end], s.role) for s in ex.entities}
    assert spans == {
        ("quantity", "2", "two", None),
        ("product", "oat milk", "oat milk", None),
        ("price", "5", "a fiver", "max"),
    }


def test_synonyms_lookups_and_regexes(tmp_path: Path):
    path = tmp_path / "nlu.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n- intent: search_product\n  examples: |\n    - any [oatmilk](product:oat milk)\n    - [nappies](product)\n'
        "- synonym: nappies\n  examples: |\n    - diapers\n- lookup: brand\n  examples: |\n    - oatly\n- regex: price\n  examples: |\n    - \\d+ quid\n"
    )
    data = load_file(path)
    assert data.synonyms == {"diapers": "nappies", "oatmilk": "oat milk"}
    assert data.lookups == {"brand": ["oatly"]}
    assert data.regexes == {"price": [r"\d+ quid"]}
    assert len(data.examples) == 2


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        (
            'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n    bad line\n',
            ":6",
            "expected '- example'",
        ),
        ("nlu:\n- intent: greet\n  examples: |\n    - [hi](greeting\n", ":4", "unbalanced"),
        ("nlu: [\n", ":2", "not valid YAML"),
        ("nlu:\n- regex: price\n  examples: |\n    - ([\n", ":4", "bad regex"),
        ("nlu:\n- intent: greet\n  synonym: x\n  examples: |\n    - hi\n", ":2", "exactly one of"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path: Path, text, where, what):
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(TrainingDataError) as err:
        load_file(path)
    assert str(err.value).startswith(f"{path}{where}")
    assert what in str(err.value)


def test_project_data_loads_and_has_all_labels():
    from assistant.skills.registry import discover

    skills, problems = discover()
    assert not problems
    files = core_data_files() + [s.nlu_file for s in skills if s.nlu_file]
    data = load_file(files[0])
    for f in files[1:]:
        data.merge(load_file(f))
    expected = {
        "search_product", "add_to_cart", "remove_from_cart", "view_cart", "checkout", "reorder", "order_history",
        "order_status", "recommend", "discover", "explain_recommendation", "delete_my_data", "greet", "goodbye",
        "help", "affirm", "deny", "cancel", "repeat", "out_of_scope", "skill_activity",
        "add_to_list", "remove_from_list", "view_list", "clear_list", "order_list", "watch_price", "whats_new",
        "list_watches", "stop_watch",
    }  # fmt: skip
    assert set(data.intents) == expected
    counts = {i: sum(e.intent == i for e in data.examples) for i in expected}
    assert min(counts.values()) >= 40, counts
    assert {"product", "brand", "price", "quantity", "ordinal", "item"} <= set(data.entity_types)


# -- every form Rasa 3.x reads -----------------------------------------------------------------
DATA = Path(__file__).parent / "data"


def test_block_form_with_all_annotation_forms_retrieval_intents_and_responses_ignored(caplog):
    with caplog.at_level("INFO"):
        data = load_file(DATA / "block_form.yml")
    assert data.intents == ["book_table", "chitchat", "greet"]
    assert data.retrieval_intents == ["chitchat"]
    asked = next(e for e in data.examples if e.text == "what is your name")
    assert (asked.intent, asked.response_key) == ("chitchat", "chitchat/ask_name")
    booked = data.examples[0]
    assert booked.text == "book a table for two at Luigi's"
    assert [(booked.text[s.start : s.end], s.entity, s.value) for s in booked.entities] == [
        ("two", "party_size", "2"),
        ("Luigi's", "restaurant", "Luigi's"),
    ]
    assert booked.metadata == {"intent": {"sentiment": "neutral"}, "example": None}
    assert data.synonyms["nyc"] == " New York" and data.synonyms["four"] == "4"
    assert data.regexes == {"party_size": [r"\b\d{1,2}\b"]}
    assert data.lookups["restaurant"] == ["Luigi's", "Nando's", "Dishoom"]
    assert "'responses:' ignored" in caplog.text and "block_form.yml:42:" in caplog.text


def test_list_form_with_metadata_roles_groups_and_a_lookup_file():
    data = load_file(DATA / "list_form.yml")
    first = data.examples[0]
    assert first.text == "send 50 to Alice"
    assert first.metadata == {"intent": {"domain": "banking"}, "example": {"source": "app"}}
    assert first.source.endswith("list_form.yml:8")
    transfer = data.examples[1]
    spans = {(transfer.text[s.start : s.end], s.role, s.group) for s in transfer.entities if s.entity == "account"}
    assert spans == {("savings", "from", "1"), ("checking", "to", "1")}
    assert data.examples[-1].text == "checking balance please"
    assert data.lookups == {"account": ["savings", "checking", "isa"]}


def test_a_literal_bracket_that_is_not_an_annotation_is_text():
    data = load_file(DATA / "literal_brackets.yml")
    assert [e.text for e in data.examples] == ["the docs say [sic] here", "read page [2] aloud"]
    assert [(s.entity, s.start, s.end) for s in data.examples[1].entities] == [("thing", 5, 9)]


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("nlu:\n- intent: greet\n  examples: |\n    - hi\n  entities: [x]\n", ":2", "unsupported key 'entities'"),
        ("version: '3.1'\nstories: []\nslots: {}\n", ":3", "unsupported top-level key 'slots'"),
        ("nlu:\n- intent: greet\n  examples:\n  - txt: hi\n", ":4", "needs 'text'"),
        ("nlu:\n- lookup: city\n  examples: cities.txt\n", ":3", "lookup file 'cities.txt' not found"),
        ("nlu:\n- intent: a/b/c\n  examples: |\n    - hi\n", ":2", "one '/'"),
    ],
)
def test_unsupported_forms_are_one_line_naming_file_and_line(tmp_path: Path, text, where, what):
    path = tmp_path / "odd.yml"
    path.write_text(text)
    with pytest.raises(TrainingDataError) as err:
        load_file(path)
    message = str(err.value)
    assert message.startswith(f"{path}{where}: ") and what in message and "\n" not in message


def test_not_utf8_is_one_clear_line(tmp_path: Path):
    path = tmp_path / "latin1.yml"
    path.write_bytes("nlu:\n- intent: greet\n  examples: |\n    - caf\xe9\n".encode("latin-1"))
    with pytest.raises(TrainingDataError) as err:
        load_file(path)
    assert str(err.value) == f"{path}:4: not UTF-8 text (byte 0xe9); save the file as UTF-8"


def test_not_yaml_through_the_cli_is_one_line_without_traceback(tmp_path: Path):
    import subprocess
    import sys

    path = tmp_path / "broken.yml"
    path.write_text("nlu:\n- intent: greet\n  examples: |\n    - hi\n  - {oops\n")
    proc = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "nlu", "validate", "--data", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert f"{path}:5: not valid YAML" in proc.stderr + proc.stdout
