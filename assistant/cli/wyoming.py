"""`assistant wyoming`: speech and the shop over Wyoming, and the clients let in."""

from __future__ import annotations

import argparse
import logging
import sys

from assistant.cli.common import _app, _household, _list_registered
from assistant.errors import AssistantError

log = logging.getLogger("assistant")


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


def cmd_wyoming_clients_list(args: argparse.Namespace) -> int:
    clients = _wyoming_clients(args).list()
    none = "No Wyoming clients allowed. Allow Home Assistant with: assistant wyoming clients add ha ADDRESS"
    return _list_registered(args, "clients", clients, "address", none)


def cmd_wyoming_clients_remove(args: argparse.Namespace) -> int:
    _wyoming_clients(args).remove(args.name)
    print(f"Removed Wyoming client {args.name}; it is refused from its next connection.")
    return 0
