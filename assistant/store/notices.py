"""Notifications: what a member is to be told without asking (a skill's note, price news), each said once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from assistant.sdk.phrasing import price_news
from assistant.sdk.types import PriceNews, Product
from assistant.store.db import Database

PER_HOUR = 3
"""Notifications one skill may send one member in an hour; more are refused (the skill hears False)."""
PER_DAY = 10
"""And in a day: three an hour around the clock would still be 72 interruptions."""
MAX_TEXT = 200

Via = Literal["conversation", "page", "satellite", "asked"]
"""How a notification reached its member: at the start of a conversation, pushed to a companion page,
announced on a satellite, or read out on "what did I miss?"."""


@dataclass(frozen=True)
class Notice:
    """One thing to tell one member."""

    kind: Literal["skill", "price"]
    id: int
    user_id: int
    skill: str
    """The skill that sent it ('price_watch' for price news)."""
    builtin: bool
    text: str
    """The skill's own words, or the price news told as the price-watch skill tells it."""
    created_at: str


def _now(at: datetime | None = None) -> str:
    """The store's time format (SQLite's ``datetime('now')``, UTC), so both tables sort together."""
    return (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


class Notifications:
    """Every member's notifications: skills post them, the doors that reach the member take them."""

    def __init__(self, db: Database, currency: str = "GBP") -> None:
        self.db = db
        self.currency = currency

    def post(self, user_id: int, skill: str, text: str, *, builtin: bool, at: datetime | None = None) -> int | None:
        """Keep ``text`` for ``user_id``; None when ``skill`` has sent them PER_HOUR in the last hour or
        PER_DAY in the last day (the count and the insert are one transaction: a flood from many
        conversations at once cannot slip past it)."""
        if not 1 <= len(text) <= MAX_TEXT:
            raise ValueError(f"a notification is 1 to {MAX_TEXT} characters")
        now = at or datetime.now(UTC)
        with self.db.transaction() as tx:
            hour, day = tx.execute(
                "SELECT coalesce(sum(CASE WHEN created_at > ? THEN 1 ELSE 0 END), 0), count(*) FROM notifications "
                "WHERE skill = ? AND user_id = ? AND created_at > ?",
                (_now(now - timedelta(hours=1)), skill, user_id, _now(now - timedelta(days=1))),
            ).fetchone()
            if hour >= PER_HOUR or day >= PER_DAY:
                return None
            row = tx.execute(
                "INSERT INTO notifications(user_id, skill, builtin, text, created_at) VALUES (?, ?, ?, ?, ?) "
                "RETURNING id",
                (user_id, skill, int(builtin), text, _now(now)),
            ).fetchone()
        return int(row[0])

    def waiting(self) -> set[int]:
        """The members with something not yet said."""
        rows = self.db.query(
            "SELECT user_id FROM notifications WHERE said_at IS NULL "
            "UNION SELECT user_id FROM price_news WHERE said_at IS NULL"
        )
        return {int(r[0]) for r in rows}

    def pending(self, user_id: int) -> int:
        row = self.db.query(
            "SELECT (SELECT count(*) FROM notifications WHERE user_id = ? AND said_at IS NULL) + "
            "(SELECT count(*) FROM price_news WHERE user_id = ? AND said_at IS NULL)",
            (user_id, user_id),
        )
        return int(row[0][0])

    def take(self, user_id: int, via: Via, limit: int = 20) -> list[Notice]:
        """The oldest ``limit`` not yet said, marked said (by ``via``) in the same transaction: whichever
        door takes a notification first says it, and no other door gets it again."""
        with self.db.transaction() as tx:
            notes = tx.execute(
                "SELECT id, skill, builtin, text, created_at FROM notifications "
                "WHERE user_id = ? AND said_at IS NULL ORDER BY created_at, id LIMIT ?",
                (user_id, limit),
            ).fetchall()
            news = tx.execute(
                "SELECT n.id AS news_id, n.old_pence, n.new_pence, n.below_pence, n.created_at AS news_at, p.* "
                "FROM price_news n JOIN products p ON p.id = n.product_id "
                "WHERE n.user_id = ? AND n.said_at IS NULL ORDER BY n.created_at, n.id LIMIT ?",
                (user_id, limit),
            ).fetchall()
            found = [
                Notice("skill", r["id"], user_id, r["skill"], bool(r["builtin"]), r["text"], r["created_at"])
                for r in notes
            ] + [
                Notice("price", r["news_id"], user_id, "price_watch", True, self._price(r), r["news_at"]) for r in news
            ]
            found.sort(key=lambda n: (n.created_at, n.kind == "skill", n.id))
            said = _now()
            taken = []
            for notice in found[:limit]:
                table = "notifications" if notice.kind == "skill" else "price_news"
                claimed = tx.execute(
                    f"UPDATE {table} SET said_at = ?, said_via = ? WHERE id = ? AND said_at IS NULL",  # noqa: S608
                    (said, via, notice.id),
                ).rowcount
                if claimed == 1:
                    taken.append(notice)
        return taken

    def give_back(self, notices: list[Notice], via: Via) -> None:
        """``via`` took these but could not deliver them (the page's socket had closed): untold again."""
        with self.db.transaction() as tx:
            for notice in notices:
                table = "notifications" if notice.kind == "skill" else "price_news"
                tx.execute(
                    f"UPDATE {table} SET said_at = NULL, said_via = NULL WHERE id = ? AND said_via = ?",  # noqa: S608
                    (notice.id, via),
                )

    def _price(self, row) -> str:
        news = PriceNews(Product.from_row(row), row["old_pence"], row["new_pence"], row["below_pence"])
        return price_news(news, self.currency)
