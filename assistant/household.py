"""The people and devices of one household: who a device speaks for, and each person's purchase code."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

from rapidfuzz import fuzz, process

from assistant.errors import AssistantError
from assistant.store import Database
from assistant.store.household import HouseholdRows, Member

CODE_ATTEMPTS = 3
LOCK_SECONDS = 600
"""Three wrong purchase codes at one door lock buying there for ten minutes, as voice shopping on shared speakers does."""
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9 _.'-]{0,39}$")
HOUSEHOLD = "household"
"""A device that belongs to no one person: it asks "who's ordering?" before anything of an account."""


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
    """Members (users with an account) and devices; their rows are the store's (``HouseholdRows``)."""

    def __init__(self, db: Database, default_user: str) -> None:
        self.db = db
        self.rows = HouseholdRows(db)
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
        return self.rows.add_member(name)

    def get(self, name: str) -> Member | None:
        return self.rows.member(name)

    def require(self, name: str) -> Member:
        member = self.get(name)
        if member is None:
            raise AssistantError(f"no user named '{name}' (add one with: assistant users add {name})")
        return member

    def members(self) -> list[Member]:
        return self.rows.members()

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
        self.rows.set_code(member.id, _hash(code, salt) if code else None, salt.hex() if code else None)

    def locked_for(self, user_id: int, door: str) -> float:
        """Seconds buying stays locked for this user at this door (0 when it isn't)."""
        return max(0.0, self.rows.locked_until(user_id, door) - time.time())

    def needs_code(self, user_id: int) -> bool:
        return self.rows.has_code(user_id)

    def check_code(self, user_id: int, spoken: str, door: str) -> bool:
        """True for the right code; a third wrong one in a row at one door locks buying there for ten
        minutes. Only there: a stranger at a shared door cannot lock a member out of their own phone."""
        code = spoken_code(spoken)

        def matches(code_hash: str, salt: str) -> bool:
            return hmac.compare_digest(_hash(code, bytes.fromhex(salt)), code_hash)

        return self.rows.attempt(user_id, door, matches, attempts=CODE_ATTEMPTS, lock_seconds=LOCK_SECONDS)

    # -- devices ------------------------------------------------------------------------------
    def set_device(self, device: str, user: str | None) -> None:
        """The device speaks for ``user``, or for the household when None."""
        self.rows.set_device(device, self.require(user).id if user else None)

    def device_owner(self, device: str | None) -> Member | None:
        """The member a device belongs to; None for a household device (or an unknown one)."""
        if device is None:
            return None
        return self.rows.device_owner(device)

    def remove_device(self, device: str) -> None:
        self.rows.remove_device(device)
