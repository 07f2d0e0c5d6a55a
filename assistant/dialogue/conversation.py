"""One conversation: a user turn in, one reply out, with its own context, questions and memory.

Many conversations run at once against one `App` (one trained model, one store): each turn of a
conversation holds that conversation's lock, so its own turns are in order, while other
conversations' turns run in their own threads.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.dialogue.confirm import Answer, fill_slot, read_answer
from assistant.dialogue.session import PendingConfirm, PendingSlot, Session
from assistant.errors import AssistantError, MemberNeeded, PermissionDenied, SkillError, StoreError
from assistant.household import Member
from assistant.nlu.embedded import clean
from assistant.nlu.parse import Entity, Parse
from assistant.principal import Principal
from assistant.purchase import PlaceResult, Refusal, when
from assistant.sdk import Context, Reply, Request, ShopInfo, join, price_news
from assistant.sdk.phrasing import money, number
from assistant.skills.access_log import AccessLogReader
from assistant.skills.capabilities import (
    CartAccess,
    CatalogAccess,
    ListReader,
    ListWriter,
    OrdersAccess,
    PriceWatchAccess,
    PrivacyAccess,
    ProfileAccess,
)
from assistant.skills.isolation import Recorder
from assistant.skills.registry import LoadedSkill
from assistant.store import Orders, Quote, Recommender
from assistant.store.lists import ShoppingLists
from assistant.store.watches import PriceWatches

if TYPE_CHECKING:
    from assistant.app import App

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
CAREFUL_INTENTS = frozenset({"remove_from_cart", "remove_from_list", "delete_my_data", "checkout", "reorder"})
"""Costly or destructive: understood with low confidence, the core asks before acting."""
CAREFUL_BELOW = 0.6


@dataclass
class Turn:
    """One exchange: what was heard, how it was understood, what was answered."""

    text: str
    intent: str | None
    confidence: float
    entities: list[Entity] = field(default_factory=list)
    skill: str | None = None
    reply: str = ""
    expecting: bool = False
    """True when the assistant asked a question and listens for the answer without the wake phrase."""
    end: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "entities": [e.to_rasa() for e in self.entities],
            "skill": self.skill,
            "reply": self.reply,
        }


@dataclass
class _Account:
    member: Member
    orders: Orders
    capabilities: dict[str, Any]
    verified: bool = False
    """The member's purchase code was given for the question in hand."""


