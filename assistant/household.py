"""The people and devices of one household: who a device speaks for, and each person's purchase code."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from assistant.errors import AssistantError
from assistant.store import Database

CODE_ATTEMPTS = 3
LOCK_SECONDS = 600
"""Three wrong purchase codes at one door lock buying there for ten minutes, as voice shopping on shared speakers does."""
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9 _.'-]{0,39}$")
HOUSEHOLD = "household"
"""A device that belongs to no one person: it asks "who's ordering?" before anything of an account."""

@dataclass(frozen=True)
class Member:
    id: int
    name: str
    has_code: bool


def _hash(code: str, salt: bytes) -> str:
    return hashlib.scrypt(code.encode(), salt=salt, n=2**14, r=8, p=1).hex()


def spoken_code(text: str) -> str:
    """'one two three four' / '1 2 3 4' / '1234' -> '1234'."""
    from assistant.nlu.values import normalise

    digits = []
    for word in re.findall(r"[a-z]+|\d+", text.lower()):
        if word.isdigit():
            digits.append(word)
            continue
        value = normalise("quantity", word)
        if value.isdigit():
            digits.append(value)
        elif word == "oh":
            digits.append("0")
    return "".join(digits)


class Household:
    """Members (users with an account) and devices, in the assistant's store."""

    def __init__(self, db: Database, default_user: str) -> None:
        self.db = db
        self.default_user = default_user
        self.add(default_user, exist_ok=True)

    # -- people -------------------------------------------------------------------------------
    def add(self, name: str, *, exist_ok: bool = False) -> Member:
        if not NAME.match(name) or name.startswith("shopper-") or name == HOUSEHOLD:
            raise AssistantError(f"'{name}' can't be a user name: use letters, digits, spaces, . ' - or _")
        existing = self.get(name)
        if existing is not None:
            if exist_ok:
                return existing
            raise AssistantError(f"user '{name}' already exists")
        user_id = self.db.user_id(name)
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO members(user_id) VALUES (?) ON CONFLICT DO NOTHING", (user_id,))
        return Member(user_id, name, False)

    def get(self, name: str) -> Member | None:
        row = self.db.conn.execute(
            "SELECT u.id, u.name, m.code_hash FROM members m JOIN users u ON u.id = m.user_id WHERE u.name = ?",
            (name,),
        ).fetchone()
        return Member(row[0], row[1], row[2] is not None) if row else None

    def require(self, name: str) -> Member:
        member = self.get(name)
        if member is None:
            raise AssistantError(f"no user named '{name}' (add one with: assistant users add {name})")
        return member

    def members(self) -> list[Member]:
        rows = self.db.query(
            "SELECT u.id, u.name, m.code_hash FROM members m JOIN users u ON u.id = m.user_id ORDER BY u.name"
        )
        return [Member(r[0], r[1], r[2] is not None) for r in rows]

    def recognise(self, text: str) -> Member | None:
        """The member a spoken answer to "who's ordering?" names, if it clearly names one."""
        members = {m.name.lower(): m for m in self.members()}
        words = re.sub(r"\b(it's|it is|this is|i'm|i am|me|my name is|for)\b", " ", text.lower()).strip(" .!?")
        if not words:
            return None
        best = process.extractOne(words, list(members), scorer=fuzz.WRatio)
        return members[best[0]] if best and best[1] >= 85 else None

    # -- purchase codes -----------------------------------------------------------------------
    def set_code(self, name: str, code: str | None) -> None:
        member = self.require(name)
        if code is not None and not re.fullmatch(r"\d{4,8}", code):
            raise AssistantError("a purchase code is 4 to 8 digits, so it can be said out loud")
        salt = secrets.token_bytes(16)
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE members SET code_hash = ?, code_salt = ? WHERE user_id = ?",
                (_hash(code, salt) if code else None, salt.hex() if code else None, member.id),
            )
            tx.execute("DELETE FROM code_failures WHERE user_id = ?", (member.id,))

    def locked_for(self, user_id: int, door: str) -> float:
        """Seconds buying stays locked for this user at this door (0 when it isn't)."""
        row = self.db.conn.execute(
            "SELECT locked_until FROM code_failures WHERE user_id = ? AND door = ?", (user_id, door)
        ).fetchone()
        return max(0.0, (row[0] if row else 0) - time.time())

    def needs_code(self, user_id: int) -> bool:
        row = self.db.conn.execute("SELECT code_hash FROM members WHERE user_id = ?", (user_id,)).fetchone()
        return bool(row and row[0])

    def check_code(self, user_id: int, spoken: str, door: str) -> bool:
        """True for the right code; a third wrong one in a row at one door locks buying there for ten
        minutes. Only there: a stranger at a shared door cannot lock a member out of their own phone."""
        with self.db.transaction() as tx:
            row = tx.execute("SELECT code_hash, code_salt FROM members WHERE user_id = ?", (user_id,)).fetchone()
            if row is None or not row[0]:
                return True
            tried = tx.execute(
                "SELECT failures, locked_until FROM code_failures WHERE user_id = ? AND door = ?", (user_id, door)
            ).fetchone()
            failures, locked_until = tried if tried else (0, 0.0)
            if locked_until > time.time():
                return False
            if hmac.compare_digest(_hash(spoken_code(spoken), bytes.fromhex(row[1])), row[0]):
                tx.execute("DELETE FROM code_failures WHERE user_id = ? AND door = ?", (user_id, door))
                return True
            failures += 1
            locked = time.time() + LOCK_SECONDS if failures >= CODE_ATTEMPTS else 0
            tx.execute(
                "INSERT INTO code_failures(user_id, door, failures, locked_until) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(user_id, door) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until",
                (user_id, door, 0 if locked else failures, locked),
            )
            return False

    # -- devices ------------------------------------------------------------------------------
    def set_device(self, device: str, user: str | None) -> None:
        """The device speaks for ``user``, or for the household when None."""
        user_id = self.require(user).id if user else None
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO devices(name, user_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET user_id = excluded.user_id",
                (device, user_id),
            )

    def device_owner(self, device: str | None) -> Member | None:
        """The member a device belongs to; None for a household device (or an unknown one)."""
        if device is None:
            return None
        row = self.db.conn.execute(
            "SELECT u.id, u.name FROM devices d JOIN users u ON u.id = d.user_id WHERE d.name = ?", (device,)
        ).fetchone()
        return Member(row[0], row[1], self.needs_code(row[0])) if row else None

    def remove_device(self, device: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM devices WHERE name = ?", (device,))
