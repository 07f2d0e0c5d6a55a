"""Whether a third-party skill may run: the user's yes to this version's permissions, kept per version."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import AssistantError
from assistant.nlu.data import TrainingData
from assistant.sdk import PERMISSIONS
from assistant.skills.state import SkillStates
from assistant.skills.vetting import ThirdPartySkillData, merge_third_party

if TYPE_CHECKING:
    from assistant.skills.registry import LoadedSkill


class ConsentRefused(AssistantError):
    """A skill that can never be enabled (a built-in's name, intents or phrases, or a reserved permission)."""

CORE_DIST = "shopper-assistant"
BUILTIN_ONLY = frozenset({"access_log.read"})
"""Permissions no third-party skill is given, whatever the user answers."""


@dataclass(frozen=True)
class Consent:
    allowed: bool
    status: str
    """"ok", or one line for `skills list` and the start-up log saying why not and what to run."""
    asks_more: frozenset[str] = frozenset()
    """Permissions this version asks for that the user has not agreed to."""

    @property
    def held(self) -> bool:
        """Enabled by the user, but waiting for their yes to more permissions."""
        return bool(self.asks_more)


def plain_words(permission: str) -> str:
    """A permission's name and what it lets a skill do."""
    return f"{permission}: {PERMISSIONS.get(permission, 'unknown permission')}"


def check(states: SkillStates, name: str, version: str, permissions: Collection[str], builtin: bool) -> Consent:
    """May this skill run now? Built-ins run unless switched off; a third-party skill needs a recorded
    yes covering every permission its installed version asks for."""
    asked = frozenset(permissions)
    if builtin:
        on = states.enabled(name, True)
        return Consent(on, "ok" if on else states.reason(name) or "disabled by you")
    if not states.enabled(name, False):
        return Consent(False, states.reason(name) or "disabled until you enable it")
    grant = states.granted(name)
    if grant is None:
        return Consent(
            False,
            f"held: enabled before its permissions were recorded; 'assistant skills enable {name}' asks you again",
            asked,
        )
    more = asked - grant.permissions
    if more:
        return Consent(
            False,
            f"held: version {version} asks for more than you agreed to for {grant.version} "
            f"({', '.join(sorted(more))}); 'assistant skills enable {name}' asks you",
            more,
        )
    return Consent(True, "ok")


def builtin_names() -> frozenset[str]:
    """The built-in skills' names, from the core's entry points (read, not imported)."""
    from assistant.skills.registry import GROUP, core_distribution

    dist = core_distribution()
    if dist is None:
        return frozenset()
    return frozenset(ep.name for ep in dist.entry_points if ep.group == GROUP)


def refusal(
    name: str,
    source: str,
    permissions: Collection[str],
    *,
    builtins: Collection[str],
    builtin_data: TrainingData,
    intents: Collection[str] = (),
    nlu_file: Path | None = None,
) -> str | None:
    """Why a third-party skill can never be enabled, in one line (None if the user can be asked).

    ``builtins`` adds to the core's entry-point names the built-ins discovery found; ``builtin_data``
    is their training data, against which the skill's nlu.yml is vetted as at start-up."""
    if name in set(builtins) | builtin_names():
        return f"skill '{name}' from {source} has the name of a built-in skill, so it cannot be enabled"
    reserved = sorted(BUILTIN_ONLY & set(permissions))
    if reserved:
        return f"skill '{name}' from {source} asks for {', '.join(reserved)}, which only built-in skills get"
    taken = sorted(set(intents) & set(builtin_data.intents))
    if taken:
        return (
            f"skill '{name}' from {source} handles the built-in intent(s) {', '.join(taken)}, so it cannot be enabled"
        )
    if nlu_file is None:
        return None
    return merge_third_party(builtin_data, [ThirdPartySkillData(name, nlu_file, intents)]).refused.get(name)


@dataclass(frozen=True)
class Request:
    """What enabling a skill asks of the user, the same at every front door (the CLI, the hub)."""

    name: str
    version: str
    source: str
    asks: tuple[tuple[str, bool], ...]
    """Each permission in plain words, and whether it is new since what the user agreed to before."""
    agreed_version: str | None = None
    """The version the user agreed to less for, when there is one."""

    @property
    def words(self) -> list[str]:
        return [words for words, _ in self.asks] or ["nothing: it needs no permissions"]


def request(states: SkillStates, skill: LoadedSkill, installed: Collection[LoadedSkill]) -> Request:
    """What enabling ``skill`` means; ConsentRefused (one line) if it can never be enabled. ``installed``:
    every skill discovery found, whose built-ins' names and phrases a third-party skill may not take."""
    from assistant.nlu import load_training_data

    permissions = frozenset(skill.permissions)
    if not skill.builtin:
        builtins = [s for s in installed if s.builtin]
        refused = refusal(
            skill.name, skill.source, permissions, intents=skill.intents, nlu_file=skill.nlu_file,
            builtins={s.name for s in builtins},
            builtin_data=load_training_data([s.nlu_file for s in builtins if s.nlu_file]),
        )  # fmt: skip
        if refused:
            raise ConsentRefused(refused)
    grant = states.granted(skill.name)
    new = permissions - grant.permissions if grant else frozenset()
    asks = tuple((plain_words(p), p in new) for p in sorted(permissions))
    return Request(skill.name, skill.version, skill.source, asks, grant.version if new and grant else None)


def agree(states: SkillStates, skill: LoadedSkill) -> None:
    """The user's yes to exactly what ``request`` read out, for this version."""
    states.grant(skill.name, skill.version, frozenset(skill.permissions))
