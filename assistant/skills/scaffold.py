"""`assistant skills new NAME`: a pip-installable skill package that works and has a passing test."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.errors import SkillError

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "The {name} skill for the offline shopping assistant"
requires-python = ">=3.11"
dependencies = []

[project.entry-points."assistant.skills"]
{name} = "{module}:{cls}"

[tool.setuptools]
packages = ["{module}"]

[tool.setuptools.package-data]
{module} = ["nlu.yml", "skill.toml"]
"""

MANIFEST = """\
# What the assistant reads about this skill without running any of its code. Keep it in step
# with the class: the assistant refuses a skill whose class and manifest disagree.
[skills.{name}]
version = "0.1.0"
description = "give {words} tips"
sdk_versions = [1]
permissions = []  # add e.g. "catalog.read" here and in the class to search products
nlu = "nlu.yml"
intents = {{ "{intent}" = "tip" }}  # intent -> the method that handles it
"""

MODULE = '''\
"""The {name} skill: {intent} answers with a tip."""

from __future__ import annotations

from assistant.sdk import Context, Reply, Request, Skill, intent, say


class {cls}(Skill):
    name = "{name}"
    version = "0.1.0"
    description = "give {words} tips"
    permissions = frozenset()  # add e.g. "catalog.read" to search products
    nlu = "nlu.yml"

    @intent("{intent}")
    def tip(self, ctx: Context, request: Request) -> Reply:
        return say("Here's a {words} tip: buy what you need, and nothing you don't.")
'''

NLU = """\
version: "3.1"
nlu:
- intent: {intent}
  examples: |
    - give me a {words} tip
    - {words} tip please
    - any {words} tips
    - i'd like a {words} tip
    - tell me a {words} tip
    - um can i get a {words} tip
    - what's your {words} tip
    - share a {words} tip
    - got any {words} tips for me
    - {words} tips
    - a tip about {words}
    - tip of the day for {words}
"""

TEST = """\
from assistant.testing import Chat


def test_{module}_answers(tmp_path):
    with Chat(tmp_path, enable=["{name}"]) as chat:
        reply = chat.say("give me a {words} tip")
        assert chat.last.skill == "{name}"
        assert "tip" in reply
"""

README = """\
# {name}: a skill for the offline shopping assistant

    pip install -e .
    assistant skills enable {name}
    assistant chat        # say: give me a {words} tip

Test it with `pytest` (the test holds a real conversation through `assistant.testing.Chat`).
"""


def scaffold(name: str, where: Path) -> Path:
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,30}", name):
        raise SkillError(f"skill name {name!r}: use 2-31 lowercase letters, digits or _, starting with a letter")
    module = f"{name}_skill"
    root = Path(where) / f"{name.replace('_', '-')}-skill"
    if root.exists():
        raise SkillError(f"{root} already exists")
    fields = {
        "name": name,
        "dist": f"assistant-skill-{name.replace('_', '-')}",
        "module": module,
        "cls": "".join(part.title() for part in name.split("_")) + "Skill",
        "intent": f"{name}_tip",
        "words": name.replace("_", " "),
    }
    (root / module).mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT.format(**fields))
    (root / module / "__init__.py").write_text(MODULE.format(**fields))
    (root / module / "nlu.yml").write_text(NLU.format(**fields))
    (root / module / "skill.toml").write_text(MANIFEST.format(**fields))
    (root / "tests" / f"test_{module}.py").write_text(TEST.format(**fields))
    (root / "README.md").write_text(README.format(**fields))
    return root
