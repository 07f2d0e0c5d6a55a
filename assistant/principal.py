"""Who is speaking: what a front door has proved (a token, a registered name, an allowed address), never a name a client chose."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Door(StrEnum):
    """The ways into the assistant; each proves its principals its own way."""

    CLI = "cli"
    """The local user at the terminal."""
    HUB = "hub"
    """`assistant serve`: HTTP, WebSocket and the page, a paired device's bearer token."""
    WYOMING = "wyoming"
    """`assistant wyoming`: a client the user allowed by its address (Home Assistant), or an unnamed loopback one."""
    SATELLITE = "satellite"
    """A satellite the user registered; the hub dials it."""


@dataclass(frozen=True)
class Principal:
    """One proven speaker at one door. Conversations are keyed by it, so a client-chosen id never
    reaches another door's or another principal's conversation."""

    door: Door
    id: str
    """Unique within the door for this proof: a device's token (a hash of it, so a re-paired name is a
    new principal), a satellite's or allowed client's registered name, one unnamed connection."""
    label: str
    """What logs and replies call it (a device or client name)."""
    user: str | None
    """The member it speaks for; None: a shared (household) door, which names the member each time."""
    allowed: bool = True
    """False for a client nobody named (an unregistered loopback Wyoming client): members' names are
    never read to it."""
    counted_as: str | None = None
    """Whose wrong purchase codes these are, when not this principal's own: every unnamed connection
    counts as one door, so reconnecting buys no more guesses."""

    @property
    def lock_key(self) -> str:
        return self.counted_as or self.key

    @property
    def shared(self) -> bool:
        return self.user is None

    @property
    def key(self) -> str:
        return f"{self.door}:{self.id}"


def local_user(user: str) -> Principal:
    """The CLI's principal: whoever runs the command speaks for the user it names (config.yml's by default)."""
    return Principal(Door.CLI, f"local:{user}", "this computer", user)
