"""`assistant skills ...`: list, enable, disable, scaffold skills and read what they did."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from assistant.cli.common import _config, _emit
from assistant.errors import AssistantError

log = logging.getLogger("assistant")


def cmd_skills_list(args: argparse.Namespace) -> int:
    from assistant.skills import consent
    from assistant.skills.registry import discover
    from assistant.skills.sandbox import bwrap_available
    from assistant.skills.state import SkillStates
    from assistant.store import Database

    config = _config(args)
    states = SkillStates(Database(config.data_dir, config.store.url))
    skills, problems = discover(config.skills)
    rows = []
    for s in skills:
        agreed = consent.check(states, s.name, s.version, s.permissions, s.builtin)
        enabled = agreed.allowed
        rows.append({
            "name": s.name, "version": s.version, "source": s.source, "builtin": s.builtin,
            "intents": sorted(s.intents), "permissions": sorted(s.permissions), "enabled": enabled,
            "status": agreed.status,
        })  # fmt: skip
    for p in problems:
        rows.append({"name": p.name, "version": None, "source": p.source, "builtin": False, "intents": [],
                     "permissions": [], "enabled": False, "status": p.error})  # fmt: skip
    missing = bwrap_available()
    unsandboxed = "none (skills_unsandboxed: true)" if config.skills_unsandboxed else "none (refused)"
    sandbox = "bubblewrap" if missing is None else unsandboxed
    if args.json:
        _emit({"skills": rows, "sandbox": sandbox})
        return 0
    for r in rows:
        mark = "on " if r["enabled"] else "off"
        print(f"[{mark}] {r['name']} {r['version'] or ''} ({r['source']})")
        print(f"      intents: {', '.join(r['intents']) or '-'}")
        print(f"      permissions: {', '.join(r['permissions']) or 'none'}")
        if r["status"] != "ok":
            print(f"      status: {r['status']}")
    print(f"Third-party skills run in: {sandbox}" + (f" ({missing})" if missing else ""))
    return 0


def cmd_skills_enable(args: argparse.Namespace) -> int:
    from assistant.skills import consent
    from assistant.skills.registry import discover
    from assistant.skills.state import SkillStates
    from assistant.store import Database

    config = _config(args)
    states = SkillStates(Database(config.data_dir, config.store.url))
    skills, problems = discover(config.skills)
    skill = next((s for s in skills if s.name == args.name), None)
    if skill is None:
        broken = next((p for p in problems if p.name == args.name), None)
        raise AssistantError(
            broken.error if broken else f"no skill named '{args.name}' is installed (see: assistant skills list)"
        )
    if not args.enable:
        states.set(skill.name, False, "disabled by you")
        print(f"Skill '{skill.name}' is disabled.")
        return 0
    ask = consent.request(states, skill, skills)
    print(f"Skill '{skill.name}' {ask.version} from {skill.source} asks to:")
    for words, new in ask.asks:
        print(f"  - {'(new) ' if new else ''}{words}")
    if not ask.asks:
        print("  - nothing: it needs no permissions")
    if ask.agreed_version is not None:
        print(f"You agreed to less for version {ask.agreed_version}; it stays off until you agree to this.")
    if not args.yes:
        if not sys.stdin.isatty():
            raise AssistantError("enabling a skill needs your agreement: run it in a terminal, or add --yes")
        if input("Enable it? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Not enabled.")
            return 1
    consent.agree(states, skill)
    print(f"Skill '{skill.name}' is enabled; its phrases are learned the next time the assistant starts.")
    if not skill.builtin:
        print(f"Everything it reads or does is logged: assistant skills log {skill.name}")
    return 0


def cmd_skills_log(args: argparse.Namespace) -> int:
    from assistant.skills.access_log import AccessLog
    from assistant.store import Database

    config = _config(args)
    db = Database(config.data_dir, config.store.url)
    try:
        entries = AccessLog(db).entries(args.name, limit=args.limit)
    finally:
        db.close()
    if args.json:
        _emit({"entries": [e.as_dict() for e in entries]})
        return 0
    for e in entries:
        print(f"{e.at.astimezone():%Y-%m-%d %H:%M:%S}  {e.skill:<16} {e.capability}.{e.method:<16} {e.summary}")
    if not entries:
        print(f"No calls by skill '{args.name}' are logged." if args.name else "No skill calls are logged.")
    return 0


def cmd_skills_new(args: argparse.Namespace) -> int:
    from assistant.skills.scaffold import scaffold

    path = scaffold(args.name, Path(args.dir or "."))
    print(f"Created {path}. Next: pip install -e {path} && assistant skills enable {args.name}")
    return 0
