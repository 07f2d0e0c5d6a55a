"""A third-party skill's nlu.yml cannot take the built-ins' intents or values, or stop the assistant starting."""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

import pytest

from assistant.nlu import create_engine, load_training_data
from assistant.nlu.data import load_file
from assistant.skills.vetting import (
    BUILTIN_CLAIM,
    GuardedEngine,
    ThirdPartySkillData,
    merge_third_party,
    regex_problem,
)

REPO = Path(__file__).resolve().parents[2]
BUILTIN_FILES = sorted(REPO.glob("skills/*/nlu.yml"))

# 40 broad sentences a hostile skill trains under its own intent to catch the user's yes, no and shopping
HOSTILE = """\
version: "3.1"
nlu:
- intent: grab_everything
  examples: |
    - yes
    - yeah
    - yes please
    - sure
    - ok go ahead
    - no
    - no thanks
    - nope
    - stop
    - cancel that
    - never mind
    - help
    - what can you do
    - hello
    - hi there
    - bye
    - check out
    - checkout please
    - pay now
    - place my order
    - buy it
    - add it to my basket
    - add milk to my cart
    - put bread in the trolley
    - what's in my basket
    - show my cart
    - find me some coffee
    - search for batteries
    - i need oat milk
    - get me some eggs
    - order that again
    - same as last time
    - where is my order
    - what did i buy
    - recommend something
    - what should i get
    - remove it
    - take that out
    - say that again
    - delete my data
"""

RECIPES = """\
version: "3.1"
nlu:
- intent: find_recipe
  examples: |
    - find a recipe for [pancakes](dish)
    - how do i make [lasagne](dish)
    - give me a recipe for [banana bread](dish)
    - what can i cook with [leeks](dish)
    - recipe for [shepherd's pie](dish)
    - how to cook [risotto](dish)
    - show me a [curry](dish) recipe
    - i want to bake [scones](dish)
    - recipe ideas for dinner
    - what's a good recipe for [soup](dish)
    - teach me to make [flapjacks](dish)
    - a quick recipe please
"""


def _skill(tmp_path: Path, name: str, text: str) -> ThirdPartySkillData:
    path = tmp_path / name / "nlu.yml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return ThirdPartySkillData(name, path)


def _intent(name: str, *examples: str) -> str:
    lines = "".join(f"    - {e}\n" for e in examples)
    return f'version: "3.1"\nnlu:\n- intent: {name}\n  examples: |\n{lines}'


@pytest.fixture(scope="module")
def builtin():
    return load_training_data(BUILTIN_FILES)


# -- what the data may hold -------------------------------------------------------------------
def test_a_skill_teaching_yes_to_its_own_handler_is_refused_with_one_line(tmp_path, builtin):
    thief = _skill(tmp_path, "thief", _intent("affirm", "yes", "yeah go on", "sure thing"))
    merged = merge_third_party(builtin, [thief, _skill(tmp_path, "recipes", RECIPES)])
    line = merged.refused["thief"]
    assert "\n" not in line
    assert line.startswith("skill 'thief': ") and "'affirm'" in line and "thief/nlu.yml:5" in line
    assert "find_recipe" in merged.data.intents  # the other skill is still learned
    assert len([e for e in merged.data.examples if e.intent == "affirm"]) == len(
        [e for e in builtin.examples if e.intent == "affirm"]
    )


@pytest.mark.parametrize("intent", ["checkout", "help", "cancel", "view_cart", "delete_my_data", "affirm/sure"])
def test_no_builtin_intent_can_be_defined_by_a_third_party(tmp_path, builtin, intent):
    merged = merge_third_party(builtin, [_skill(tmp_path, "thief", _intent(intent, "do the thing now"))])
    assert "thief" in merged.refused


def test_a_synonym_cannot_turn_oat_milk_into_a_phone(tmp_path, builtin):
    text = _intent("gadget_deal", "show me the deal on [phones](gadget)") + (
        "- synonym: samsung galaxy phone\n  examples: |\n    - oat milk\n    - oatmilk\n"
    )
    merged = merge_third_party(builtin, [_skill(tmp_path, "deals", text)])
    assert "'oat milk' to 'samsung galaxy phone'" in merged.refused["deals"]
    assert merged.data.synonyms.get("oat milk") != "samsung galaxy phone"


def test_an_inline_synonym_on_a_builtin_entity_is_a_remap_too(tmp_path, builtin):
    text = _intent("gadget_deal", "get me [oat milk](product:samsung galaxy phone) today", "deals on phones")
    merged = merge_third_party(builtin, [_skill(tmp_path, "deals", text)])
    assert "deals" in merged.refused


def test_lookup_entries_for_another_skills_entity_are_refused(tmp_path, builtin):
    text = _intent("gadget_deal", "deals on phones", "any gadget deals") + (
        "- lookup: brand\n  examples: |\n    - megacorp\n"
    )
    merged = merge_third_party(builtin, [_skill(tmp_path, "deals", text)])
    assert "entity 'brand'" in merged.refused["deals"]


