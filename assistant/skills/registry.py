"""Finds skills by entry-point group, validates each, and reports a broken one by name."""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from pydantic import BaseModel, ValidationError

from assistant.errors import SkillError
from assistant.sdk import PERMISSIONS, SDK_VERSION, Skill

log = logging.getLogger(__name__)

GROUP = "assistant.skills"
CORE_DIST = "shopper-assistant"


@dataclass
class LoadedSkill:
    name: str
    skill: Skill
    cls: type[Skill]
    source: str
    """The distribution that installed it."""
    builtin: bool
    nlu_file: Path | None
    intents: dict[str, str] = field(default_factory=dict)
    target: str = ""
    """'module:Class', to load it again in a worker process."""
    settings: dict = field(default_factory=dict)


@dataclass
class SkillProblem:
    name: str
    source: str
    error: str


def _nlu_path(cls: type[Skill]) -> Path | None:
    if not cls.nlu:
        return None
    module_file = inspect.getsourcefile(cls)
    if module_file is None:
        return None
    path = Path(module_file).parent / cls.nlu
    if not path.exists():
        raise SkillError(f"skill '{cls.name}': its NLU file {path} does not exist")
    return path


def validate(cls: object, entry: str, settings: dict) -> tuple[type[Skill], BaseModel]:
    if not (inspect.isclass(cls) and issubclass(cls, Skill)):
        raise SkillError(f"skill entry point '{entry}' is not an assistant.sdk.Skill subclass")
    if not cls.name or not cls.name.replace("_", "").replace("-", "").isalnum():
        raise SkillError(f"skill entry point '{entry}' needs a simple 'name' (letters, digits, - or _)")
    if SDK_VERSION not in cls.sdk_versions:
        raise SkillError(
            f"skill '{cls.name}' supports SDK versions {list(cls.sdk_versions)}, this assistant has SDK {SDK_VERSION}"
        )
    unknown = set(cls.permissions) - set(PERMISSIONS)
    if unknown:
        raise SkillError(f"skill '{cls.name}' asks for unknown permissions: {', '.join(sorted(unknown))}")
    if not cls.intent_handlers():
        raise SkillError(f"skill '{cls.name}' declares no @intent handlers")
    try:
        parsed = cls.Settings.model_validate(settings or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise SkillError(f"config.yml: skills.{cls.name}.{key}: {err['msg']}") from None
    return cls, parsed


def discover(
    settings: dict[str, dict] | None = None, entries: list[EntryPoint] | None = None
) -> tuple[list[LoadedSkill], list[SkillProblem]]:
    """Load every skill installed under the entry-point group; broken ones are reported, not fatal."""
    settings = settings or {}
    loaded: list[LoadedSkill] = []
    problems: list[SkillProblem] = []
    seen: set[str] = set()
    for ep in sorted(entries if entries is not None else entry_points(group=GROUP), key=lambda e: e.name):
        source = ep.dist.name if ep.dist else "?"
        try:
            obj = ep.load()
            cls, parsed = validate(obj, ep.name, settings.get(getattr(obj, "name", ep.name), {}))
            if cls.name in seen:
                raise SkillError(f"skill '{cls.name}' is installed twice (again by {source})")
            nlu = _nlu_path(cls)
            skill = cls(parsed)
        except SkillError as exc:
            problems.append(SkillProblem(ep.name, source, str(exc)))
            log.error("%s", exc)
            continue
        except Exception as exc:  # an import error or a crash in the skill's __init__
            message = f"skill '{ep.name}' ({source}) failed to load: {type(exc).__name__}: {exc}"
            problems.append(SkillProblem(ep.name, source, message))
            log.error("%s", message)
            continue
        seen.add(cls.name)
        builtin = source == CORE_DIST
        own = settings.get(cls.name, {})
        loaded.append(LoadedSkill(cls.name, skill, cls, source, builtin, nlu, cls.intent_handlers(), ep.value, own))
    return loaded, problems
