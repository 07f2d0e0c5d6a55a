"""Calling a skill for a turn: who is ordering and the purchase code first where its permissions need them."""

from __future__ import annotations

import logging
from typing import Any

from assistant.dialogue.buying import Checkout
from assistant.dialogue.services import Services
from assistant.dialogue.state import Waiting
from assistant.dialogue.turn import TurnState
from assistant.errors import MemberNeeded, PermissionDenied, SkillError, StoreError
from assistant.household import Member
from assistant.sdk import Context, Reply, Request, ShopInfo
from assistant.skills.access_log import AccessLogReader, CallRecord
from assistant.skills.capabilities import (
    CartAccess,
    CatalogAccess,
    ListReader,
    ListWriter,
    Notifier,
    OrdersAccess,
    PriceWatchAccess,
    PrivacyAccess,
    ProfileAccess,
)
from assistant.skills.registry import LoadedSkill
from assistant.skills.sandbox import member_storage
from assistant.store import Orders, Recommender
from assistant.store.lists import ShoppingLists
from assistant.store.notices import Notifications
from assistant.store.watches import PriceWatches

log = logging.getLogger(__name__)

ACCOUNT_PERMISSIONS = frozenset(
    {"cart.write", "orders.read", "orders.place", "profile.read", "profile.erase", "prices.watch"}
)
"""A skill holding any of these acts on one person's account: a household device asks who first."""
SHARED_CODE_PERMISSIONS = frozenset({"orders.read", "profile.erase"})
"""From a shared door, a skill holding these (it reads a member's history, or erases it) needs that
member's purchase code first, as an order does."""
ERASE_PERMISSIONS = frozenset({"profile.erase"})
"""The purchase code guards erasing as it guards orders, on every door."""
HOUSEHOLD_PERMISSIONS = frozenset({"list.read", "list.write"})
"""What a household device may use without knowing who speaks. A built-in skill holding one of these is
called straight away there, and asks who only when it reaches for an account (``MemberNeeded``)."""

Answered = tuple[Reply, str | None]
"""A reply and the skill that gave it (None: the core)."""


