"""`assistant satellites ...`: the Pi satellites the hub drives."""

from __future__ import annotations

import argparse
import logging

from assistant.cli.common import _household, _list_registered

log = logging.getLogger("assistant")


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
