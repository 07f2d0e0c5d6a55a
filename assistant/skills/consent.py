"""Whether a third-party skill may run: the user's yes to this version's permissions, kept per version."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from assistant.nlu.data import TrainingData
from assistant.sdk import PERMISSIONS
from assistant.skills.state import SkillStates
from assistant.skills.vetting import ThirdPartySkillData, merge_third_party

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