class Conversation:
    """The state of one conversation (what was shown, what is asked, skills' memories) and its turns."""

    def __init__(self, app: App, client_id: str, principal: Principal) -> None:
        self.app = app
        self.principal = principal
        self.client_id = client_id
        """The id the client chose; unique only together with the principal."""
        self.id = f"{principal.key}/{client_id}"
        """What quotes are bound to: the principal's key and the client's id."""
        self.session = Session()
        self.last_used = time.monotonic()
        self._lock = threading.Lock()
        self._account: _Account | None = None
        self._who: tuple[LoadedSkill, str, Request] | None = None
        """A request waiting for the answer to "who's ordering?"."""
        self._code: PendingConfirm | None = None
        """A confirmed purchase waiting for the buyer's purchase code."""
        self._code_for: tuple[LoadedSkill, str, Request] | None = None
        """A request (a history read-out, an erase) waiting for the member's purchase code."""
        if principal.user is not None:
            self._use(app.household.require(principal.user))
        self._news_told = False
        """Price news is said once, at the start of the speaker's conversation (``_with_news``)."""

    # -- whose account ------------------------------------------------------------------------
    @property
    def member(self) -> Member | None:
        return self._account.member if self._account else None

    def _use(self, member: Member) -> None:
        orders = Orders(self.app.db, member.id)
        self._account = _Account(
            member,
            orders,
            {
                "catalog": CatalogAccess(self.app.catalog),
                "cart": CartAccess(orders),
                "orders": OrdersAccess(orders, Recommender(self.app.db, orders)),
                "profile": ProfileAccess(member.name, self.app.config.shop.delivery_address),
                "privacy": PrivacyAccess(lambda: self._forget(member)),
                "access_log": AccessLogReader(self.app.access_log, member.name),
                "watches": PriceWatchAccess(PriceWatches(self.app.db, member.id)),
                **self._lists(member.id),
            },
        )

    def _lists(self, member_id: int | None) -> dict[str, Any]:
        lists = ShoppingLists(self.app.db)
        return {"lists": ListReader(lists, member_id), "list_writer": ListWriter(lists, member_id)}

    def _forget(self, member: Member) -> None:
        """The privacy skill's erase: everything of ``member``, everywhere, then this conversation afresh."""
        self.app.forget(member, asking=self)
        self._fresh_session()

    def forget_session(self) -> None:
        """Another door erased this conversation's member: what it remembers of them goes."""
        with self._lock:
            self._drop_pending()
            self._fresh_session()

    def _fresh_session(self) -> None:
        self.app.dispatcher.forget_memories(self.session.memory_key)
        self.session = Session(last_reply=self.session.last_reply)

    # -- one turn -----------------------------------------------------------------------------
    def handle(self, text: str, parse: Parse | None = None) -> Turn:
        """Answer one user turn. ``parse`` is the NLU's reading when the caller already has it (speech)."""
        with self._lock:
            self.last_used = time.monotonic()
            text = clean(text)
            if not any(ch.isalnum() for ch in text):
                return self._finish(Turn(text, None, 0.0), self._unheard(), None)
            try:
                parse = parse or self.app.parse(text)
            except AssistantError as exc:  # e.g. the Rasa server went away and could not come back
                log.error("%s", exc)
                return self._finish(Turn(text, None, 0.0), Reply(f"Sorry, I couldn't understand that: {exc}"), None)
            turn = Turn(text, parse.intent.name, parse.intent.confidence, list(parse.entities))
            request = Request(parse.intent.name, text, parse.intent.confidence, tuple(parse.entities))
            try:
                reply, skill = self._route(request, parse)
            except StoreError as exc:  # busy, full, corrupt, read-only: say so, keep running
                log.error("turn failed: %s", exc)
                reply, skill = Reply(_spoken(exc)), None
            except sqlite3.Error as exc:  # one the store did not name: the same, said plainly
                log.error("turn failed: the database: %s", exc)
                reply, skill = Reply(_spoken(StoreError(str(exc)))), None
            except AssistantError as exc:
                log.error("turn failed: %s", exc)
                reply, skill = Reply("Sorry, something went wrong on my side, so I couldn't do that."), None
            turn.skill = skill
            turn = self._finish(turn, reply, skill)
            self._question_over()
            return turn

    def _question_over(self) -> None:
        """Once nothing is asked any more, a shared door forgets whose account it used: the next read
        of a member's orders names the member again. No "still alice?" window: a shared speaker cannot
        tell who stands at it now, and a window is exactly the gap in which the next person acts as alice."""
        if self.session.confirm or self.session.slot or self._code or self._code_for or self._who:
            return
        if self._account is not None:
            self._account.verified = False
            if self.principal.shared:
                self._account = None

    def _with_news(self, speech: str) -> str:
        """The first reply to a known speaker starts with what their price watches found since they last
        heard (two at most; "what did I miss?" reads the rest). Each piece of news is said once."""
        if self._news_told or self._account is None:
            return speech
        self._news_told = True
        watches = PriceWatches(self.app.db, self._account.member.id)
        try:
            if not watches.pending():
                return speech
            news = watches.unsaid(limit=2)
            left = watches.pending()
        except StoreError as exc:  # the news keeps for the next conversation
            log.error("price news not read: %s", exc)
            return speech
        currency = self.app.config.shop.currency
        said = join([price_news(n, currency) for n in news])
        more = f" And {left} more: say what did I miss." if left else ""
        return f"By the way, {said}.{more} {speech}"

    def _unheard(self) -> Reply:
        pending = self.session.confirm
        if pending is not None:  # the question stands, asked again in full
            return Reply(f"Sorry, {_lower_first(pending.question)} Yes or no.", expect="confirm")
        return Reply("I didn't catch that. You can ask me to search for something, or say help.")

    def _finish(self, turn: Turn, reply: Reply, skill: str | None) -> Turn:
        try:
            turn.reply = self._with_news(self._apply(reply, skill))
        except Exception:  # noqa: BLE001 - a reply the core cannot act on must not end the conversation
            log.exception("skill '%s' sent a reply the assistant could not act on", skill)
            self.session.confirm = None
            who = f"the {skill} skill" if skill else "something on my side"
            turn.reply = f"Sorry, {who} had a problem, so I couldn't do that. Everything else still works."
        turn.expecting = reply.expect != "none" or self.session.confirm is not None
        turn.end = reply.end
        if turn.intent != "repeat":
            self.session.last_reply = turn.reply
        return turn

    def _route(self, request: Request, parse: Parse) -> tuple[Reply, str | None]:
        session = self.session
        intent = request.intent
        if intent == "repeat":
            return Reply(
                session.last_reply or "I haven't said anything yet. What would you like?", why=session.why
            ), None
        if intent == "explain_recommendation" and session.why:
            # the reason the last reply gave for its choice; a question it asked still stands
            pending = session.confirm
            tail = " " + re.split(r"(?<=[.!?]) ", pending.question)[-1] if pending is not None else ""
            return Reply(session.why + tail, expect="confirm" if pending else "none", why=session.why), None
        refused, session.refused = session.refused, False
        if self._code is not None:
            return self._purchase_code(request)
        if self._code_for is not None:
            return self._code_then_call(request)
        if self._who is not None:
            return self._whos_ordering(request)
        if intent == "cancel":
            had = session.confirm or session.slot
            self._drop_pending()
            return Reply("Okay, cancelled. What else?" if had else "Okay. Anything else?"), None
        if session.confirm is not None:
            pending = session.confirm
            answer = read_answer(request)
            if answer is Answer.YES:
                session.confirm = None
                try:
                    return self._confirmed(pending, request)
                except (StoreError, sqlite3.Error) as exc:  # nothing happened: the question stands
                    log.error("turn failed: %s", exc)
                    session.confirm = pending
                    spoken = _spoken(exc if isinstance(exc, StoreError) else StoreError(str(exc)))
                    return Reply(f"{spoken} {pending.question}".strip(), expect="confirm"), pending.skill
            if answer is Answer.NO:
                session.confirm = None
                return self._denied(pending, request)
            if answer is Answer.UNCLEAR:
                # not a clear yes or no: the question stands, asked again in full
                return Reply(f"Sorry, {_lower_first(pending.question)} Yes or no.", expect="confirm"), pending.skill
            self._drop_pending()  # a clear new command: the question is dropped, the command handled
        if session.slot is not None:
            pending_slot, session.slot = session.slot, None
            filled = fill_slot(pending_slot, request, self.app.dispatcher.routes)
            loaded = self.app.dispatcher.by_name.get(pending_slot.skill)
            if filled is not None and loaded is not None:
                return self._call(loaded, pending_slot.intent, filled)
        if intent == "affirm":
            if refused:
                return Reply("Nothing was ordered: I couldn't place that one. What would you like to do?"), None
            if session.last_order_id is not None:
                return Reply("Your order is already placed. Anything else?"), None
            return Reply("There's nothing to confirm right now. What would you like to do?"), None
        if intent == "deny":
            return Reply("Okay. Anything else?"), None
        routes = self.app.dispatcher.routes
        loaded = routes.get(intent) or routes.get("out_of_scope")
        if loaded is None:
            return Reply("Sorry, I can't help with that yet."), None
        intent = intent if intent in loaded.intents else "out_of_scope"
        if intent in CAREFUL_INTENTS and request.confidence < CAREFUL_BELOW:
            question = f"Just to check: do you want me to {_describe(intent)}?"
            session.confirm = PendingConfirm(loaded.name, f"intent:{intent}", {}, question=question, request=request)
            return Reply(question, expect="confirm"), loaded.name
        return self._call(loaded, intent, request)

    def end(self) -> None:
        """The conversation is over (the client left, or it went idle): a pending question expires,
        and skills' memories of it go."""
        with self._lock:
            self._drop_pending()
            self.app.dispatcher.forget_memories(self.session.memory_key)

    def _drop_pending(self) -> None:
        for pending in (self.session.confirm, self._code):
            if pending is not None and pending.quote is not None:
                self.app.gate.cancel(pending.quote.token)
        self.session.clear_pending()
        self._code = self._code_for = self._who = None

    # -- confirmations ------------------------------------------------------------------------
    def _confirmed(self, pending: PendingConfirm, request: Request) -> tuple[Reply, str | None]:
        if pending.quote is not None:
            return self._buy(pending), pending.skill
        dispatcher = self.app.dispatcher
        if pending.action.startswith("intent:"):
            intent = pending.action.removeprefix("intent:")
            target = dispatcher.routes.get(intent)
            if target is None:
                return Reply("Sorry, I can't do that right now."), None
            offered = pending.request or Request(intent, request.text, request.confidence, ())
            offered = Request(intent, offered.text, offered.confidence, offered.entities, confirmed=True)
            return self._call(target, intent, offered)
        loaded = dispatcher.by_name.get(pending.skill)
        handler = loaded.confirm_actions.get(pending.action) if loaded else None
        if loaded is None or handler is None:
            return Reply("Okay."), pending.skill
        return self._call(loaded, request.intent, request, method=handler, data=pending.data)

    def _denied(self, pending: PendingConfirm, request: Request) -> tuple[Reply, str | None]:
        if pending.quote is not None:
            self.app.gate.cancel(pending.quote.token)
        loaded = self.app.dispatcher.by_name.get(pending.skill)
        handler = loaded.deny_actions.get(pending.action) if loaded else None
        if loaded is not None and handler is not None:
            return self._call(loaded, request.intent, request, method=handler, data=pending.data)
        if pending.quote is not None:
            return Reply("Okay, I haven't ordered anything. What else?"), pending.skill
        return Reply("Okay, I won't. Anything else?"), pending.skill

    # -- buying -------------------------------------------------------------------------------
    def _buy(self, pending: PendingConfirm) -> Reply:
        """A yes to the total: the buyer's purchase code first, if they have one, then the order."""
        account = self._account
        assert account is not None and pending.quote is not None
        household = self.app.household
        refused = self._code_refusal("place an order")
        if refused is not None:
            self.app.gate.cancel(pending.quote.token)
            return refused
        if household.needs_code(account.member.id) and not account.verified:
            self._code = pending
            return Reply(f"What's the purchase code for {account.member.name}?", expect="answer")
        return self._place(pending)

    def _code_refusal(self, doing: str) -> Reply | None:
        """Why the member's code cannot be asked for here: buying is locked at this door, or the member
        has none and this is a shared door (where only a code tells the member from anyone else)."""
        account = self._account
        assert account is not None
        household = self.app.household
        locked = household.locked_for(account.member.id, self.principal.lock_key)
        if locked:
            return Reply(
                f"Buying is locked here for {max(1, round(locked / 60))} more minutes after three wrong purchase codes. "
                "Your basket is kept."
            )
        if self.principal.shared and not household.needs_code(account.member.id):
            name = account.member.name
            return Reply(
                f"{name} has no purchase code, so I can't {doing} for {name} from a shared device. "
                f"{name} can set one with: assistant users set-code {name}"
            )
        return None

    def _check_code(self, text: str) -> bool | None:
        """True for the right code, False for a wrong one, None when that wrong one locked this door."""
        assert self._account is not None
        member, door = self._account.member.id, self.principal.lock_key
        if self.app.household.check_code(member, text, door):
            self._account.verified = True
            return True
        return None if self.app.household.locked_for(member, door) else False

    def _purchase_code(self, request: Request) -> tuple[Reply, str | None]:
        pending, self._code = self._code, None
        assert pending is not None and pending.quote is not None and self._account is not None
        if request.intent in ("cancel", "deny"):
            self.app.gate.cancel(pending.quote.token)
            return Reply("Okay, I haven't ordered anything. What else?"), pending.skill
        right = self._check_code(request.text)
        if right:
            return self._place(pending), pending.skill
        if right is None:
            self.app.gate.cancel(pending.quote.token)
            return Reply("That code isn't right, so buying is locked for ten minutes. Your basket is kept."), None
        self._code = pending
        return Reply("That code isn't right. What's the purchase code?", expect="answer"), pending.skill

    def _place(self, pending: PendingConfirm) -> Reply:
        assert self._account is not None and pending.quote is not None
        result: PlaceResult = self.app.gate.place(pending.quote.token, self._account.member.id, self.id)
        shop = self.app.config.shop
        if result.outcome == "placed" and result.order is not None:
            self.session.last_order_id = result.order.id
            return Reply(f"Done. Order {result.order.id} is placed; it should arrive {when(shop.delivery_days)}.")
        if result.outcome == "already_placed":
            if result.order is not None:
                self.session.last_order_id = result.order.id
            return Reply("Your order is already placed. Anything else?")
        if result.outcome == "changed":
            quote = self.app.gate.quote(self._account.member.id, self.id, pending.lines)
            if isinstance(quote, Refusal):
                return Reply(f"Your basket changed since I read it out. {quote.speech}")
            return self._ask_purchase(
                Reply("Your basket changed since I read it out.", purchase=None), pending.skill, pending, quote
            )
        return Reply(result.speech or "Sorry, that checkout has expired. Say check out to start again.")

    def _propose(self, reply: Reply, skill: str) -> str:
        """A skill proposed a purchase: the gate prices it and the core asks, naming the real total."""
        loaded = self.app.dispatcher.by_name.get(skill)
        if loaded is None or "orders.place" not in loaded.permissions:
            log.error("skill '%s' proposed a purchase without the 'orders.place' permission", skill)
            return f"Sorry, the {skill} skill had a problem, so I couldn't do that. Everything else still works."
        assert self._account is not None and reply.purchase is not None
        lines = reply.purchase.lines
        quote = self.app.gate.quote(self._account.member.id, self.id, lines)
        if isinstance(quote, Refusal):
            self.session.refused = True
            lead = reply.speech.strip() if loaded.builtin else ""
            return f"{lead} {quote.speech}".strip()
        pending = PendingConfirm(skill, reply.action or "purchase", reply.data, lines=lines)
        return self._ask_purchase(reply, skill, pending, quote).speech

    def _ask_purchase(self, reply: Reply, skill: str, pending: PendingConfirm, quote: Quote) -> Reply:
        """The core's question, naming the real total. A third-party skill's own words are not spoken
        with it: "that's 1 item for 99p" once ran straight into the core's "Shall I place the order?"
        for 24 pounds; the core reads what it would order instead."""
        question = self.app.gate.question(quote)
        loaded = self.app.dispatcher.by_name.get(skill)
        if loaded is not None and not loaded.builtin:
            question = f"The {skill} skill suggests an order. Here is what I'd order: {self._read_lines(quote)}. {question}"
            lead = ""
        else:
            lead = reply.speech.strip()
        pending.quote = quote
        pending.question = question
        self.session.confirm = pending
        return Reply(f"{lead} {question}".strip(), expect="confirm")

    def _read_lines(self, quote: Quote) -> str:
        currency = self.app.config.shop.currency
        read = [
            f"{number(line.quantity)} {line.product.title}, {money(line.total_pence, currency)}"
            for line in quote.lines[:3]
        ]
        more = len(quote.lines) - len(read)
        return "; ".join(read) + (f"; and {number(more)} more" if more else "")

    # -- calling skills -----------------------------------------------------------------------
    def context(self, loaded: LoadedSkill) -> Context:
        shop = self.app.config.shop
        info = ShopInfo(
            shop.currency,
            shop.buying_enabled,
            shop.spending_cap,
            shop.delivery_address,
            shop.delivery_days,
            shop.max_quantity,
            self.app.config.dialogue.items_read,
        )
        capabilities = (
            self._account.capabilities
            if self._account
            else {"catalog": CatalogAccess(self.app.catalog), **self._lists(None)}
        )
        if not loaded.builtin:  # the log of what others did is for the built-in privacy skill only
            capabilities = {k: v for k, v in capabilities.items() if k != "access_log"}
        return Context(
            loaded.name,
            frozenset(loaded.permissions),
            capabilities,
            self.session.conversation,
            self.session.memory.setdefault(loaded.name, {}),
            info,
            self.app.dispatcher.described(),
            self.app.skill_storage(loaded.name, self.member),
            memory_key=self.session.memory_key,
        )

    def _call(
        self,
        loaded: LoadedSkill,
        intent: str,
        request: Request,
        *,
        method: str | None = None,
        data: dict | None = None,
    ) -> tuple[Reply, str | None]:
        """Run a handler with a time limit; any failure becomes a short apology naming the skill."""
        household_first = loaded.builtin and HOUSEHOLD_PERMISSIONS & loaded.permissions
        if self._account is None and ACCOUNT_PERMISSIONS & set(loaded.permissions) and not household_first:
            return self._ask_who(loaded, intent, request)
        if method is None and self._needs_code(loaded):
            return self._ask_code(loaded, intent, request)
        self.session.calling = (intent, request)
        name = method or loaded.intents[intent]
        try:
            reply = self.app.dispatcher.call(
                loaded,
                name,
                request,
                data if method else None,
                self.context(loaded),
                self.app.config.dialogue.skill_timeout,
                None if loaded.builtin else self._recorder(loaded),
            )
        except StoreError:
            raise
        except MemberNeeded:  # its writes so far were rolled back with its call: ask, then call it again
            if self._account is not None:
                raise
            return self._ask_who(loaded, intent, request)
        except (SkillError, PermissionDenied) as exc:
            log.error("%s", exc)
            return self.app.skill_failed(loaded), loaded.name
        self.app.skill_succeeded(loaded)
        return reply, loaded.name

    def _recorder(self, loaded: LoadedSkill) -> Recorder:
        """Puts each capability call of a third-party skill on the record, for the user to ask about."""
        user = self.member.name if self.member else ""

        def record(capability: str, method: str, args: tuple, kwargs: dict, result: object) -> None:
            self.app.access_log.record_call(loaded.name, capability, method, args, kwargs, result, user)

        return record

    def _needs_code(self, loaded: LoadedSkill) -> bool:
        account = self._account
        if account is None or account.verified:
            return False
        guarded = SHARED_CODE_PERMISSIONS if self.principal.shared else ERASE_PERMISSIONS
        if not guarded & set(loaded.permissions):
            return False
        return self.principal.shared or self.app.household.needs_code(account.member.id)

    def _ask_code(self, loaded: LoadedSkill, intent: str, request: Request) -> tuple[Reply, str | None]:
        assert self._account is not None
        refused = self._code_refusal("do that")
        if refused is not None:
            return refused, loaded.name
        self._code_for = (loaded, intent, request)
        return Reply(f"What's the purchase code for {self._account.member.name}?", expect="answer"), loaded.name

    def _code_then_call(self, request: Request) -> tuple[Reply, str | None]:
        waiting, self._code_for = self._code_for, None
        assert waiting is not None
        loaded, intent, original = waiting
        if request.intent in ("cancel", "deny"):
            return Reply("Okay, I haven't done anything. What else?"), loaded.name
        right = self._check_code(request.text)
        if right:
            return self._call(loaded, intent, original)
        if right is None:
            return Reply("That code isn't right, so it's locked here for ten minutes."), None
        self._code_for = waiting
        return Reply("That code isn't right. What's the purchase code?", expect="answer"), loaded.name

    def _ask_who(self, loaded: LoadedSkill, intent: str, request: Request) -> tuple[Reply, str | None]:
        members = self.app.household.members()
        if len(members) == 1 and self.principal.allowed:
            self._use(members[0])
            return self._call(loaded, intent, request)
        self._who = (loaded, intent, request)
        if not self.principal.allowed:  # a client nobody named hears no one's name
            return Reply("Who's ordering? Say your name.", expect="answer"), None
        names = [m.name for m in members]
        return Reply(f"Who's ordering? Say your name: {', '.join(names[:-1])} or {names[-1]}.", expect="answer"), None

    def _whos_ordering(self, request: Request) -> tuple[Reply, str | None]:
        waiting, self._who = self._who, None
        assert waiting is not None
        if request.intent in ("cancel", "deny"):
            return Reply("Okay. Anything else?"), None
        member = self.app.household.recognise(request.text)
        if member is None:
            self._who = waiting
            return Reply("Sorry, I didn't catch whose account. Who's ordering?", expect="answer"), None
        self._use(member)
        loaded, intent, original = waiting
        return self._call(loaded, intent, original)

    # -- replies ------------------------------------------------------------------------------
    def _apply(self, reply: Reply, skill: str | None) -> str:
        """Record what the reply shows and expects; return the words to speak."""
        conv = self.session.conversation
        self.session.why = reply.why
        if reply.items is not None:
            conv.last_list = list(reply.items)
            conv.listed_count = reply.listed if reply.listed is not None else len(reply.items)
            conv.focus = reply.focus or (reply.items[0] if len(reply.items) == 1 else None)
        elif reply.focus is not None:
            conv.focus = reply.focus
        if reply.expect == "confirm" and skill and reply.purchase is not None:
            return self._propose(reply, skill)
        if reply.expect == "confirm" and skill and self.session.confirm is None:
            self.session.confirm = PendingConfirm(skill, reply.action or "", reply.data, question=reply.speech)
        if reply.expect == "slot" and skill and reply.slot:
            intent, request = self.session.calling
            self.session.slot = PendingSlot(skill, intent, reply.slot, request.entities, reply.data)
        return reply.speech


def _spoken(exc: StoreError) -> str:
    spoken = getattr(exc, "spoken", None)
    if isinstance(spoken, str) and spoken:
        return spoken
    return "Sorry, I couldn't reach my database just now, so nothing was changed. Please try again in a moment."


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def _describe(intent: str) -> str:
    return {
        "remove_from_cart": "take something out of your basket",
        "delete_my_data": "delete your data",
        "checkout": "check out",
        "reorder": "order something again",
        "remove_from_list": "take something off the list",
    }.get(intent, re.sub("_", " ", intent))


__all__ = ["Conversation", "Turn"]
