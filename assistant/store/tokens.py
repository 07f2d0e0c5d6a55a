"""The hub's tables of paired devices: ``hub_tokens`` and ``hub_pairing_codes``, secrets stored only as hashes."""

from __future__ import annotations

import time
from dataclasses import dataclass

from assistant.store.db import Database


@dataclass(frozen=True)
class TokenRow:
    device: str
    token_hash: str
    created: float
    last_used: float | None


class TokenRows:
    """Rows only; what a token or code may do is ``assistant.hub.pairing``'s to say."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, device: str, token_hash: str) -> None:
        """The device's one token (replacing any it had)."""
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO hub_tokens(device, token_hash, created) VALUES (?, ?, ?) "
                "ON CONFLICT(device) DO UPDATE SET token_hash = excluded.token_hash, created = excluded.created",
                (device, token_hash, time.time()),
            )

    def add_code(self, code_hash: str, device: str, seconds: float) -> None:
        """A one-time code for ``device``, good for ``seconds``; expired ones are dropped meanwhile."""
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM hub_pairing_codes WHERE expires < ?", (time.time(),))
            tx.execute(
                "INSERT INTO hub_pairing_codes(code_hash, device, expires) VALUES (?, ?, ?)",
                (code_hash, device, time.time() + seconds),
            )

    def take_code(self, code_hash: str) -> str | None:
        """The device a live code was made for; the code is spent either way, in the same transaction
        (two redeems of one code: one of them gets it)."""
        with self.db.transaction() as tx:
            row = tx.execute(
                "SELECT device, expires FROM hub_pairing_codes WHERE code_hash = ?", (code_hash,)
            ).fetchone()
            tx.execute("DELETE FROM hub_pairing_codes WHERE code_hash = ?", (code_hash,))
        return row[0] if row is not None and row[1] >= time.time() else None

    def by_hash(self, token_hash: str) -> TokenRow | None:
        rows = self.db.query(
            "SELECT device, token_hash, created, last_used FROM hub_tokens WHERE token_hash = ?", (token_hash,)
        )
        return TokenRow(*rows[0]) if rows else None

    def hash_of(self, device: str) -> str | None:
        rows = self.db.query("SELECT token_hash FROM hub_tokens WHERE device = ?", (device,))
        return rows[0][0] if rows else None

    def hashes(self) -> list[str]:
        return [row[0] for row in self.db.query("SELECT token_hash FROM hub_tokens")]

    def touch(self, device: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE hub_tokens SET last_used = ? WHERE device = ?", (time.time(), device))

    def all(self) -> list[TokenRow]:
        rows = self.db.query("SELECT device, token_hash, created, last_used FROM hub_tokens ORDER BY device")
        return [TokenRow(*row) for row in rows]

    def remove(self, device: str) -> bool:
        """The device's token and codes gone; False when it had no token."""
        with self.db.transaction() as tx:
            gone = tx.execute("DELETE FROM hub_tokens WHERE device = ?", (device,)).rowcount
            tx.execute("DELETE FROM hub_pairing_codes WHERE device = ?", (device,))
        return bool(gone)