class SkillCaller:
    """Runs one handler of a skill for a turn, with a time limit; a failure becomes an apology naming it."""

    def __init__(self, services: Services, checkout: Checkout) -> None:
        self.services = services
        self.checkout = checkout

    def call(
        self,
        turn: TurnState,
        loaded: LoadedSkill,
        intent: str,
        request: Request,
        *,
        method: str | None = None,
        data: dict | None = None,
    ) -> Answered:
        household_first = loaded.builtin and HOUSEHOLD_PERMISSIONS & loaded.permissions
        if turn.member is None and ACCOUNT_PERMISSIONS & set(loaded.permissions) and not household_first:
            return self.ask_who(turn, loaded, intent, request)
        if method is None and self._needs_code(turn, loaded):
            return self._ask_code(turn, loaded, intent, request)
        turn.calling = (intent, request)
        name = method or loaded.intents[intent]
        dispatcher = self.services.dispatcher
        record = None if loaded.builtin else self._recorder(turn, loaded)
        try:
            try:
                reply = dispatcher.call(
                    loaded,
                    name,
                    request,
                    data if method else None,
                    self.context(turn, loaded),
                    self.services.dialogue.skill_timeout,
                    record,
                )
            except BaseException:
                if record is not None:  # its writes were rolled back, what it read stays on the record
                    record.rolled_back()
                raise
        except StoreError:
            raise
        except MemberNeeded:  # its writes so far were rolled back with its call: ask, then call it again
            if turn.member is not None:
                raise
            return self.ask_who(turn, loaded, intent, request)
        except (SkillError, PermissionDenied) as exc:
            log.error("%s", exc)
            return dispatcher.failed(loaded), loaded.name
        dispatcher.succeeded(loaded)
        return reply, loaded.name

    def resume(self, turn: TurnState, waiting: Waiting) -> Answered:
        """Call the skill a question held back, now that it is answered."""
        loaded = self.services.dispatcher.by_name.get(waiting.skill)
        if loaded is None:  # switched off meanwhile
            apology = (
                f"Sorry, the {waiting.skill} skill had a problem, so I couldn't do that. Everything else still works."
            )
            return Reply(apology), waiting.skill
        return self.call(turn, loaded, waiting.intent, waiting.request)

    # -- who's ordering -----------------------------------------------------------------------
    def ask_who(self, turn: TurnState, loaded: LoadedSkill, intent: str, request: Request) -> Answered:
        members = self.services.household.members()
        if len(members) == 1 and turn.principal.allowed:
            self.use(turn, members[0])
            return self.call(turn, loaded, intent, request)
        turn.state.who = Waiting(loaded.name, intent, request)
        if not turn.principal.allowed:  # a client nobody named hears no one's name
            return Reply("Who's ordering? Say your name.", expect="answer"), None
        names = [m.name for m in members]
        return Reply(f"Who's ordering? Say your name: {', '.join(names[:-1])} or {names[-1]}.", expect="answer"), None

    def use(self, turn: TurnState, member: Member) -> None:
        """The turn acts on ``member``'s account from now on."""
        turn.state.member = member
        turn.capabilities = {}

    # -- the purchase code before a read-out or an erase --------------------------------------
    def _needs_code(self, turn: TurnState, loaded: LoadedSkill) -> bool:
        member = turn.member
        if member is None or turn.state.verified:
            return False
        shared = turn.principal.shared
        guarded = SHARED_CODE_PERMISSIONS if shared else ERASE_PERMISSIONS
        if not guarded & set(loaded.permissions):
            return False
        return shared or self.services.household.needs_code(member.id)

    def _ask_code(self, turn: TurnState, loaded: LoadedSkill, intent: str, request: Request) -> Answered:
        assert turn.member is not None
        refused = self.checkout.code_refusal(turn, "do that")
        if refused is not None:
            return refused, loaded.name
        turn.state.code_for = Waiting(loaded.name, intent, request)
        return Reply(f"What's the purchase code for {turn.member.name}?", expect="answer"), loaded.name

    # -- what the skill gets ------------------------------------------------------------------
    def context(self, turn: TurnState, loaded: LoadedSkill) -> Context:
        services = self.services
        shop = services.shop
        info = ShopInfo(
            shop.currency,
            shop.buying_enabled,
            shop.spending_cap,
            shop.delivery_address,
            shop.delivery_days,
            shop.max_quantity,
            services.dialogue.items_read,
        )
        capabilities = self._capabilities(turn)
        if not loaded.builtin:  # the log of what others did is for the built-in privacy skill only
            capabilities = {k: v for k, v in capabilities.items() if k != "access_log"}
        if turn.member is not None:  # rate-limited per skill and member, so each skill gets its own
            notifications = Notifications(services.db, shop.currency)
            notifier = Notifier(notifications, turn.member.id, loaded.name, builtin=loaded.builtin)
            capabilities = {**capabilities, "notify": notifier}
        state = turn.state
        member_id = turn.member.id if turn.member is not None else None
        return Context(
            loaded.name,
            frozenset(loaded.permissions),
            capabilities,
            state.conversation,
            state.memory.setdefault(loaded.name, {}),
            info,
            services.dispatcher.described(),
            member_storage(services.db.data_dir, loaded.name, turn.member),
            None if member_id is None else lambda: services.folders.ready(member_id),
        )

    def _capabilities(self, turn: TurnState) -> dict[str, Any]:
        if turn.capabilities:
            return turn.capabilities
        services = self.services
        member = turn.member
        lists = ShoppingLists(services.db)
        caps: dict[str, Any] = {"catalog": CatalogAccess(services.catalog)}
        if member is not None:
            orders = Orders(services.db, member.id)
            caps |= {
                "cart": CartAccess(orders),
                "orders": OrdersAccess(orders, Recommender(services.db, orders)),
                "profile": ProfileAccess(member.name, services.shop.delivery_address),
                "privacy": PrivacyAccess(lambda: self._forget(turn, member)),
                "access_log": AccessLogReader(services.access_log, member.name),
                "watches": PriceWatchAccess(PriceWatches(services.db, member.id)),
            }
        member_id = member.id if member is not None else None
        caps |= {"lists": ListReader(lists, member_id), "list_writer": ListWriter(lists, member_id)}
        turn.capabilities = caps
        return caps

    def _forget(self, turn: TurnState, member: Member) -> None:
        """The privacy skill's erase: everything of ``member``, everywhere, then this conversation afresh."""
        self.services.forget(member, turn.conversation_id)
        turn.state.start_afresh()

    def _recorder(self, turn: TurnState, loaded: LoadedSkill) -> CallRecord:
        """Puts each capability call of a third-party skill on the record, for the user to ask about."""
        return CallRecord(self.services.access_log, loaded.name, turn.member.name if turn.member else "")
