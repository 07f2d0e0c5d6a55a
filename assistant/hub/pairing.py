"""Paired devices of the hub: bearer tokens and one-time pairing codes, stored only as hashes."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from assistant.errors import AssistantError
from assistant.household import Household
from assistant.principal import Door, Principal
from assistant.store import Database

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
    """Pair, list, authenticate and revoke the hub's devices."""

    def __init__(self, db: Database, household: Household) -> None:
        self.db = db
        self.household = household

    def _register(self, device: str, user: str | None) -> None:
        if not DEVICE_NAME.match(device):
            raise PairingError(f"'{device}' can't be a device name: use up to 40 letters, digits, . - or _")
        self.household.set_device(device, user)

    def pair(self, device: str, user: str | None = None) -> str:
        """A new bearer token for ``device`` (replacing any it had); shown once, stored hashed."""
        self._register(device, user)
        token = secrets.token_urlsafe(32)
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO hub_tokens(device, token_hash, created) VALUES (?, ?, ?) "
                "ON CONFLICT(device) DO UPDATE SET token_hash = excluded.token_hash, created = excluded.created",
                (device, _digest(token), time.time()),
            )
        return token

    def pairing_code(self, device: str, user: str | None = None) -> str:
        """A one-time code that the page trades for ``device``'s token (see ``redeem``)."""
        self._register(device, user)
        code = secrets.token_urlsafe(16)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM hub_pairing_codes WHERE expires < ?", (time.time(),))
            tx.execute(
                "INSERT INTO hub_pairing_codes(code_hash, device, expires) VALUES (?, ?, ?)",
                (_digest(code), device, time.time() + CODE_SECONDS),
            )
        return code

    def redeem(self, code: str) -> tuple[Device, str]:
        """The device a pairing code was made for, and its new token; the code is spent either way."""
        with self.db.transaction() as tx:
            row = tx.execute(
                "SELECT device, expires FROM hub_pairing_codes WHERE code_hash = ?", (_digest(code),)
            ).fetchone()
            tx.execute("DELETE FROM hub_pairing_codes WHERE code_hash = ?", (_digest(code),))
        if row is None or row["expires"] < time.time():
            raise PairingError("that pairing code is unknown, used or expired: run 'assistant devices pair' again")
        owner = self.household.device_owner(row["device"])
        token = self.pair(row["device"], owner.name if owner else None)
        return Device(row["device"], owner.name if owner else None), token

    def authenticate(self, token: str) -> Device | None:
        """The device holding this token, or None for an unknown or revoked one."""
        row = self.db.conn.execute(
            "SELECT device, token_hash, created, last_used FROM hub_tokens WHERE token_hash = ?", (_digest(token),)
        ).fetchone()
        if row is None:
            return None
        owner = self.household.device_owner(row["device"])
        return Device(
            row["device"], owner.name if owner else None, row["created"], row["last_used"], _token_id(row["token_hash"])
        )

    def is_live(self, device: Device) -> bool:
        """This pairing still stands (checked before each turn: a revoke in another process counts at once)."""
        row = self.db.conn.execute("SELECT token_hash FROM hub_tokens WHERE device = ?", (device.name,)).fetchone()
        return row is not None and _token_id(row[0]) == device.token_id

    def live(self) -> set[str]:
        """The token ids paired now: the store is the shared truth, so a revoke in another process shows here."""
        return {_token_id(row[0]) for row in self.db.query("SELECT token_hash FROM hub_tokens")}

    def touch(self, device: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE hub_tokens SET last_used = ? WHERE device = ?", (time.time(), device))

    def devices(self) -> list[Device]:
        rows = self.db.query("SELECT device, created, last_used FROM hub_tokens ORDER BY device")
        out = []
        for row in rows:
            owner = self.household.device_owner(row["device"])
            out.append(Device(row["device"], owner.name if owner else None, row["created"], row["last_used"]))
        return out

    def revoke(self, device: str) -> None:
        with self.db.transaction() as tx:
            gone = tx.execute("DELETE FROM hub_tokens WHERE device = ?", (device,)).rowcount
            tx.execute("DELETE FROM hub_pairing_codes WHERE device = ?", (device,))
        if not gone:
            raise PairingError(f"no paired device named '{device}' (see: assistant devices list)")
        self.household.remove_device(device)
