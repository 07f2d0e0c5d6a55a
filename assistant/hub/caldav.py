"""The shopping lists over CalDAV (RFC 4791) as to-do lists: Radicale serves the protocol, this is its storage.

Home Assistant's CalDAV integration, DAVx5 and other reminder apps sync them at ``/dav/``. A paired
device's token is the password (any user name): a member's device sees ``/NAME/household/`` (the
household's list) and ``/NAME/list/`` (their own); a household device sees ``/household/list/``. Each
item is one VTODO: its SUMMARY is the item ("2 × milk" for two), DESCRIPTION its note, and STATUS
COMPLETED when ticked. Radicale checks a client's If-Match against the ETag of the item as the store
has it, in the same store transaction as the write, so an edit made against an older copy (by voice,
or another phone) is refused with 412, not written over it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

import radicale
import radicale.config
import vobject
from a2wsgi import WSGIMiddleware
from dateutil import tz
from radicale import item as radicale_item
from radicale import pathutils
from radicale.auth import BaseAuth
from radicale.storage import BaseCollection, BaseStorage

from assistant.store.lists import ShoppingLists, SyncedItem

if TYPE_CHECKING:
    from assistant.app import App
    from assistant.hub.pairing import Pairing

HOUSEHOLD = "household"
"""The principal a household device logs in as (its list is the household's)."""
QUANTITY = re.compile(r"^\s*(\d{1,3})\s*(?:×|x)\s*(.+)$", re.I)
FAILED_LOGIN_DELAY_S = 1.0
"""Radicale waits this long before answering a wrong token: guessing a 256-bit token is hopeless anyway,
but a flood of tries is slowed."""
META = {"tag": "VCALENDAR", "C:supported-calendar-component-set": "VTODO"}


def summary(item: SyncedItem) -> str:
    return item.item.name if item.item.quantity == 1 else f"{item.item.quantity} × {item.item.name}"


def _when(stored: str | None) -> datetime:
    """The store's 'YYYY-MM-DD HH:MM:SS' (UTC) as an aware datetime (dateutil's UTC, which vobject writes as Z)."""
    at = datetime.fromisoformat(stored) if stored else datetime(2000, 1, 1)
    return at.replace(tzinfo=tz.UTC)


def _http_date(at: datetime) -> str:
    return format_datetime(at.astimezone(UTC), usegmt=True)


def vtodo(item: SyncedItem) -> vobject.base.Component:
    cal = vobject.iCalendar()
    todo = cal.add("vtodo")
    todo.add("uid").value = item.uid
    todo.add("dtstamp").value = _when(item.added_at)  # from the store, so the ETag changes only with the item
    todo.add("summary").value = summary(item)
    if item.item.note:
        todo.add("description").value = item.item.note
    todo.add("status").value = "COMPLETED" if item.item.ticked else "NEEDS-ACTION"
    if item.item.ticked:
        todo.add("completed").value = _when(item.ticked_at)
    return cal


def read_vtodo(component: Any) -> tuple[str, int, str, bool]:
    """A client's to-do as (name, quantity, note, done)."""
    todo = getattr(component, "vtodo", None)
    if todo is None:
        raise ValueError("only to-dos (VTODO) go on a shopping list")
    text = str(getattr(getattr(todo, "summary", None), "value", "") or "")
    found = QUANTITY.match(text)
    name, quantity = (found.group(2), int(found.group(1))) if found else (text, 1)
    note = str(getattr(getattr(todo, "description", None), "value", "") or "")[:200]
    status = str(getattr(getattr(todo, "status", None), "value", "") or "").upper()
    return name, max(1, quantity), note, status == "COMPLETED" or hasattr(todo, "completed")


class _Folder(BaseCollection):
    """The root or a principal: holds the lists, no items."""

    def __init__(self, path: str) -> None:
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def get_multi(self, hrefs: Iterable[str]) -> Iterator[tuple[str, None]]:
        return ((href, None) for href in hrefs)

    def get_all(self) -> Iterator[radicale_item.Item]:
        return iter(())

    def upload(self, href: str, item: radicale_item.Item):
        raise ValueError("to-dos go in a list, not here")

    def delete(self, href: str | None = None) -> None:
        raise ValueError("the shopping lists' folders cannot be deleted")

    def get_meta(self, key: str | None = None):
        return {} if key is None else None

    def set_meta(self, props: Mapping[str, str]) -> None:
        raise ValueError("the shopping lists' folders have no properties to set")

    @property
    def last_modified(self) -> str:
        return _http_date(_when(None))


class ListCollection(BaseCollection):
    """One shopping list as a calendar of to-dos."""

    def __init__(self, path: str, lists: ShoppingLists, owner: int | None, name: str) -> None:
        self._path = path
        self._lists = lists
        self._owner = owner
        self._meta = {**META, "D:displayname": name}

    @property
    def path(self) -> str:
        return self._path

    def _item(self, synced: SyncedItem) -> radicale_item.Item:
        changed = _when(synced.ticked_at or synced.added_at)
        return radicale_item.Item(
            collection=self,
            vobject_item=vtodo(synced),
            href=synced.href,
            last_modified=_http_date(changed),
        )

    def get_multi(self, hrefs: Iterable[str]) -> Iterator[tuple[str, radicale_item.Item | None]]:
        for href in hrefs:
            found = self._lists.synced_item(self._owner, href)
            yield href, self._item(found) if found is not None else None

    def get_all(self) -> Iterator[radicale_item.Item]:
        return (self._item(s) for s in self._lists.synced(self._owner))

    def upload(self, href: str, item: radicale_item.Item):
        old = next(iter(self.get_multi([href])))[1]
        name, quantity, note, done = read_vtodo(item.vobject_item)
        synced = self._lists.put_synced(self._owner, href, item.uid, name, quantity, note, done)
        return self._item(synced), old

    def delete(self, href: str | None = None) -> None:
        if href is None:  # "cannot be wiped by a misheard word", nor by a client deleting the calendar
            raise ValueError("a shopping list cannot be deleted; take its items off instead")
        self._lists.delete_synced(self._owner, href)

    def get_meta(self, key: str | None = None):
        return dict(self._meta) if key is None else self._meta.get(key)

    def set_meta(self, props: Mapping[str, str]) -> None:
        pass  # a client's colour or order for the list is its own business; nothing is stored

    @property
    def last_modified(self) -> str:
        items = self._lists.synced(self._owner)
        latest = max((_when(s.ticked_at or s.added_at) for s in items), default=_when(None))
        return _http_date(latest)


class ListStorage(BaseStorage):
    """Radicale's storage, made of the store's shopping lists: nothing else can be created or moved."""

    def __init__(self, configuration: radicale.config.Configuration, app: App) -> None:
        super().__init__(configuration)
        self._app = app
        self._lists = ShoppingLists(app.db)

    def _lists_of(self, principal: str) -> dict[str, tuple[int | None, str]] | None:
        """The principal's lists: name in the path -> (owner in the store, display name)."""
        if principal == HOUSEHOLD:
            return {"list": (None, "Household shopping list")}
        member = self._app.household.get(principal)
        if member is None:
            return None
        return {"household": (None, "Household shopping list"), "list": (member.id, f"{member.name}'s shopping list")}

    def discover(self, path: str, depth: str = "0", child_context_manager=None, user_groups=frozenset()):
        parts = [p for p in pathutils.strip_path(path).split("/") if p]
        if not parts:
            yield _Folder("")
            return
        lists = self._lists_of(parts[0])
        if lists is None:
            return
        if len(parts) == 1:
            yield _Folder(parts[0])
            if depth != "0":
                for name in lists:
                    yield self._collection(parts[0], name, lists)
            return
        if parts[1] not in lists or len(parts) > 3:
            return
        collection = self._collection(parts[0], parts[1], lists)
        if len(parts) == 3:
            found = next(iter(collection.get_multi([parts[2]])))[1]
            if found is not None:
                yield found
            return
        yield collection
        if depth != "0":
            yield from collection.get_all()

    def _collection(self, principal: str, name: str, lists: dict[str, tuple[int | None, str]]) -> ListCollection:
        owner, shown = lists[name]
        return ListCollection(f"{principal}/{name}", self._lists, owner, shown)

    def move(self, item, to_collection, to_href) -> None:
        raise ValueError("items stay on their list")

    def create_collection(self, href, items=None, props=None):
        raise ValueError("the shopping lists are made by the assistant, not by clients")

    @contextlib.contextmanager
    def acquire_lock(self, mode: str, user: str = "", *args: Any, **kwargs: Any) -> Iterator[None]:
        # a write request is one store transaction: Radicale's check of If-Match and the write it guards
        # see the same list, and a spoken change waits for it (or it for the spoken change), never between
        if mode == "w":
            with self._app.db.transaction():
                yield
        else:
            yield

    def verify(self) -> bool:
        return True


class TokenAuth(BaseAuth):
    """A paired device's token as the password; the device's member (or the household) is the user."""

    def __init__(self, configuration: radicale.config.Configuration, pairing: Pairing) -> None:
        super().__init__(configuration)
        self._pairing = pairing

    def _login(self, login: str, password: str) -> str:
        device = self._pairing.authenticate(password) if password else None
        if device is None:
            return ""
        return device.user or HOUSEHOLD


def caldav_app(app: App, pairing: Pairing) -> WSGIMiddleware:
    """Radicale with the store's lists and the hub's devices, as an ASGI app to mount at /dav."""
    configuration = radicale.config.load()
    configuration.update(
        {
            "auth": {
                "type": lambda conf: TokenAuth(conf, pairing),
                "delay": FAILED_LOGIN_DELAY_S,
                "cache_logins": False,
            },
            "storage": {"type": lambda conf: ListStorage(conf, app)},
            "rights": {"type": "owner_only"},
            "web": {"type": "none"},
        },
        "assistant",
        privileged=True,
    )
    return WSGIMiddleware(radicale.Application(configuration))
