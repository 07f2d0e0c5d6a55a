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
        "help", "affirm", "deny", "cancel", "repeat", "out_of_scope",
    }  # fmt: skip
    assert set(data.intents) == expected
    counts = {i: sum(e.intent == i for e in data.examples) for i in expected}
    assert min(counts.values()) >= 40, counts
    assert {"product", "brand", "price", "quantity", "ordinal"} <= set(data.entity_types)