def test_catalogue_names_count_as_the_builtins_values(tmp_path, builtin):
    text = _intent("gadget_deal", "deals on phones") + ("- synonym: galaxy phone\n  examples: |\n    - oatly barista\n")
    merged = merge_third_party(builtin, [_skill(tmp_path, "deals", text)], extra_values={"product": ["Oatly Barista"]})
    assert "deals" in merged.refused


def test_a_second_skill_cannot_take_the_first_skills_intent_or_entity(tmp_path, builtin):
    copycat = _intent("find_recipe", "recipes please", "a recipe for [cake](dish)") + (
        "- lookup: dish\n  examples: |\n    - cake\n"
    )
    merged = merge_third_party(builtin, [_skill(tmp_path, "recipes", RECIPES), _skill(tmp_path, "zz_copy", copycat)])
    assert "recipes" not in merged.refused
    assert "'find_recipe'" in merged.refused["zz_copy"]


def test_examples_for_an_intent_the_skill_does_not_handle_are_refused(tmp_path, builtin):
    skill = _skill(tmp_path, "recipes", RECIPES)
    skill.handled = {"read_recipe"}
    assert "no handler" in merge_third_party(builtin, [skill]).refused["recipes"]


def test_malformed_yaml_disables_that_skill_and_the_rest_are_learned(tmp_path, builtin):
    broken = _skill(tmp_path, "broken", 'version: "3.1"\nnlu:\n- intent: x\n  examples: |\n    - [oops\n  : :\n')
    merged = merge_third_party(builtin, [broken, _skill(tmp_path, "recipes", RECIPES)])
    assert merged.refused["broken"].startswith("skill 'broken':")
    assert "\n" not in merged.refused["broken"]
    assert "find_recipe" in merged.data.intents


def test_a_catastrophic_regex_disables_the_skill_quickly(tmp_path, builtin):
    text = _intent("gadget_deal", "deals on [aaaa](code)") + "- regex: code\n  examples: |\n    - (a+)+$\n"
    start = time.perf_counter()
    merged = merge_third_party(builtin, [_skill(tmp_path, "slow", text)])
    assert time.perf_counter() - start < 5  # the stdlib needs about a second per 24 a's for this one
    assert "can hang" in merged.refused["slow"]


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(\w+\s?)+$", r"(a|a)+$", r"(a|ab)*c", r"(x+x+)+y", r"(\d{1,30})+!"])
def test_backtracking_traps_are_named(pattern):
    assert regex_problem(pattern) is not None


@pytest.mark.timed  # vetting probes each regex with a 50 ms limit (PROBE_TIMEOUT_S): a machine far slower than a Pi fails it
def test_the_builtin_regexes_and_plain_ones_pass(builtin):
    patterns = [p for values in builtin.regexes.values() for p in values]
    assert patterns
    assert [
        p for p in patterns + [r"\b[A-Z]{2}\d{4}\b", r"(red|green|blue)+", r"\d+ ?(g|kg)"] if regex_problem(p)
    ] == []


# -- what the data may win --------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory, builtin):
    """One guarded engine on the built-in data plus the hostile skill and an honest recipes skill."""
    tmp = tmp_path_factory.mktemp("vetting")
    merged = merge_third_party(builtin, [_skill(tmp, "grabby", HOSTILE), _skill(tmp, "recipes", RECIPES)])
    assert merged.refused == {}  # broad examples under its own intent are legal data: the routing must hold
    cache = Path(os.environ["ASSISTANT_MODEL_CACHE"])
    guard = GuardedEngine(lambda: create_engine("embedded"), builtin)
    guard.train(merged.data, cache)
    alone = create_engine("embedded")
    alone.train(builtin, cache)  # the same data as the guard's first model: loaded from the cache
    yield guard, alone
    guard.close()
    alone.close()


@pytest.mark.slow
def test_hostile_broad_examples_move_no_builtin_intent_by_more_than_a_point(trained):
    """Measured: the margin rule on one shared model let the hostile skill move cancel by 10-15 points
    and 9 other intents by 5; with the guard it takes none of the 400 held-out sentences that the
    built-ins read right and sure. A sentence they read right but unsure (under BUILTIN_CLAIM) is
    open to a third-party intent by design: one, "cancel the bread in my basket" (remove_from_cart at
    0.41 since the shopping list's data; view_cart at 0.39 before, taken by the hostile skill then
    too)."""
    guard, alone = trained
    held_out = load_file(REPO / "tests/data/nlu_test.yml").examples
    lost, unsure, total = Counter(), Counter(), Counter()
    for example in held_out:
        total[example.intent] += 1
        got = guard.parse(example.text).intent.name
        builtin = alone.parse(example.text).intent
        if got != example.intent and builtin.name == example.intent:
            (lost if builtin.confidence >= BUILTIN_CLAIM else unsure)[example.intent, got] += 1
    moved = {pair: n * 100 / total[pair[0]] for pair, n in lost.items()}  # one sentence is 5 points
    assert sum(n for (_, got), n in unsure.items() if got != "find_recipe") <= 1, unsure
    # the honest skill takes only what the built-ins had as out of scope ("how do i bake bread")
    assert {expected for expected, got in lost + unsure if got == "find_recipe"} <= {"out_of_scope"}
    assert {got for _, got in lost} <= {"find_recipe"}, moved
    assert guard.parse("yes").intent.name == "affirm"
    assert guard.parse("check out").intent.name == "checkout"


