"""`assistant devices pair|list|revoke`: the hub's paired devices."""

from __future__ import annotations

import argparse
import logging

from assistant.cli.common import _config, _emit, _pairing

log = logging.getLogger("assistant")


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
