"""Every capability call a third-party skill makes, recorded locally so the user can ask what it saw."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from assistant.errors import StoreError
from assistant.store.access import LEGACY_FILE, Access, AccessLog
from assistant.store.notices import PER_DAY, PER_HOUR

__all__ = ["LEGACY_FILE", "Access", "AccessLog", "AccessLogReader", "CallRecord", "logged_capabilities", "summarize"]

log = logging.getLogger(__name__)


class CallRecord:
    """What one skill call does through its capabilities (the ``record`` a worker's call is given):
    written as it happens, in the call's transaction; if that transaction rolls back, written again
    after it (``rolled_back``)."""

    def __init__(self, log: AccessLog, skill: str, user: str) -> None:
        self.log = log
        self.skill = skill
        self.user = user
        self.entries: list[Access] = []

    def __call__(self, capability: str, method: str, args: tuple, kwargs: dict, result: object) -> None:
        self.entries.append(record_call(self.log, self.skill, capability, method, args, kwargs, result, self.user))

    def rolled_back(self) -> None:
        try:
            self.log.restore(self.entries)
        except StoreError as exc:  # the call's own failure is the one to report
            log.error("skill '%s': %d calls of the failed call could not be kept in the access log: %s",
                      self.skill, len(self.entries), exc)  # fmt: skip


# -- what a call did, in words ----------------------------------------------------------------
def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _title(product: Any) -> str:
    return str(getattr(product, "title", None) or getattr(product, "name", "an item"))


def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any = None) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


def _which(kwargs: dict) -> str:
    return "your own list" if kwargs.get("mine") else "the household's list"


def _search(args: tuple, kwargs: dict, result: Any) -> str:
    query = str(_arg(args, kwargs, 0, "query", "") or "")[:40]
    found = _count(len(result or []), "product")
    return f"searched the catalogue for '{query}': {found}" if query else f"browsed the catalogue: {found}"


_NOUNS = {"Product": "product", "Order": "order", "Suggestion": "suggestion", "Line": "basket line"}

Summary = Callable[[tuple, dict, Any], str]
SUMMARIES: dict[tuple[str, str], Summary] = {
    ("catalog", "search"): _search,
    ("catalog", "by_sku"): lambda a, k, r: f"looked up {_title(r)}" if r else "looked up a product code: nothing",
    ("catalog", "brands"): lambda a, k, r: f"read the list of {_count(len(r), 'brand')}",
    ("cart", "lines"): lambda a, k, r: f"read your basket ({_count(len(r), 'line')})",
    ("cart", "add"): lambda a, k, r: (
        f"added {_count(int(_arg(a, k, 1, 'quantity', 1)), 'item')} to the basket ({_title(_arg(a, k, 0, 'product'))})"
    ),
    ("cart", "remove"): lambda a, k, r: f"took {_title(_arg(a, k, 0, 'product'))} out of the basket",
    ("cart", "clear"): lambda a, k, r: "emptied the basket",
    ("cart", "total_pence"): lambda a, k, r: "read the basket's total",
    ("orders", "history"): lambda a, k, r: f"read {_count(len(r), 'order')} from your history",
    ("orders", "get"): lambda a, k, r: f"read order {_arg(a, k, 0, 'order_id')}" if r else "looked for an order",
    ("orders", "purchase_counts"): lambda a, k, r: f"read how often you bought {_count(len(r), 'product')}",
    ("orders", "recommend"): lambda a, k, r: f"got {_count(len(r), 'suggestion')} from your history",
    ("orders", "discover"): lambda a, k, r: f"got {_count(len(r), 'suggestion')} from your history",
    ("profile", "name"): lambda a, k, r: "read your name",
    ("profile", "address"): lambda a, k, r: "read your delivery address",
    ("privacy", "erase"): lambda a, k, r: "erased your data",
    ("lists", "items"): lambda a, k, r: f"read {_which(k)} ({_count(len(r), 'item')})",
    ("list_writer", "items"): lambda a, k, r: f"read {_which(k)} ({_count(len(r), 'item')})",
    ("list_writer", "add"): lambda a, k, r: f"put {_arg(a, k, 0, 'name')} on {_which(k)}",
    ("list_writer", "remove"): lambda a, k, r: f"took an item off {_which(k)}",
    ("list_writer", "tick"): lambda a, k, r: f"ticked an item on {_which(k)}",
    ("list_writer", "clear"): lambda a, k, r: f"cleared {_which(k)}",
    ("watches", "add"): lambda a, k, r: f"set a price watch on {_arg(a, k, 0, 'query')}",
    ("watches", "watches"): lambda a, k, r: f"read your price watches ({len(r)})",
    ("watches", "remove"): lambda a, k, r: "removed a price watch",
    ("watches", "unsaid"): lambda a, k, r: f"read your price news ({len(r)})",
    ("notify", "send"): lambda a, k, r: (
        f"sent you a notification: '{str(_arg(a, k, 0, 'text'))[:60]}'"
        if r
        else f"tried to send you a notification: refused, over its limit ({PER_HOUR} an hour, {PER_DAY} a day)"
    ),
}
"""How each capability method's call is told; anything else is told by the type of its result."""


def summarize(capability: str, method: str, args: tuple, kwargs: dict, result: Any) -> str:
    told = SUMMARIES.get((capability, method))
    if told is not None:
        try:
            return told(args, kwargs, result)
        except (TypeError, ValueError, AttributeError, IndexError):
            pass  # odd arguments still get the generic wording below
    if isinstance(result, list | tuple):
        kinds = {type(x).__name__ for x in result}
        noun = _NOUNS.get(kinds.pop(), "item") if len(kinds) == 1 else "item"
        return f"used {capability}.{method}: {_count(len(result), noun)}"
    if result is None:
        return f"used {capability}.{method}: nothing"
    return f"used {capability}.{method}: 1 {_NOUNS.get(type(result).__name__, 'value')}"


class _Logged:
    """A capability object whose every public method call is recorded before its result is returned."""

    def __init__(self, target: object, capability: str, skill: str, log: AccessLog, user: str) -> None:
        self._target = target
        self._capability = capability
        self._skill = skill
        self._log = log
        self._user = user

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # no way through to the store object the capability wraps
            raise AttributeError(name)
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        @functools.wraps(attr)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = attr(*args, **kwargs)
            except Exception as exc:
                record_call(self._log, self._skill, self._capability, name, args, kwargs, exc, self._user)
                raise
            record_call(self._log, self._skill, self._capability, name, args, kwargs, result, self._user)
            return result

        return call

    def __repr__(self) -> str:
        return f"<{self._capability} for skill '{self._skill}', logged>"


def record_call(
    log: AccessLog, skill: str, capability: str, method: str, args: tuple, kwargs: dict, result: Any, user: str = ""
) -> Access:
    """Record one call with a summary of its result (an exception it raised says it failed)."""
    if isinstance(result, BaseException):
        summary = f"tried {method}: failed ({type(result).__name__})"
    else:
        summary = summarize(capability, method, args, kwargs, result)
    return log.record(skill, capability, method, summary, user)


def logged_capabilities(
    capabilities: dict[str, object], skill: str, log: AccessLog, user: str = ""
) -> dict[str, object]:
    """The same capabilities, each call by ``skill`` recorded in ``log`` with a summary of its result."""
    return {name: _Logged(obj, name, skill, log, user) for name, obj in capabilities.items()}


class AccessLogReader:
    """access_log.read, a capability only built-in skills get: what third-party skills did."""

    def __init__(self, log: AccessLog, user: str | None = None) -> None:
        self._log = log
        self._user = user

    def entries(self, skill: str | None = None, since: datetime | None = None, limit: int = 200) -> list[Access]:
        return self._log.entries(skill, since, user=self._user, limit=limit)
