"""Finds skills by entry-point group and reads their manifests as data; imports only the built-ins.

A third-party skill's module is imported only inside its sandbox (assistant/skills/worker.py), so
listing, enabling or disabling it never runs its code.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from importlib.metadata import Distribution, EntryPoint, distributions
from pathlib import Path
from urllib.parse import unquote, urlparse

from pydantic import BaseModel, ValidationError

from assistant.errors import SkillError
from assistant.sdk import CORE_INTENTS, PERMISSIONS, SDK_VERSION, Skill
from assistant.skills.manifest import ManifestFile, read_manifest
from assistant.skills.worker import mismatch

log = logging.getLogger(__name__)

GROUP = "assistant.skills"
CORE_DIST = "shopper-assistant"


# -- which installed code is the assistant's own ------------------------------------------------
def _ships(dist: Distribution, path: Path) -> bool:
    """Whether ``path`` is a file of ``dist``: in its RECORD, or under the folder of an editable install."""
    path = path.resolve()
    for file in dist.files or []:
        if Path(str(dist.locate_file(file))).resolve() == path:
            return True
    try:
        direct = json.loads(dist.read_text("direct_url.json") or "{}")
    except ValueError:
        return False
    url = urlparse(str(direct.get("url", "")))
    if not direct.get("dir_info", {}).get("editable") or url.scheme != "file":
        return False
    root = Path(unquote(url.path)).resolve()
    return root in path.parents


def _installs_this_assistant(dist: Distribution) -> bool:
    import assistant

    named = (dist.metadata["Name"] or "").lower().replace("_", "-") == CORE_DIST
    return named and _ships(dist, Path(assistant.__file__))


@functools.cache
def core_distribution() -> Distribution | None:
    """The distribution that installed the running assistant, found by the path of its own code: a
    package that merely calls itself 'shopper-assistant' is a third-party one (issue 19, item 4)."""
    return next((dist for dist in distributions() if _installs_this_assistant(dist)), None)


def _same(a: Distribution | None, b: Distribution | None) -> bool:
    """One installed distribution (its metadata folder), not two that share a name."""
    where = getattr(a, "_path", None)
    return where is not None and where == getattr(b, "_path", None)


def is_builtin(ep: EntryPoint, manifest: Path) -> bool:
    """A built-in is an entry point of the running assistant's own distribution whose manifest (and so
    its package) that distribution ships."""
    core = core_distribution()
    return _same(ep.dist, core) and core is not None and _ships(core, manifest)


def installed_entries() -> list[EntryPoint]:
    """Every skill entry point of every installed distribution. Unlike ``entry_points()``, two
    distributions of one name are both listed, so an impostor on the path cannot hide the built-ins."""
    core = core_distribution()
    seen: set[str] = set()
    found: list[EntryPoint] = []
    for dist in distributions():
        where = str(getattr(dist, "_path", id(dist)))
        if where in seen or (not _same(dist, core) and _installs_this_assistant(dist)):
            continue  # the same folder twice on the path, or a second record of this very install
        seen.add(where)
        found += [ep for ep in dist.entry_points if ep.group == GROUP]
    return found


@dataclass
class LoadedSkill:
    name: str
    skill: Skill | None
    """The instance, for a built-in only (it runs in the assistant's process); None for a third-party skill."""
    cls: type[Skill] | None
    """The class, for a built-in only."""
    source: str
    """The distribution that installed it."""
    builtin: bool
    nlu_file: Path | None
    intents: dict[str, str] = field(default_factory=dict)
    """Intent -> handler method name, from the manifest."""
    target: str = ""
    """'module:Class', to load it in a worker process."""
    settings: dict = field(default_factory=dict)
    version: str = "0.1.0"
    description: str = ""
    permissions: frozenset[str] = frozenset()
    confirm_actions: dict[str, str] = field(default_factory=dict)
    """Action -> @on_confirm handler name."""
    deny_actions: dict[str, str] = field(default_factory=dict)
    """Action -> @on_deny handler name."""
    package_dir: Path | None = None
    """The skill's top-level package folder: the only code of it its sandbox can read."""


@dataclass
class SkillProblem:
    name: str
    source: str
    error: str


def check_settings(name: str, declared: dict, given: dict) -> dict:
    """config.yml's `skills.NAME` against the manifest's settings: unknown keys and wrong types stop here."""
    for key, value in (given or {}).items():
        if key not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise SkillError(f"config.yml: skills.{name}.{key}: unknown setting (this skill has: {known})")
        default = declared[key]
        if default is not None and value is not None and not _same_kind(default, value):
            raise SkillError(
                f"config.yml: skills.{name}.{key}: expected {type(default).__name__}, got {type(value).__name__}"
            )
    return dict(given or {})


def _same_kind(default: object, value: object) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def _validate(found: ManifestFile, entry: str, source: str) -> Path | None:
    manifest = found.manifest
    if SDK_VERSION not in manifest.sdk_versions:
        raise SkillError(
            f"skill '{manifest.name}' supports SDK versions {manifest.sdk_versions}, this assistant has SDK {SDK_VERSION}"
        )
    unknown = set(manifest.permissions) - set(PERMISSIONS)
    if unknown:
        raise SkillError(f"skill '{manifest.name}' asks for unknown permissions: {', '.join(sorted(unknown))}")
    if not manifest.intents:
        raise SkillError(f"skill '{manifest.name}' ({source}) declares no intents in {found.path}")
    if not manifest.nlu:
        return None
    nlu = found.path.parent / manifest.nlu
    if not nlu.is_file() or found.path.parent.resolve() not in nlu.resolve().parents:
        raise SkillError(f"skill '{manifest.name}': its NLU file {nlu} does not exist in its package")
    return nlu


def _load_builtin(ep: EntryPoint, found: ManifestFile, settings: dict) -> tuple[type[Skill], Skill]:
    """Built-ins are the assistant's own code: imported here, and held to their manifest like any skill."""
    cls = ep.load()
    problem = mismatch(cls, found.manifest.model_dump())
    if problem:
        raise SkillError(f"built-in skill '{ep.name}': {problem}")
    try:
        parsed: BaseModel = cls.Settings.model_validate(settings or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise SkillError(f"config.yml: skills.{cls.name}.{key}: {err['msg']}") from None
    return cls, cls(parsed)


def discover(
    settings: dict[str, dict] | None = None, entries: list[EntryPoint] | None = None
) -> tuple[list[LoadedSkill], list[SkillProblem]]:
    """Every skill installed under the entry-point group; broken ones are reported by name, not fatal."""
    settings = settings or {}
    found = list(entries if entries is not None else installed_entries())
    manifests: dict[int, ManifestFile | SkillError] = {}
    for ep in found:
        try:
            manifests[id(ep)] = read_manifest(ep)
        except SkillError as exc:
            manifests[id(ep)] = exc

    # the check reads the core's file list: once per entry point
    builtins = {
        id(ep): isinstance(manifests[id(ep)], ManifestFile) and is_builtin(ep, manifests[id(ep)].path) for ep in found
    }

    def builtin_of(ep: EntryPoint) -> bool:
        return builtins[id(ep)]

    # built-ins first, so a third-party skill can never take a built-in's name or intents
    found.sort(key=lambda ep: (not builtin_of(ep), ep.name))
    loaded: list[LoadedSkill] = []
    problems: list[SkillProblem] = []
    builtin_intents: set[str] = set()
    by_name: dict[str, LoadedSkill] = {}
    for ep in found:
        source = ep.dist.name if ep.dist else "?"
        builtin = builtin_of(ep)
        try:
            manifest_file = manifests[id(ep)]
            if isinstance(manifest_file, SkillError):
                raise manifest_file
            manifest = manifest_file.manifest
            nlu = _validate(manifest_file, ep.name, source)
            owner = by_name.get(manifest.name)
            if owner is not None:
                kind = "a built-in skill" if owner.builtin else f"the skill from {owner.source}"
                raise SkillError(f"skill '{manifest.name}' from {source} is refused: the name belongs to {kind}")
            # checked for every version at every discovery, not only at enable: an upgrade that asks
            # for no more permissions once kept its consent and could claim the core's yes
            stolen = sorted(set(manifest.intents) & (builtin_intents | CORE_INTENTS)) if not builtin else []
            if stolen:
                raise SkillError(
                    f"skill '{manifest.name}' from {source} is refused: it handles the built-in intent(s) {', '.join(stolen)}"
                )
            own = check_settings(manifest.name, manifest.settings, settings.get(manifest.name, {}))
            cls, skill = _load_builtin(ep, manifest_file, own) if builtin else (None, None)
        except SkillError as exc:
            problems.append(SkillProblem(ep.name, source, str(exc)))
            log.error("%s", exc)
            continue
        except Exception as exc:  # a built-in that fails to import: the assistant's own bug, reported
            message = f"skill '{ep.name}' ({source}) failed to load: {type(exc).__name__}: {exc}"
            problems.append(SkillProblem(ep.name, source, message))
            log.error("%s", message)
            continue
        if builtin:
            builtin_intents |= set(manifest.intents)
        skill_entry = LoadedSkill(
            manifest.name,
            skill,
            cls,
            source,
            builtin,
            nlu,
            dict(manifest.intents),
            ep.value,
            own,
            version=manifest.version,
            description=manifest.description,
            permissions=frozenset(manifest.permissions),
            confirm_actions=dict(manifest.confirm),
            deny_actions=dict(manifest.deny),
            package_dir=manifest_file.package_dir,
        )
        by_name[manifest.name] = skill_entry
        loaded.append(skill_entry)
    loaded.sort(key=lambda s: s.name)
    return loaded, problems


@functools.cache
def third_party_folders() -> tuple[Path, ...]:
    """Every installed third-party skill's package folder (from metadata only), for sandboxes to cover up.

    Read once per process: a skill installed later is found when the assistant next starts anyway."""
    folders = []
    for ep in installed_entries():
        try:
            found = read_manifest(ep)
        except SkillError:
            continue
        if not is_builtin(ep, found.path):
            folders.append(found.package_dir)
    return tuple(sorted(set(folders)))
