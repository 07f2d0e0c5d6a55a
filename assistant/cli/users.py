"""`assistant users ...`: the household's people and their purchase codes."""

from __future__ import annotations

import argparse
import logging
import sys

from assistant.cli.common import _emit, _household
from assistant.errors import AssistantError

log = logging.getLogger("assistant")


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
