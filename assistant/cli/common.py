"""What the `assistant` commands share: the config as the command line amends it, the App, output."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from assistant.config import Config, load_config

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


def _data_dir(args: argparse.Namespace) -> Path:
    from assistant.store.db import Database

    config = _config(args)
    return Database(config.data_dir, config.store.url).data_dir


def _household(args: argparse.Namespace):
    from assistant.household import Household
    from assistant.store import Database, ensure_demo

    config = _config(args)
    db = Database(config.data_dir, config.store.url)
    ensure_demo(db, config.user)
    return Household(db, config.user)


def _pairing(args: argparse.Namespace):
    from assistant.hub.pairing import Pairing

    household = _household(args)
    return Pairing(household.db, household)


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
