"""The `assistant` command: chat, NLU tools, orders, catalogue import."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from assistant.config import Config, load_config
from assistant.errors import AssistantError

log = logging.getLogger("assistant")


def _config(args: argparse.Namespace) -> Config:
    config = load_config(getattr(args, "config", None))
    if getattr(args, "data_dir", None):
        config.data_dir = Path(args.data_dir)
    return config


def _app(args: argparse.Namespace):
    from assistant.app import App

    config = _config(args)
    return App.build(config, data_dir=config.data_dir, engine=getattr(args, "engine", None))


def _texts(args: argparse.Namespace):
    if getattr(args, "texts", None):
        yield from args.texts
        return
    for line in sys.stdin:
        yield line.rstrip("\n")


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


# -- commands ---------------------------------------------------------------------------------
def cmd_chat(args: argparse.Namespace) -> int:
    interactive = sys.stdin.isatty() and not args.json
    if interactive:
        print("Starting the assistant (the first start trains the language model)...", file=sys.stderr)
    app = _app(args)
    conversation = app.conversation(user=getattr(args, "user", None))
    try:
        if interactive:
            print("Type what you would say; Ctrl-D or 'goodbye' to leave.\n")
            while True:
                try:
                    text = input("you> ")
                except (EOFError, KeyboardInterrupt):
                    print()
                    break
                turn = conversation.handle(text)
                print(f"assistant> {turn.reply}\n")
                if turn.end:
                    break
            return 0
        for text in _texts(args):
            turn = conversation.handle(text)
            if args.json:
                _emit(turn.to_json())
            else:
                print(turn.reply, flush=True)
    finally:
        app.close()
    return 0


def cmd_nlu_train(args: argparse.Namespace) -> int:
    with _app(args) as app:
        print(f"NLU engine '{app.engine_name}' is trained ({len(app.training_data().examples)} examples).")
    return 0


def cmd_nlu_parse(args: argparse.Namespace) -> int:
    app = _app(args)
    try:
        for text in _texts(args):
            parse = app.parse(text)
            if args.json:
                _emit(parse.to_rasa())
            else:
                ents = ", ".join(f"{e.entity}{'#' + e.role if e.role else ''}={e.value!r}" for e in parse.entities)
                print(f"{parse.intent.name} ({parse.intent.confidence:.2f}) {ents}".rstrip())
    finally:
        app.close()
    return 0


def cmd_nlu_evaluate(args: argparse.Namespace) -> int:
    from assistant.nlu.data import load_file
    from assistant.nlu.evaluate import evaluate

    if args.cross_validation:
        return cmd_nlu_cross_validate(args)
    if not args.data:
        raise AssistantError("nlu evaluate needs --data TEST.yml, or --cross-validation K")

    data = load_file(Path(args.data[0]))
    with _app(args) as app:
        report = evaluate(app.parse, data)
    if args.json:
        _emit({"engine": app.engine_name, "data": str(args.data[0]), **report.as_dict()})
    else:
        print(f"engine {app.engine_name} on {args.data[0]}")
        print(report.table())
    return 0


def _nlu_training_data(args: argparse.Namespace, check_regexes: bool = True):
    """The files given with --data, or the project's own: core data and every installed skill's nlu.yml."""
    from assistant.nlu import core_data_files
    from assistant.nlu.data import expand_paths, load_files
    from assistant.skills.registry import discover

    if args.data:
        return load_files(expand_paths([Path(p) for p in args.data]), check_regexes)
    config = _config(args)
    skills, _ = discover()
    files = core_data_files() + [s.nlu_file for s in skills if s.nlu_file] + list(config.nlu.extra_data)
    return load_files(files, check_regexes)


def cmd_nlu_validate(args: argparse.Namespace) -> int:
    from assistant.nlu.validate import domain_entities, validate

    data = _nlu_training_data(args, check_regexes=False)
    findings = validate(data, domain_entities(Path(args.domain)) if args.domain else None)
    for finding in findings:
        print(finding, file=sys.stderr if finding.severity == "error" else sys.stdout)
    errors = sum(f.severity == "error" for f in findings)
    print(
        f"{len(data.examples)} examples, {len(data.intents)} intents, {len(data.files)} file(s): "
        f"{errors} error(s), {len(findings) - errors} warning(s)"
    )
    return 1 if errors else 0


def cmd_nlu_cross_validate(args: argparse.Namespace) -> int:
    from assistant.nlu import create_engine
    from assistant.nlu.crossval import cross_validate
    from assistant.nlu.evaluate import write_reports

    config = _config(args)
    engine = args.engine or config.nlu.engine
    data = _nlu_training_data(args)
    result = cross_validate(
        data,
        lambda: create_engine(engine, config.nlu),
        args.cross_validation,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    written = write_reports(result.predictions, Path(args.report), engine) if args.report else []
    if args.json:
        _emit(
            {"engine": engine, "folds": result.folds, "train_seconds": result.train_seconds, **result.report.as_dict()}
        )
    else:
        print(f"engine {engine}, {result.folds}-fold cross-validation on {len(data.examples)} examples")
        print(result.report.table(per_intent=True))
        for path in written:
            print(f"wrote {path}")
    return 0


def cmd_nlu_export(args: argparse.Namespace) -> int:
    from assistant.nlu.rasa import export_project

    with _app(args) as app:
        export_project(app.training_data(), Path(args.dir), app.config.nlu.rasa.pipeline)
    print(f"Wrote a Rasa project to {args.dir}: run `rasa train nlu` and `rasa shell nlu` there.")
    return 0


def cmd_orders(args: argparse.Namespace) -> int:
    from assistant.store import Database, Orders, ensure_demo

    config = _config(args)
    db = Database(config.data_dir, config.store.url)
    ensure_demo(db, config.user)  # a fresh data directory shows the history a chat there would
    orders = Orders(db, config.user).history()
    if args.json:
        print(json.dumps([o.as_dict() for o in orders], ensure_ascii=False, indent=None))
    else:
        for o in orders:
            print(
                f"{o.id}  {o.placed_at:%Y-%m-%d %H:%M}  {o.status:<9}  {o.items:>3} items  {o.total_pence / 100:>8.2f}"
            )
        if not orders:
            print("No orders yet.")
    return 0


def cmd_catalog_import(args: argparse.Namespace) -> int:
    from assistant.store import Catalog, Database, ensure_demo

    config = _config(args)
    db = Database(config.data_dir, config.store.url)
    ensure_demo(db, config.user)
    report = Catalog(db).import_file(Path(args.file))
    for problem in report.problems:
        print(f"skipped {problem}", file=sys.stderr)
    if report.updated_skus:
        shown = ", ".join(report.updated_skus[:10]) + (" ..." if report.updated > 10 else "")
        print(f"replaced {report.updated} products already in the shop (same SKU): {shown}", file=sys.stderr)
    print(
        f"Imported {report.imported} products from {args.file}: {report.created} new, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.skipped} skipped."
    )
    if report.price_changes:
        print(f"{report.price_changes} prices changed; {report.price_news} price watches will be told of it.")
    if not report.imported:
        print(f"warning: {args.file}: no products imported", file=sys.stderr)
    return 0 if report.imported else 1


def cmd_store_migrate(args: argparse.Namespace) -> int:
    from assistant.store import Database

    config = _config(args)
    db = Database(config.data_dir, args.url or config.store.url)  # opening brings the schema up to date
    print(f"{db.where}: schema version {db.schema_version()} ({db.engine}), up to date.")
    return 0


def cmd_store_copy(args: argparse.Namespace) -> int:
    from assistant.store import Database
    from assistant.store.copy import copy_store

    config = _config(args)
    source, target = Database(config.data_dir, args.source), Database(config.data_dir, args.target)
    if source.url == target.url:
        raise AssistantError(f"{source.where}: the source and the target are the same store")
    report = copy_store(source, target)
    busiest = ", ".join(f"{n} {t}" for t, n in sorted(report.rows.items(), key=lambda kv: -kv[1])[:4] if n)
    print(f"Copied {report.total} rows from {source.where} to {target.where} ({busiest}).")
    return 0


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
    from assistant.nlu import load_training_data
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
    version, permissions = skill.version, frozenset(skill.permissions)
    if not skill.builtin:
        refused = consent.refusal(
            skill.name, skill.source, permissions, intents=skill.intents, nlu_file=skill.nlu_file,
            builtins={s.name for s in skills if s.builtin},
            builtin_data=load_training_data([s.nlu_file for s in skills if s.builtin and s.nlu_file]),
        )  # fmt: skip
        if refused:
            raise AssistantError(refused)
    grant = states.granted(skill.name)
    new = permissions - grant.permissions if grant else frozenset()
    print(f"Skill '{skill.name}' {version} from {skill.source} asks to:")
    for permission in sorted(permissions):
        print(f"  - {'(new) ' if permission in new else ''}{consent.plain_words(permission)}")
    if not permissions:
        print("  - nothing: it needs no permissions")
    if new:
        print(f"You agreed to less for version {grant.version}; it stays off until you agree to this.")
    if not args.yes:
        if not sys.stdin.isatty():
            raise AssistantError("enabling a skill needs your agreement: run it in a terminal, or add --yes")
        if input("Enable it? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Not enabled.")
            return 1
    states.grant(skill.name, version, permissions)
    print(f"Skill '{skill.name}' is enabled; its phrases are learned the next time the assistant starts.")
    if not skill.builtin:
        print(f"Everything it reads or does is logged: assistant skills log {skill.name}")
    return 0


def cmd_skills_log(args: argparse.Namespace) -> int:
    from assistant.skills.access_log import AccessLog

    log = AccessLog(_data_dir(args))
    try:
        entries = log.entries(args.name, limit=args.limit)
    finally:
        log.close()
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


def cmd_listen(args: argparse.Namespace) -> int:
    from assistant.voice import Voice, run_live, write_replies

    app = _app(args)
    if args.stt:
        app.config.voice.stt.engine = args.stt
    try:
        voice = Voice(app, app.conversation(user=getattr(args, "user", None)))
        if args.wav is None:
            from assistant.audio.devices import check_input, has_microphone

            if not has_microphone():
                raise AssistantError(
                    "no microphone found: use 'assistant chat' to type, or 'assistant listen --wav FILE'"
                )
            check_input(app.config.voice.audio.input_device, 16000)
            out = sys.stderr if args.json else sys.stdout
            try:
                run_live(
                    voice,
                    max_turns=args.max_turns,
                    show=lambda line: print(line, file=out, flush=True),
                    emit=_emit if args.json else None,
                )
            except KeyboardInterrupt:
                print(file=sys.stderr)
            return 0
        turns = []
        for spoken in voice.from_wav(Path(args.wav), speak=bool(args.reply_wav)):
            if args.reply_wav:
                turns.append(spoken)
            if args.json:
                _emit(spoken.to_json())
            else:
                print(f"heard: {spoken.transcript}")
                if spoken.turn:
                    print(f"  ({spoken.turn.intent}) {spoken.turn.reply}")
        if args.reply_wav:
            write_replies(turns, Path(args.reply_wav))
    finally:
        app.close()
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    from assistant.audio.wav import write_wav
    from assistant.tts import create_synthesizer

    config = _config(args)
    audio, rate = create_synthesizer(config.voice.tts).synthesize(" ".join(args.text))
    if args.out:
        write_wav(Path(args.out), audio, rate)
        print(f"Wrote {args.out} ({len(audio) / rate:.1f} s)")
        return 0
    from assistant.audio.devices import _sd

    sd = _sd()
    try:
        sd.play(audio, rate, device=config.voice.audio.output_device)
        sd.wait()
    except Exception as exc:  # noqa: BLE001 - PortAudio's errors for a missing device vary
        raise AssistantError(f"cannot play sound ({exc}); use --out FILE to write a WAV instead") from exc
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from assistant.audio.devices import list_devices

    devices = list_devices()
    if not devices:
        print("No sound devices found.")
    for d in devices:
        kind = ", ".join(k for k, n in (("input", d["inputs"]), ("output", d["outputs"])) if n)
        print(f"{d['index']:>3}  {d['name']}  ({kind}, {d['default_rate']:.0f} Hz)")
    return 0


def _data_dir(args: argparse.Namespace) -> Path:
    from assistant.store.db import Database

    config = _config(args)
    return Database(config.data_dir, config.store.url).data_dir


def cmd_models_install(args: argparse.Namespace) -> int:
    from assistant.stt.models import install

    folder = install(args.source, _data_dir(args), progress=not args.quiet)
    print(f"Installed {folder.name} in {folder}.")
    print("It is used when voice.stt.engine is vosk (an English model also when the engine is not set).")
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    from assistant.stt.models import installed, model_list

    if args.available:
        for m in model_list():
            size = f"{m.size / 1e6:.0f} MB" if m.size else "?"
            print(f"{m.name}  ({m.lang}, {size})")
        return 0
    models = installed(_data_dir(args))
    if not models:
        print("No Vosk models installed. See them with: assistant models list --available")
    for name, folder, lang in models:
        print(f"{name}  ({lang})  {folder}")
    return 0


def _household(args: argparse.Namespace):
    from assistant.household import Household
    from assistant.store import Database, ensure_demo

    config = _config(args)
    db = Database(config.data_dir, config.store.url)
    ensure_demo(db, config.user)
    return Household(db, config.user)


def cmd_users_add(args: argparse.Namespace) -> int:
    member = _household(args).add(args.name)
    print(f"Added {member.name}. Their basket, orders and recommendations are their own.")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    household = _household(args)
    rows = [{"name": m.name, "purchase_code": m.has_code} for m in household.members()]
    if args.json:
        _emit({"users": rows})
        return 0
    for r in rows:
        print(f"{r['name']}" + ("  (purchase code set)" if r["purchase_code"] else ""))
    return 0


def cmd_users_set_code(args: argparse.Namespace) -> int:
    import getpass

    household = _household(args)
    code = args.code
    if args.clear:
        code = None
    elif code is None:
        if not sys.stdin.isatty():
            raise AssistantError("give the code as an argument, or run this in a terminal to type it")
        code = getpass.getpass(f"Purchase code for {args.name} (4 to 8 digits): ")
    household.set_code(args.name, code)
    print(
        f"Purchase code for {args.name} " + ("removed." if code is None else "set: I'll ask for it before each order.")
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from assistant.hub.limits import Limits
    from assistant.hub.server import check_bind, serve

    if not args.certfile:  # refuse an unsafe address before the slow start, not after it
        check_bind(args.host, args.certfile, args.keyfile, paired=1)
    print("Starting the hub (the first start trains the language model)...", file=sys.stderr)
    app = _app(args)
    try:
        serve(
            app,
            args.host,
            args.port,
            certfile=args.certfile,
            keyfile=args.keyfile,
            browser_user=args.user,
            limits=Limits(
                rate_per_s=args.rate_limit,
                burst=max(40, int(args.rate_limit * 2)),
                request_s=args.request_timeout,
                connections_per_address=args.connections_per_address,
            ),
            forwarded_allow_ips=args.forwarded_allow_ips,
            announce=lambda line: print(line, flush=True),
        )
    finally:
        app.close()
    return 0


def cmd_wyoming(args: argparse.Namespace) -> int:
    from assistant.wyoming.clients import ClientDoor, address
    from assistant.wyoming.info import SERVICES
    from assistant.wyoming.server import check_bind, parse_uri, serve

    scheme, host, _ = parse_uri(args.uri)  # a bad address is reported before the model loads
    services = tuple(s.strip() for s in args.services.split(",") if s.strip())
    unknown = sorted(set(services) - set(SERVICES))
    if unknown:
        raise AssistantError(f"unknown Wyoming service(s) {', '.join(unknown)}; choose from: {', '.join(SERVICES)}")
    allow = frozenset(address(a) for a in args.allow)
    if scheme == "tcp":
        check_bind(host or "", ClientDoor(_wyoming_clients(args), allow))
    print("Starting the assistant's Wyoming services (loading the speech models)...", file=sys.stderr)
    app = _app(args)
    try:

        def ready(address: str) -> None:
            print(f"Wyoming services ({', '.join(services)}) on {address}", file=sys.stderr, flush=True)

        serve(app, args.uri, services, satellites=not args.no_satellites, ready=ready, audio_idle_s=args.audio_timeout,
              allow=allow)  # fmt: skip
    finally:
        app.close()
    return 0


def _pairing(args: argparse.Namespace):
    from assistant.hub.pairing import Pairing

    household = _household(args)
    return Pairing(household.db, household)


def cmd_devices_pair(args: argparse.Namespace) -> int:
    pairing = _pairing(args)
    owner = args.user or ("the household" if args.household else None)
    user = None if args.household else (args.user or _config(args).user)
    if args.code:
        code = pairing.pairing_code(args.name, user)
        print(f"One-time pairing code for '{args.name}' (10 minutes): {code}")
        print(f"Open http://HUB:PORT/#pair={code} on the device, or type the code into the page.")
    else:
        token = pairing.pair(args.name, user)
        print(f"Token for '{args.name}' (shown once; send it as 'Authorization: Bearer ...'): {token}")
    print(f"'{args.name}' speaks for {owner or user}.")
    return 0


def cmd_devices_list(args: argparse.Namespace) -> int:
    import datetime as dt

    devices = _pairing(args).devices()
    if args.json:
        _emit(
            {
                "devices": [
                    {"name": d.name, "user": d.user, "created": d.created, "last_used": d.last_used} for d in devices
                ]
            }
        )
        return 0
    for d in devices:
        used = dt.datetime.fromtimestamp(d.last_used).strftime("%Y-%m-%d %H:%M") if d.last_used else "never"
        print(f"{d.name}  ({d.user or 'household'})  last used: {used}")
    if not devices:
        print("No paired devices. Pair one with: assistant devices pair NAME")
    return 0


def cmd_devices_revoke(args: argparse.Namespace) -> int:
    _pairing(args).revoke(args.name)
    print(f"'{args.name}' can no longer use the hub.")
    return 0


def _wyoming_clients(args: argparse.Namespace):
    from assistant.wyoming.clients import WyomingClients

    household = _household(args)
    return WyomingClients(household.db, household)


def cmd_wyoming_clients_add(args: argparse.Namespace) -> int:
    client = _wyoming_clients(args).add(args.name, args.address, args.user)
    owner = f"speaks for {client.user}" if client.user else "a household door: orders need the member's purchase code"
    print(
        f"Allowed Wyoming client {client.name} at {client.address} ({owner}). A running 'assistant wyoming' lets it in now."
    )
    return 0


def _list_registered(args: argparse.Namespace, key: str, entries: list, where: str, none: str) -> int:
    """Satellites and Wyoming clients: a name, where it is (``where`` names the field), whom it speaks for."""
    if args.json:
        _emit({key: [e.to_json() for e in entries]})
        return 0
    for e in entries:
        print(f"{e.name}  {getattr(e, where)}  ({e.user or 'household'})")
    if not entries:
        print(none)
    return 0


def cmd_wyoming_clients_list(args: argparse.Namespace) -> int:
    clients = _wyoming_clients(args).list()
    none = "No Wyoming clients allowed. Allow Home Assistant with: assistant wyoming clients add ha ADDRESS"
    return _list_registered(args, "clients", clients, "address", none)


def cmd_wyoming_clients_remove(args: argparse.Namespace) -> int:
    _wyoming_clients(args).remove(args.name)
    print(f"Removed Wyoming client {args.name}; it is refused from its next connection.")
    return 0


def _satellites(args: argparse.Namespace):
    from assistant.wyoming.satellites import Satellites

    household = _household(args)
    return Satellites(household.db, household)


def cmd_satellites_add(args: argparse.Namespace) -> int:
    entry = _satellites(args).add(args.name, args.uri, args.user)
    owner = f"speaks for {entry.user}" if entry.user else "belongs to the household: it asks who's ordering"
    print(f"Added satellite {entry.name} at {entry.uri} ({owner}). A running 'assistant wyoming' picks it up.")
    return 0


def cmd_satellites_list(args: argparse.Namespace) -> int:
    entries = _satellites(args).list()
    none = "No satellites. Add one with: assistant satellites add NAME tcp://HOST:10700"
    return _list_registered(args, "satellites", entries, "uri", none)


def cmd_satellites_remove(args: argparse.Namespace) -> int:
    _satellites(args).remove(args.name)
    print(f"Removed satellite {args.name}.")
    return 0


# -- wiring -----------------------------------------------------------------------------------
def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}': give a whole number, 1 or more")
    return int(text)


def _proxies(text: str) -> str:
    import ipaddress

    for item in (part.strip() for part in text.split(",")):
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{item}' is not a proxy's IP address or network") from None
    return text


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"'{text}': give more than 0 seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        help="where the database and models live (default: the user data directory, or $ASSISTANT_DATA_DIR)",
    )
    common.add_argument(
        "--config", help="config file (default: $ASSISTANT_CONFIG, else config.yml in the assistant's own folder)"
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    engine = argparse.ArgumentParser(add_help=False)
    engine.add_argument("--engine", help="NLU engine: embedded or rasa (default: from config.yml)")

    parser = argparse.ArgumentParser(prog="assistant", description="An offline, private shopping voice assistant.")
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", parents=[common, engine], help="talk to the assistant by typing")
    chat.add_argument("--json", action="store_true", help="one JSON object per turn")
    chat.add_argument("--user", help="who is speaking (a household member; default: config.yml's user)")
    chat.set_defaults(func=cmd_chat)

    nlu = sub.add_parser("nlu", help="train, test and export the language model").add_subparsers(
        dest="nlu_command", required=True
    )
    p = nlu.add_parser("train", parents=[common, engine], help="train (or load the cached) model")
    p.set_defaults(func=cmd_nlu_train)
    p = nlu.add_parser("parse", parents=[common, engine], help="parse texts (arguments, or one per stdin line)")
    p.add_argument("texts", nargs="*")
    p.add_argument("--json", action="store_true", help="Rasa /model/parse shaped output, one per line")
    p.set_defaults(func=cmd_nlu_parse)
    p = nlu.add_parser("evaluate", parents=[common, engine], help="score a Rasa-format test file, or cross-validate")
    p.add_argument("--data", nargs="+", help="Rasa-format YAML test file (with --cross-validation: the data to split)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--cross-validation", type=int, metavar="K", help="K-fold cross-validation, as `rasa test nlu`")
    p.add_argument("--report", metavar="DIR", help="write Rasa-style intent_report.json and entity reports here")
    p.set_defaults(func=cmd_nlu_evaluate)
    p = nlu.add_parser("validate", parents=[common], help="check training data as `rasa data validate` does")
    p.add_argument("--data", nargs="+", help="files or folders (default: the core data and every skill's nlu.yml)")
    p.add_argument("--domain", help="a Rasa domain.yml whose entities the data must use")
    p.set_defaults(func=cmd_nlu_validate)
    p = nlu.add_parser("export", parents=[common], help="write the merged data as a Rasa project")
    p.add_argument("dir")
    p.set_defaults(func=cmd_nlu_export)

    p = sub.add_parser("orders", parents=[common], help="list the orders placed")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_orders)

    catalog = sub.add_parser("catalog", help="manage the product catalogue").add_subparsers(
        dest="catalog_command", required=True
    )
    p = catalog.add_parser("import", parents=[common], help="load products from a CSV or JSON file")
    p.add_argument("file")
    p.set_defaults(func=cmd_catalog_import)
    p = sub.add_parser("listen", parents=[common, engine], help="talk to the assistant: the microphone, or a WAV file")
    p.add_argument("--wav", help="take the utterances in this WAV file as if spoken")
    p.add_argument("--json", action="store_true", help="one JSON object per utterance (or per live turn)")
    p.add_argument("--reply-wav", help="write the spoken replies to this WAV file")
    p.add_argument("--stt", help="speech engine: whisper, vosk or pocketsphinx (default: config.yml)")
    p.add_argument("--max-turns", type=int, help="stop listening after this many answered turns")
    p.add_argument("--user", help="who is speaking (a household member; default: config.yml's user)")
    p.set_defaults(func=cmd_listen)
    p = sub.add_parser("say", parents=[common], help="speak a text (or write it to a WAV file)")
    p.add_argument("text", nargs="+")
    p.add_argument("--out", help="write a WAV file instead of playing")
    p.set_defaults(func=cmd_say)
    p = sub.add_parser("devices", parents=[common], help="list sound devices; pair, list and revoke hub devices")
    p.set_defaults(func=cmd_devices)
    hub_devices = p.add_subparsers(dest="devices_command")
    d = hub_devices.add_parser("pair", parents=[common], help="let a device (phone, app, satellite) use the hub")
    d.add_argument("name")
    d.add_argument("--user", help="the household member it speaks for (default: config.yml's user)")
    d.add_argument("--household", action="store_true", help="a shared device: it asks who's ordering")
    d.add_argument("--code", action="store_true", help="print a one-time pairing code for the page instead")
    d.set_defaults(func=cmd_devices_pair)
    d = hub_devices.add_parser("list", parents=[common], help="paired devices")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=cmd_devices_list)
    d = hub_devices.add_parser("revoke", parents=[common], help="take a device's token away")
    d.add_argument("name")
    d.set_defaults(func=cmd_devices_revoke)
    p = sub.add_parser("serve", parents=[common, engine], help="run the hub: HTTP/WebSocket API and the page")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--certfile", help="TLS certificate (needed for any address but loopback)")
    p.add_argument("--keyfile", help="TLS private key")
    p.add_argument("--user", help="whom the one-time browser link speaks for (default: config.yml's user)")
    p.add_argument("--rate-limit", type=float, default=20.0, help="requests per second per device (default: 20)")
    p.add_argument(
        "--request-timeout", type=_positive, default=10.0, help="seconds a request may take to arrive (default: 10)"
    )
    p.add_argument(
        "--connections-per-address",
        type=_at_least_one,
        default=64,
        help="open connections one address may hold (default: 64)",
    )
    p.add_argument(
        "--forwarded-allow-ips",
        type=_proxies,
        metavar="ADDRESSES",
        help="believe X-Forwarded-For only from these proxies (comma-separated); default: from no one",
    )
    p.set_defaults(func=cmd_serve)
    store = sub.add_parser("store", help="the database: bring it up to date, copy it to another").add_subparsers(
        dest="store_command", required=True
    )
    p = store.add_parser("migrate", parents=[common], help="bring the store's schema up to date")
    p.add_argument("--url", help="the store (default: config.yml's store.url, else the data directory's file)")
    p.set_defaults(func=cmd_store_migrate)
    p = store.add_parser("copy", parents=[common], help="copy everything into a new, empty store")
    p.add_argument("source", help="sqlite:///PATH or postgresql://user:password@host:port/dbname")
    p.add_argument("target", help="the same forms; it must be empty")
    p.set_defaults(func=cmd_store_copy)
    models = sub.add_parser("models", help="install and list Vosk speech models").add_subparsers(
        dest="models_command", required=True
    )
    p = models.add_parser(
        "install", parents=[common], help="install a Vosk model by name (official list), URL or local archive"
    )
    p.add_argument("source", help="a model name such as vosk-model-small-en-us-0.15, an archive URL, or a path")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_models_install)
    p = models.add_parser("list", parents=[common], help="the installed Vosk models")
    p.add_argument("--available", action="store_true", help="the models in the official list instead")
    p.set_defaults(func=cmd_models_list)

    skills = sub.add_parser("skills", help="list, create, enable and disable skills").add_subparsers(
        dest="skills_command", required=True
    )
    p = skills.add_parser("list", parents=[common], help="installed skills with their permissions and status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_skills_list)
    p = skills.add_parser("enable", parents=[common], help="enable a skill after showing what it asks for")
    p.add_argument("name")
    p.add_argument("--yes", action="store_true", help="agree to its permissions without asking")
    p.set_defaults(func=cmd_skills_enable, enable=True)
    p = skills.add_parser("disable", parents=[common], help="switch a skill off")
    p.add_argument("name")
    p.set_defaults(func=cmd_skills_enable, enable=False, yes=True)
    p = skills.add_parser("log", parents=[common], help="what third-party skills read and did, newest first")
    p.add_argument("name", nargs="?", help="only this skill")
    p.add_argument("--limit", type=int, default=200, help="at most this many entries (default: 200)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_skills_log)
    users = sub.add_parser("users", help="the people of the household").add_subparsers(
        dest="users_command", required=True
    )
    p = users.add_parser("add", parents=[common], help="add a person with their own basket and orders")
    p.add_argument("name")
    p.set_defaults(func=cmd_users_add)
    p = users.add_parser("list", parents=[common], help="the household's people")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_users_list)
    p = users.add_parser("set-code", parents=[common], help="a spoken purchase code asked before each order")
    p.add_argument("name")
    p.add_argument("code", nargs="?", help="4 to 8 digits (asked for when left out)")
    p.add_argument("--clear", action="store_true", help="remove the code")
    p.set_defaults(func=cmd_users_set_code)
    p = sub.add_parser(
        "wyoming", parents=[common, engine], help="serve speech, voices and the shop over Wyoming (Home Assistant)"
    )
    p.add_argument(
        "--uri",
        default="tcp://127.0.0.1:10700",
        help="where to listen (default: tcp://127.0.0.1:10700, this machine only)",
    )
    p.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="let a client at this IP address in (repeatable); needed, or 'wyoming clients add', for any --uri but loopback",
    )
    p.add_argument(
        "--services",
        default="asr,tts,handle,intent",
        help="what to offer (default: asr,tts,handle,intent; Home Assistant prefers intent over handle when both are offered)",
    )
    p.add_argument("--no-satellites", action="store_true", help="don't connect to the registered satellites")
    p.add_argument(
        "--audio-timeout", type=float, default=10.0, help="seconds a client may pause mid-utterance (default: 10)"
    )
    p.set_defaults(func=cmd_wyoming)
    clients = (
        p.add_subparsers(dest="wyoming_command")
        .add_parser("clients", help="the Wyoming clients (Home Assistant) allowed in by address")
        .add_subparsers(dest="clients_command", required=True)
    )
    c = clients.add_parser("add", parents=[common], help="allow a client by its IP address")
    c.add_argument("name", help="a name for it, e.g. ha")
    c.add_argument("address", help="its IP address, e.g. 192.168.1.5")
    c.add_argument("--user", help="the member it speaks for (default: the household, which needs purchase codes)")
    c.set_defaults(func=cmd_wyoming_clients_add)
    c = clients.add_parser("list", parents=[common], help="the allowed clients")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_wyoming_clients_list)
    c = clients.add_parser("remove", parents=[common], help="stop letting a client in")
    c.add_argument("name")
    c.set_defaults(func=cmd_wyoming_clients_remove)
    satellites = sub.add_parser("satellites", help="Pi satellites (wyoming-satellite) the hub drives").add_subparsers(
        dest="satellites_command", required=True
    )
    p = satellites.add_parser("add", parents=[common], help="register a satellite by its Wyoming address")
    p.add_argument("name", help="a name for the room or device, e.g. kitchen")
    p.add_argument("uri", help="tcp://HOST:PORT, as given to wyoming-satellite --uri")
    p.add_argument("--user", help="the member it speaks for (default: the household, which asks who's ordering)")
    p.set_defaults(func=cmd_satellites_add)
    p = satellites.add_parser("list", parents=[common], help="the registered satellites")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_satellites_list)
    p = satellites.add_parser("remove", parents=[common], help="forget a satellite")
    p.add_argument("name")
    p.set_defaults(func=cmd_satellites_remove)
    p = skills.add_parser("new", help="scaffold a pip-installable skill package")
    p.add_argument("name")
    p.add_argument("--dir", help="where to create it (default: here)")
    p.set_defaults(func=cmd_skills_new)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args) or 0)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug of ours: one line, the traceback only with -v
        if getattr(args, "verbose", False):
            log.exception("unexpected error")
        print(f"error: unexpected {type(exc).__name__}: {exc} (run with -v for details)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
