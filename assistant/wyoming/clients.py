"""Who may talk to `assistant wyoming`: the clients the user named by address, and the unnamed loopback one.

The Wyoming protocol has no authentication, so the address a connection comes from is the only
proof there is. Loopback is served by default; a client from any other address must be named,
with `--allow ADDRESS` or `assistant wyoming clients add NAME ADDRESS`, or it is refused at connect.
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass

from assistant.errors import AssistantError
from assistant.household import NAME, Household
from assistant.principal import Door, Principal
from assistant.store import Database
from assistant.store.wyoming import AddressTaken, ClientRows

UNNAMED = "an unnamed local client"


def address(text: str) -> str:
    """One IP address as written by ipaddress (an IPv4-mapped IPv6 peer is its IPv4 address)."""
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        raise AssistantError(
            f"'{text}' is not an IP address (a Wyoming client is named by its address, e.g. 192.168.1.5)"
        ) from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(address(host)).is_loopback
    except AssistantError:
        return False


@dataclass(frozen=True)
class WyomingClient:
    name: str
    address: str
    user: str | None
    """The member it speaks for; None (Home Assistant itself): a household door."""

    def to_json(self) -> dict:
        return {"name": self.name, "address": self.address, "user": self.user}


class WyomingClients:
    """The named clients, in the assistant's store (so a running server sees one added at once)."""

    def __init__(self, db: Database, household: Household) -> None:
        self.db = db
        self.household = household
        self.rows = ClientRows(db)

    def add(self, name: str, addr: str, user: str | None = None) -> WyomingClient:
        if not NAME.match(name):
            raise AssistantError(f"'{name}' can't be a client name: use letters, digits, spaces, . ' - or _")
        ip = address(addr)
        if user is not None:
            self.household.require(user)
        try:
            self.rows.put(name, ip, user)
        except AddressTaken as taken:
            raise AssistantError(
                f"{ip} is already the client '{taken}' (remove it first: assistant wyoming clients remove {taken})"
            ) from None
        return WyomingClient(name, ip, user)

    def list(self) -> list[WyomingClient]:
        return [WyomingClient(*row) for row in self.rows.all()]

    def find(self, addr: str) -> WyomingClient | None:
        row = self.rows.find(addr)
        return WyomingClient(*row) if row else None

    def remove(self, name: str) -> None:
        if not self.rows.remove(name):
            raise AssistantError(f"no Wyoming client named '{name}' (see: assistant wyoming clients list)")


@dataclass(frozen=True)
class ClientDoor:
    """Turns a connection's peer address into the principal it may speak as, or None (refused)."""

    clients: WyomingClients
    allowed: frozenset[str] = frozenset()
    """Addresses given with --allow: household doors named by their address."""

    def principal(self, peer: str | None) -> Principal | None:
        if not peer:  # a unix socket: only this machine's accounts can reach it, and no one named it
            return self._unnamed()
        ip = address(peer)
        client = self.clients.find(ip)
        if client is not None:
            return Principal(Door.WYOMING, f"client:{client.name}", client.name, client.user)
        if ip in self.allowed:
            return Principal(Door.WYOMING, f"allow:{ip}", ip, None)
        if ipaddress.ip_address(ip).is_loopback:
            return self._unnamed()
        return None

    @staticmethod
    def _unnamed() -> Principal:
        # one principal per connection: two local programs can't be told apart, so neither can reach
        # the other's conversation by guessing its id
        return Principal(Door.WYOMING, f"conn:{uuid.uuid4().hex}", UNNAMED, None, allowed=False,
                         counted_as=f"{Door.WYOMING}:unnamed")  # fmt: skip

    def any_named(self) -> bool:
        return bool(self.allowed) or bool(self.clients.list())
