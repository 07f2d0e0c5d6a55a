"""Paired devices of the hub: bearer tokens and one-time pairing codes, stored only as hashes."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from assistant.errors import AssistantError
from assistant.household import Household
from assistant.principal import Door, Principal
from assistant.store import Database
from assistant.store.tokens import TokenRows

CODE_SECONDS = 600
"""A pairing code is good for one use within ten minutes."""
DEVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


class PairingError(AssistantError):
    """A device name, token or pairing code is not acceptable."""


@dataclass(frozen=True)
class Device:
    """A paired device and whom it speaks for."""

    name: str
    user: str | None
    """The member it belongs to; None for a household device (it asks "who's ordering?")."""
    created: float = 0.0
    last_used: float | None = None
    token_id: str = ""
    """Names this pairing (a prefix of the token's hash): pairing the name again makes a new one."""

    @property
    def principal(self) -> Principal:
        return Principal(Door.HUB, self.token_id, self.name, self.user)


def _token_id(token_hash: str) -> str:
    return token_hash[:16]


def _digest(secret: str) -> str:
    # tokens and codes are 128+ bits of randomness, so a fast hash is enough: nothing to brute-force
    return hashlib.sha256(secret.encode()).hexdigest()


class Pairing:
    """Pair, list, authenticate and revoke the hub's devices (their rows are the store's ``TokenRows``)."""

    def __init__(self, db: Database, household: Household) -> None:
        self.db = db
        self.household = household
        self.rows = TokenRows(db)

    def _register(self, device: str, user: str | None) -> None:
        if not DEVICE_NAME.match(device):
            raise PairingError(f"'{device}' can't be a device name: use up to 40 letters, digits, . - or _")
        self.household.set_device(device, user)

    def _owner(self, device: str) -> str | None:
        owner = self.household.device_owner(device)
        return owner.name if owner else None

    def pair(self, device: str, user: str | None = None) -> str:
        """A new bearer token for ``device`` (replacing any it had); shown once, stored hashed."""
        self._register(device, user)
        token = secrets.token_urlsafe(32)
        self.rows.put(device, _digest(token))
        return token

    def pairing_code(self, device: str, user: str | None = None) -> str:
        """A one-time code that the page trades for ``device``'s token (see ``redeem``)."""
        self._register(device, user)
        code = secrets.token_urlsafe(16)
        self.rows.add_code(_digest(code), device, CODE_SECONDS)
        return code

    def redeem(self, code: str) -> tuple[Device, str]:
        """The device a pairing code was made for, and its new token; the code is spent either way."""
        device = self.rows.take_code(_digest(code))
        if device is None:
            raise PairingError("that pairing code is unknown, used or expired: run 'assistant devices pair' again")
        user = self._owner(device)
        token = self.pair(device, user)
        return Device(device, user), token

    def authenticate(self, token: str) -> Device | None:
        """The device holding this token, or None for an unknown or revoked one."""
        row = self.rows.by_hash(_digest(token))
        if row is None:
            return None
        return Device(row.device, self._owner(row.device), row.created, row.last_used, _token_id(row.token_hash))

    def is_live(self, device: Device) -> bool:
        """This pairing still stands (checked before each turn: a revoke in another process counts at once)."""
        token_hash = self.rows.hash_of(device.name)
        return token_hash is not None and _token_id(token_hash) == device.token_id

    def live(self) -> set[str]:
        """The token ids paired now: the store is the shared truth, so a revoke in another process shows here."""
        return {_token_id(token_hash) for token_hash in self.rows.hashes()}

    def touch(self, device: str) -> None:
        self.rows.touch(device)

    def devices(self) -> list[Device]:
        return [Device(row.device, self._owner(row.device), row.created, row.last_used) for row in self.rows.all()]

    def revoke(self, device: str) -> None:
        if not self.rows.remove(device):
            raise PairingError(f"no paired device named '{device}' (see: assistant devices list)")
        self.household.remove_device(device)
