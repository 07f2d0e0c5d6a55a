"""Engine `embedded`: Rasa's /model/parse contract (text echoed, offsets into it, values as written)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.nlu.cache import TEMP_PREFIX
from assistant.nlu.data import load_file
from assistant.nlu.embedded import EmbeddedEngine

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedEngine:
    engine = EmbeddedEngine()
    engine.train(load_file(DATA / "people.yml"), tmp_path_factory.mktemp("cache"))
    return engine


def _found(engine: EmbeddedEngine, text: str) -> dict[str, tuple[str, str]]:
    """entity -> (the text its offsets point at, its value)."""
    parse = engine.parse(text)
    assert parse.text == text
    return {e.entity: (text[e.start : e.end], e.value) for e in parse.entities}


def test_offsets_index_the_text_as_sent_even_with_odd_spacing(people):
    text = "  open\t\tDana's   file  "
    assert _found(people, text)["person"] == ("Dana", "Dana")
    assert people.parse(text).to_rasa()["text"] == text


def test_values_keep_the_case_as_written(people):
    assert _found(people, "show me Alice's notes")["person"] == ("Alice", "Alice")


def test_possessive_is_split_so_the_name_alone_is_tagged(people):
    found = _found(people, "open Priya's report")
    assert found["person"] == ("Priya", "Priya")
    assert people.parse("open Priya's report").intent.name == "open_file"


def test_underscore_names_annotated_whole_stay_whole(people):
    assert _found(people, "deploy auth_api now")["service"] == ("auth_api", "auth_api")


def test_synonym_value_keeps_its_leading_space(people):
    assert _found(people, "fly to NYC")["city"] == ("NYC", " New York")


def test_retrieval_intent_gives_base_intent_and_rasa_response_selector(tmp_path):
    engine = EmbeddedEngine()
    engine.train(load_file(DATA / "block_form.yml"), tmp_path)
    parse = engine.parse("what is your name")
    assert parse.intent.name == "chitchat"
    assert parse.retrieval_intent == "chitchat/ask_name"
    selector = parse.to_rasa()["response_selector"]
    assert selector["all_retrieval_intents"] == ["chitchat"]
    response = selector["default"]["response"]
    assert response["intent_response_key"] == "chitchat/ask_name"
    assert response["utter_action"] == "utter_chitchat/ask_name"
    assert {"confidence", "intent_response_key"} == set(selector["default"]["ranking"][0])


def test_no_response_selector_without_retrieval_intents(people):
    assert "response_selector" not in people.parse("fly to Rome").to_rasa()


def test_roles_and_groups_are_learned_and_returned(tmp_path):
    engine = EmbeddedEngine()
    engine.train(load_file(DATA / "list_form.yml"), tmp_path)
    entities = engine.parse("send 30 to Alice").to_rasa()["entities"]
    assert {"entity": "person", "role": "recipient"}.items() <= next(
        e for e in entities if e["entity"] == "person"
    ).items()


# -- the model cache -------------------------------------------------------------------------
_TRAIN = """
import sys
from pathlib import Path
from assistant.nlu.data import load_file
from assistant.nlu.embedded import EmbeddedEngine
engine = EmbeddedEngine()
engine.train(load_file(Path(sys.argv[1])), Path(sys.argv[2]))
print(engine.parse("fly to Paris").intent.name)
"""


def test_parallel_processes_on_an_empty_cache_all_succeed(tmp_path):
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _TRAIN, str(DATA / "people.yml"), str(cache)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(8)
    ]
    results = [p.communicate(timeout=240) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == "travel"
    files = list((cache / "embedded").iterdir())
    assert [f.suffix for f in files] == [".pkl"], files  # one model, no temporaries left


def test_stale_temporary_is_ignored_and_removed(tmp_path):
    folder = tmp_path / "embedded"
    folder.mkdir()
    stale = folder / f"{TEMP_PREFIX}abc.pkl.x1"
    stale.write_bytes(b"half a model")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    fresh = folder / f"{TEMP_PREFIX}def.pkl.x2"  # another process may be writing this one now
    fresh.write_bytes(b"being written")
    engine = EmbeddedEngine()
    engine.train(load_file(DATA / "people.yml"), tmp_path)
    assert engine.parse("fly to Paris").intent.name == "travel"
    assert not stale.exists() and fresh.exists()


def test_corrupt_cached_model_is_retrained(tmp_path):
    data = load_file(DATA / "people.yml")
    EmbeddedEngine().train(data, tmp_path)
    (model,) = (tmp_path / "embedded").glob("*.pkl")
    model.write_bytes(b"not a pickle")
    engine = EmbeddedEngine()
    engine.train(data, tmp_path)
    assert engine.parse("fly to Paris").intent.name == "travel"


SHOP_SENTENCES = [
    "add two bags of lavazza coffee beans to my basket",
    "do you have oat milk under three pounds",
    "take the second one out",
    "search for duracell batteries",
    "i'd like three tins of heinz baked beans",
    "order the usual",
]


def test_parses_on_many_threads_at_once_are_the_parses_of_one():
    """The hub parses on 4 threads over one engine: no parse may mix with another's sentence."""
    import threading

    from assistant.nlu import load_training_data

    engine = EmbeddedEngine()
    engine.train(load_training_data(sorted(REPO.glob("skills/*/nlu.yml"))), Path(os.environ["ASSISTANT_MODEL_CACHE"]))
    alone = {t: engine.parse(t).to_rasa() for t in SHOP_SENTENCES}
    assert any(alone[t]["entities"] for t in SHOP_SENTENCES)
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads as often as CPython allows: mid-tagger, every time
    failures: list[str] = []

    def parse_all(offset: int) -> None:
        for i in range(120):
            text = SHOP_SENTENCES[(i + offset) % len(SHOP_SENTENCES)]
            try:
                got = engine.parse(text).to_rasa()
            except Exception as exc:  # noqa: BLE001 - what the shared tagger raised
                failures.append(f"{text!r}: {type(exc).__name__}: {exc}")
                continue
            if got != alone[text]:
                failures.append(f"{text!r}: {got['entities']} != {alone[text]['entities']}")

    try:
        threads = [threading.Thread(target=parse_all, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(previous)
    assert failures == []