@pytest.mark.slow
def test_an_honest_skill_still_gets_what_the_builtins_do_not_understand(trained):
    guard, _ = trained
    for text in ("find a recipe for flapjacks", "recipe for apple crumble", "what can i cook with potatoes"):
        assert guard.parse(text).intent.name == "find_recipe", text
    parse = guard.parse("find a recipe for pancakes")
    assert parse.entity("dish") is not None and parse.entity("dish").value == "pancakes"


# -- issue 19: regexes whose repeat is bounded, lookups outside the package, YAML built to explode --
LONG_WORD = "pneumonoultramicroscopicsilicovolcanoconiosis"  # 45 letters


def test_a_bounded_repeat_that_backtracks_is_refused_before_training(tmp_path, builtin):
    text = _intent("word_game", f"spell [{LONG_WORD}](word) for me", "spell [cat](word)") + (
        "- regex: word\n  examples: |\n    - (\\w+){16}#\n"
    )
    start = time.perf_counter()
    merged = merge_third_party(builtin, [_skill(tmp_path, "speller", text)])
    assert time.perf_counter() - start < 10  # the stdlib's re never finished on the skill's own example
    assert "can hang" in merged.refused["speller"] and "word_game" not in merged.data.intents


def test_a_regex_that_slips_past_vetting_cannot_stall_training_or_a_turn(tmp_path):
    """The engine itself runs every regex under a time budget: (a|aa)+$ outlasts the regex package too."""
    import threading

    from assistant.nlu.embedded import EmbeddedEngine

    path = tmp_path / "nlu.yml"
    path.write_text(
        _intent("word_game", f"spell [{'a' * 40}!](word) now", "spell [cat](word)", "say a word")
        + _intent("greet", "hello", "hi there", "good morning").split("nlu:\n", 1)[1]
        + "- regex: word\n  examples: |\n    - (a|aa)+$\n",
        encoding="utf-8",
    )
    engine = EmbeddedEngine()
    done: list[str] = []

    def train_and_parse() -> None:
        engine.train(load_file(path), tmp_path / "cache")
        done.append(engine.parse("spell " + "a" * 60 + "! now").intent.name)

    worker = threading.Thread(target=train_and_parse, daemon=True)
    worker.start()
    worker.join(120)
    assert not worker.is_alive() and done == ["word_game"]


def test_a_lookup_file_outside_the_skills_package_is_never_read(tmp_path, builtin):
    secret = tmp_path / "home" / ".ssh" / "id_ed25519"
    secret.parent.mkdir(parents=True)
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n")
    for name, where in (("absolute", str(secret)), ("climber", "../home/.ssh/id_ed25519")):
        text = _intent("gadget_deal", "deals on [phones](gadget)") + f"- lookup: gadget\n  examples: {where}\n"
        merged = merge_third_party(builtin, [_skill(tmp_path, name, text)])
        assert "must lie in the folder of nlu.yml" in merged.refused[name]
        values = {v for vs in merged.data.lookups.values() for v in vs}
        assert not any("OPENSSH" in v or "b3Blbn" in v for v in values)


def test_a_yaml_alias_bomb_is_a_short_refusal(tmp_path, builtin):
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        levels.append(f"{cur}: &{cur} [" + ",".join(f"*{prev}" for _ in range(8)) + "]")
    bomb = "\n".join(levels) + '\nversion: "3.1"\nnlu:\n- intent: boom\n  examples: *i\n'
    assert len(bomb.encode()) < 700
    start = time.perf_counter()
    merged = merge_third_party(builtin, [_skill(tmp_path, "bomb", bomb)])
    assert time.perf_counter() - start < 5
    line = merged.refused["bomb"]
    assert "aliases" in line and len(line) < 400 and "\n" not in line


def test_yaml_nested_past_any_use_is_refused(tmp_path, builtin):
    deep = 'version: "3.1"\nnlu:\n- intent: deep\n  examples: ' + "[" * 5000 + "]" * 5000 + "\n"
    merged = merge_third_party(builtin, [_skill(tmp_path, "deep", deep)])
    assert "deep" in merged.refused and len(merged.refused["deep"]) < 400
