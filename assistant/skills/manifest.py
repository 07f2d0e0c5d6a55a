"""A skill package's `skill.toml`: what the assistant knows about a skill before running any of its code."""

from __future__ import annotations

import importlib.util
import tomllib
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.errors import SkillError

MANIFEST = "skill.toml"
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,39}$"
SettingValue = str | int | float | bool | None


class SkillManifest(BaseModel):
    """One skill's table in `skill.toml` (``[skills.<entry point name>]``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    version: str = Field("0.1.0", max_length=40)
    description: str = Field("", max_length=200)
    sdk_versions: list[int] = [1]
    permissions: list[str] = []
    nlu: str | Literal[False] = "nlu.yml"
    """Rasa-format training data, relative to the manifest's folder; false for none."""
    intents: dict[str, str] = {}
    """Intent -> the handler method's name."""
    confirm: dict[str, str] = {}
    """Action -> the ``@on_confirm`` handler's name."""
    deny: dict[str, str] = {}
    """Action -> the ``@on_deny`` handler's name."""
    settings: dict[str, SettingValue] = {}
    """Each setting the skill reads from config.yml, with its default."""


@dataclass(frozen=True)
class ManifestFile:
    path: Path
    package_dir: Path
    """The top-level package's folder: what the skill's sandbox may read."""
    manifest: SkillManifest


def _module_files(ep: EntryPoint) -> tuple[list[Path], Path | None]:
    """Candidate manifest paths for the entry point's module, and its top-level package's location.

    Reads the distribution's file list; for an editable install (no file list) asks the import
    system where the *top-level* package is: `find_spec` of a top-level name runs no code of it,
    while `find_spec` of a submodule would import its parent package.
    """
    module = ep.value.partition(":")[0].strip()
    parts = module.split(".")
    wanted = [("/".join(parts) + "/" + MANIFEST), ("/".join(parts[:-1] + [MANIFEST]) if len(parts) > 1 else None)]
    dist = ep.dist
    for file in (dist.files or []) if dist is not None else []:
        if str(file).replace("\\", "/") in wanted:
            path = Path(str(dist.locate_file(file)))
            return [path], Path(str(dist.locate_file(parts[0])))
    spec = importlib.util.find_spec(parts[0])
    if spec is None:
        return [], None
    if spec.submodule_search_locations:
        top = Path(list(spec.submodule_search_locations)[0])
        folder = top.joinpath(*parts[1:])
        return [folder / MANIFEST, folder.parent / MANIFEST], top
    return [], None  # a single-file module has no folder of its own for a manifest


def read_manifest(ep: EntryPoint) -> ManifestFile:
    """The entry point's manifest, read as data; raises SkillError naming the skill and file."""
    source = ep.dist.name if ep.dist else "?"
    candidates, top = _module_files(ep)
    path = next((p for p in candidates if p.is_file()), None)
    if path is None or top is None:
        raise SkillError(f"skill '{ep.name}' ({source}) ships no {MANIFEST} beside its module {ep.value.split(':')[0]}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SkillError(f"{path}: unreadable skill manifest ({exc})") from None
    table = raw.get("skills", {}).get(ep.name) if isinstance(raw.get("skills"), dict) else None
    if not isinstance(table, dict):
        raise SkillError(f"{path}: no [skills.{ep.name}] table for the entry point '{ep.name}'")
    try:
        manifest = SkillManifest.model_validate({"name": ep.name, **table})
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise SkillError(f"{path}: skills.{ep.name}.{key}: {err['msg']}") from None
    return ManifestFile(path, top, manifest)


def mismatch(cls: object, manifest: SkillManifest) -> str | None:
    """Why the class does not match its manifest (name, permissions, handlers), or None if it does."""
    from assistant.sdk import Skill

    if not (isinstance(cls, type) and issubclass(cls, Skill)):
        return f"{cls!r} is not an assistant.sdk.Skill subclass"
    checks = [
        ("name", cls.name, manifest.name),
        ("permissions", sorted(cls.permissions), sorted(manifest.permissions)),
        ("intents", cls.intent_handlers(), manifest.intents),
        ("confirm", cls.confirm_handlers("confirm"), manifest.confirm),
        ("deny", cls.confirm_handlers("deny"), manifest.deny),
    ]
    for key, in_class, in_manifest in checks:
        if in_class != in_manifest:
            return f"its class says {key} = {in_class!r} but its {MANIFEST} says {in_manifest!r}"
    return None
