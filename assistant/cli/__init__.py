"""The `assistant` command: its parser and `main`; each noun's commands are a module of this package."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from assistant.cli.catalog import cmd_catalog_import
from assistant.cli.chat import cmd_chat
from assistant.cli.devices import cmd_devices_list, cmd_devices_pair, cmd_devices_revoke
from assistant.cli.models import cmd_models_install, cmd_models_list
from assistant.cli.nlu import (
    cmd_nlu_evaluate,
    cmd_nlu_export,
    cmd_nlu_parse,
    cmd_nlu_train,
    cmd_nlu_validate,
)
from assistant.cli.orders import cmd_orders
from assistant.cli.satellites import cmd_satellites_add, cmd_satellites_list, cmd_satellites_remove
from assistant.cli.serve import cmd_serve
from assistant.cli.skills import cmd_skills_enable, cmd_skills_list, cmd_skills_log, cmd_skills_new
from assistant.cli.store import cmd_store_copy, cmd_store_migrate
from assistant.cli.users import cmd_users_add, cmd_users_list, cmd_users_set_code
from assistant.cli.voice import cmd_devices, cmd_listen, cmd_say
from assistant.cli.wyoming import (
    cmd_wyoming,
    cmd_wyoming_clients_add,
    cmd_wyoming_clients_list,
    cmd_wyoming_clients_remove,
)
from assistant.errors import AssistantError

log = logging.getLogger("assistant")


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
