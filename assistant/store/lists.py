"""Shopping lists: the household's and each member's own, items as free text, every write one transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assistant.sdk.types import LIST_LIMIT, ListItem, item_key
from assistant.store.db import Database

MAX_NAME = 200
"""Characters of one item's name; longer is refused (a sentence read out as one item helps nobody)."""
MAX_QUANTITY = 999


class ListFull(ValueError):
    """A list already holds LIST_LIMIT items."""


@dataclass(frozen=True)
class SyncedItem:
    """A list item as a CalDAV client sees it: its name there (href), its UID, when it was put on and ticked."""

    item: ListItem
    href: str
    uid: str
    added_at: str
    ticked_at: str | None


class ShoppingLists:
    """Every shopping list in the store; ``owner`` is a member's user id, or None for the household's."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def items(self, owner: int | None, *, ticked: bool = False) -> list[ListItem]:
        """The list in the order things were first put on it; ticked ones only when asked for."""
        rows = self.db.query(
            "SELECT * FROM list_items WHERE user_id IS NOT DISTINCT FROM ? AND (ticked_at IS NULL OR ?) ORDER BY id",
            (owner, ticked),
        )
        return [_item(r) for r in rows]

    def add(
        self,
        owner: int | None,
        name: str,
        quantity: int | None = None,
        note: str = "",
        *,
        more: bool = False,
        added_by: int | None = None,
    ) -> tuple[ListItem, bool]:
        """Put ``name`` on the list, merged into the item of the same key if there is one.

        Merging: ``more`` ("two more milks") adds to what is there; a quantity said ("two milks") is
        what is wanted, so the item holds at least that; none said keeps what is there. A ticked item
        put back is wanted again. Returns the item as it now is, and whether it was new."""
        name = re.sub(r"^the\s+", "", " ".join(name.split()), flags=re.I)
        key = item_key(name)
        if not key or len(name) > MAX_NAME:
            raise ValueError(f"an item's name is 1 to {MAX_NAME} characters")
        with self.db.transaction() as tx:
            row = tx.execute(
                "SELECT * FROM list_items WHERE user_id IS NOT DISTINCT FROM ? AND key = ? ORDER BY ticked_at IS NOT NULL, id LIMIT 1",
                (owner, key),
            ).fetchone()
            if row is None:
                count = tx.execute(
                    "SELECT count(*) FROM list_items WHERE user_id IS NOT DISTINCT FROM ? AND ticked_at IS NULL", (owner,)
                ).fetchone()[0]
                if count >= LIST_LIMIT:
                    raise ListFull(f"the list already has {LIST_LIMIT} items")
                made = tx.execute(
                    "INSERT INTO list_items(user_id, name, key, quantity, note, added_by) VALUES (?, ?, ?, ?, ?, ?) "
                    "RETURNING *",
                    (owner, name, key, _bounded(quantity or 1), note, added_by),
                ).fetchone()
                return _item(made), True
            had = 0 if row["ticked_at"] else row["quantity"]
            if more:
                wanted = had + (quantity or 1)
            elif quantity:
                wanted = max(had, quantity)
            else:
                wanted = max(had, 1)
            # "two milks" after "milk": the words of the latest mention of more than one are kept, to read back
            named = name if (quantity or 0) > 1 else row["name"]
            tx.execute(
                "UPDATE list_items SET name = ?, quantity = ?, note = CASE WHEN ? != '' THEN ? ELSE note END, "
                "ticked_at = NULL WHERE id = ?",
                (named, _bounded(wanted), note, note, row["id"]),
            )
            return _item(tx.execute("SELECT * FROM list_items WHERE id = ?", (row["id"],)).fetchone()), False

    def remove(self, owner: int | None, item_id: int, quantity: int | None = None) -> ListItem | None:
        """Take the item off (or only ``quantity`` of it); what is left of it, or None."""
        with self.db.transaction() as tx:
            row = tx.execute("SELECT * FROM list_items WHERE id = ? AND user_id IS NOT DISTINCT FROM ?", (item_id, owner)).fetchone()
            if row is None:
                return None
            if quantity and quantity < row["quantity"]:
                tx.execute("UPDATE list_items SET quantity = quantity - ? WHERE id = ?", (quantity, item_id))
                return _item(tx.execute("SELECT * FROM list_items WHERE id = ?", (item_id,)).fetchone())
            tx.execute("DELETE FROM list_items WHERE id = ?", (item_id,))
            return None

    def tick(self, owner: int | None, item_id: int) -> bool:
        """Mark the item bought; False if it is not on this list."""
        with self.db.transaction() as tx:
            cur = tx.execute(
                "UPDATE list_items SET ticked_at = datetime('now') WHERE id = ? AND user_id IS NOT DISTINCT FROM ? AND ticked_at IS NULL",
                (item_id, owner),
            )
        return cur.rowcount == 1

    def clear(self, owner: int | None) -> int:
        """Empty the list, ticked items too; how many items were still to buy."""
        with self.db.transaction() as tx:
            left = tx.execute(
                "SELECT count(*) FROM list_items WHERE user_id IS NOT DISTINCT FROM ? AND ticked_at IS NULL", (owner,)
            ).fetchone()[0]
            tx.execute("DELETE FROM list_items WHERE user_id IS NOT DISTINCT FROM ?", (owner,))
        return int(left)

    # -- the lists as CalDAV clients see them (assistant/hub/caldav.py) ---------------------------------
    def synced(self, owner: int | None) -> list[SyncedItem]:
        """Every item, ticked ones too (a client shows them done), with the name each has for clients."""
        rows = self.db.query("SELECT * FROM list_items WHERE user_id IS NOT DISTINCT FROM ? ORDER BY id", (owner,))
        return [_synced(r) for r in rows]

    def synced_item(self, owner: int | None, href: str) -> SyncedItem | None:
        rows = self.db.query(
            "SELECT * FROM list_items WHERE user_id IS NOT DISTINCT FROM ? AND (dav_href = ? OR "
            "(dav_href IS NULL AND id = ?))",
            (owner, href, _own_id(href)),
        )
        return _synced(rows[0]) if rows else None

    def put_synced(
        self, owner: int | None, href: str, uid: str, name: str, quantity: int, note: str, done: bool
    ) -> SyncedItem:
        """A client's version of the item at ``href``: what it says replaces what was there (the client
        sent it against the ETag it had read, so it saw what it replaces); a new href is put on the list
        as a spoken item is (merged into one of the same name)."""
        name = " ".join(name.split())
        if not item_key(name) or len(name) > MAX_NAME:
            raise ValueError(f"an item's name is 1 to {MAX_NAME} characters")
        with self.db.transaction() as tx:
            found = self.synced_item(owner, href)
            if found is None:
                item, _new = self.add(owner, name, quantity, note)
                tx.execute(
                    "UPDATE list_items SET dav_href = ?, dav_uid = ? WHERE id = ? AND dav_href IS NULL",
                    (href, uid, item.id),
                )
                item_id = item.id
            else:
                item_id = found.item.id
                tx.execute(
                    "UPDATE list_items SET name = ?, key = ?, quantity = ?, note = ?, "
                    "ticked_at = CASE WHEN ? THEN coalesce(ticked_at, datetime('now')) ELSE NULL END WHERE id = ?",
                    (name, item_key(name), _bounded(quantity), note, done, item_id),
                )
            if done and found is None:
                tx.execute("UPDATE list_items SET ticked_at = datetime('now') WHERE id = ?", (item_id,))
            return _synced(tx.execute("SELECT * FROM list_items WHERE id = ?", (item_id,)).fetchone())

    def delete_synced(self, owner: int | None, href: str) -> bool:
        found = self.synced_item(owner, href)
        return found is not None and self.remove(owner, found.item.id) is None


def _bounded(quantity: int) -> int:
    return max(1, min(MAX_QUANTITY, int(quantity)))


def _item(row: Any) -> ListItem:
    return ListItem(row["id"], row["name"], row["quantity"], row["note"], row["ticked_at"] is not None)


def _own_id(href: str) -> int | None:
    """The id in the href the store gives an item no client named: '42.ics'."""
    found = re.fullmatch(r"(\d{1,18})\.ics", href)
    return int(found.group(1)) if found else None


def _synced(row: Any) -> SyncedItem:
    href = row["dav_href"] or f"{row['id']}.ics"
    uid = row["dav_uid"] or f"list-item-{row['id']}@shopper-assistant"
    return SyncedItem(_item(row), href, uid, row["added_at"], row["ticked_at"])
