"""The dialogue layer: one user turn in, one reply out, with context, confirmation and slot filling."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Config
from assistant.dialogue.session import PendingConfirm, PendingSlot, Session
from assistant.errors import AssistantError, PermissionDenied
from assistant.nlu import NluEngine, TrainingData, create_engine, load_training_data
from assistant.nlu.embedded import clean
from assistant.nlu.parse import Entity, IntentScore, Parse
from assistant.nlu.values import normalise
from assistant.sdk import Context, Reply, Request, ShopInfo, money, plural
from assistant.skills.capabilities import (
    CartAccess,
    CatalogAccess,
    CheckoutAccess,
    OrdersAccess,
    PrivacyAccess,
    ProfileAccess,
)
from assistant.skills.isolation import SkillCrashed, SkillTimedOut, SkillWorker
from assistant.skills.registry import LoadedSkill, SkillProblem, discover
from assistant.skills.state import SkillStates
from assistant.store import Catalog, Database, Orders, Recommender, ensure_demo

log = logging.getLogger(__name__)

TYPED_SLOTS = {"quantity", "ordinal", "price"}
FAILURES_BEFORE_DISABLE = 3
"""A third-party skill that fails this many times in a row is switched off."""


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


def _when(days: int) -> str:
    return {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")


class Dialogue:
    """Owns the store, the NLU engine and the skills for one user's conversation."""

    def __init__(
        self,
        config: Config,
        data_dir: Path | None = None,
        engine: str | None = None,
        *,
        skills: tuple[list[LoadedSkill], list[SkillProblem]] | None = None,
    ) -> None:
        self.config = config
        self.db = Database(data_dir or config.data_dir)
        ensure_demo(self.db, config.user)
        self.catalog = Catalog(self.db)
        self.orders = Orders(self.db, config.user)
        self.recommender = Recommender(self.db, self.orders)
        installed, self.problems = skills or discover(config.skills)
        self.states = SkillStates(self.db.data_dir)
        self.skills = [s for s in installed if self.states.enabled(s.name, s.builtin)]
        self.disabled = [s for s in installed if s not in self.skills]
        self.by_name = {s.name: s for s in self.skills}
        self.routes: dict[str, LoadedSkill] = {}
        self._route_skills()
        isolation = config.dialogue.isolation
        self.workers: dict[str, SkillWorker] = {
            s.name: SkillWorker(s.name, s.target, s.settings, frozenset(s.cls.permissions), [self.db.data_dir])
            for s in self.skills
            if s.target and (isolation == "all" or (isolation == "third-party" and not s.builtin))
        }
        for worker in self.workers.values():
            worker.start_in_background()
        self.engine_name = engine or config.nlu.engine
        self.engine: NluEngine = self._train()
        self.session = Session()
        self._calling: tuple[str, Request] = ("", Request("", ""))
        self._capabilities = {
            "catalog": CatalogAccess(self.catalog),
            "cart": CartAccess(self.orders),
            "orders": OrdersAccess(self.orders, self.recommender),
            "checkout": CheckoutAccess(self.orders),
            "profile": ProfileAccess(config.user, config.shop.delivery_address),
            "privacy": PrivacyAccess(self.orders, self._forget_session),
        }

    # -- set-up -------------------------------------------------------------------------------
    def _route_skills(self) -> None:
        """Intent -> skill. On a clash a built-in keeps its intent, else the first by name; both logged."""
        self.routes = {}
        for loaded in sorted(self.skills, key=lambda s: (not s.builtin, s.name)):
            for intent_name in loaded.intents:
                owner = self.routes.get(intent_name)
                if owner is not None:
                    log.warning(
                        "skills '%s' and '%s' both handle intent '%s'; '%s' keeps it",
                        owner.name,
                        loaded.name,
                        intent_name,
                        owner.name,
                    )
                    continue
                self.routes[intent_name] = loaded

    def training_data(self) -> TrainingData:
        data = load_training_data([s.nlu_file for s in self.skills if s.nlu_file], self.config.nlu)
        # brands the shop sells are heard as brands even if no example mentions them
        data.lookups.setdefault("brand", []).extend(b.lower() for b in self.catalog.brands())
        # and the products it sells give the tagger a vocabulary of product words
        data.lookups.setdefault("product", []).extend(self.catalog.product_names())
        return data

    def _train(self) -> NluEngine:
        engine = create_engine(self.engine_name, self.config.nlu)
        cache = Path(os.environ.get("ASSISTANT_MODEL_CACHE") or self.db.data_dir / "models")
        engine.train(self.training_data(), cache)
        return engine

    def _forget_session(self) -> None:
        self.session = Session(last_reply=self.session.last_reply)
        for worker in self.workers.values():  # skills' own memories go too
            worker.stop()

    def close(self) -> None:
        for worker in self.workers.values():
            worker.stop()
        self.engine.close()
        self.db.close()

    # -- one turn -----------------------------------------------------------------------------
    def parse(self, text: str) -> Parse:
        """The engine's parse, with unsure ones turned into out_of_scope."""
        parse = self.engine.parse(text)
        intent = parse.intent
        if intent.confidence < self.config.nlu.threshold and intent.name != "out_of_scope":
            parse = Parse(parse.text, IntentScore("out_of_scope", intent.confidence), parse.ranking, parse.entities)
        return parse

    def handle(self, text: str) -> Turn:
        text = clean(text)
        if not any(ch.isalnum() for ch in text):
            reply = Reply("I didn't catch that. You can ask me to search for something, or say help.")
            return self._finish(Turn(text, None, 0.0), reply, None)
        try:
            parse = self.parse(text)
        except AssistantError as exc:  # e.g. the Rasa server went away and could not come back
            log.error("%s", exc)
            return self._finish(Turn(text, None, 0.0), Reply(f"Sorry, I couldn't understand that: {exc}"), None)
        turn = Turn(text, parse.intent.name, parse.intent.confidence, list(parse.entities))
        request = Request(parse.intent.name, text, parse.intent.confidence, tuple(parse.entities))
        try:
            reply, skill = self._route(request)
        except AssistantError as exc:  # the store failed: say what to do next
            log.error("turn failed: %s", exc)
            reply, skill = (
                Reply("Sorry, something went wrong on my side, so I couldn't do that. Please try again."),
                None,
            )
        turn.skill = skill
        return self._finish(turn, reply, skill)

    def _finish(self, turn: Turn, reply: Reply, skill: str | None) -> Turn:
        turn.reply = self._apply(reply, skill)
        turn.expecting = reply.expect != "none"
        turn.end = reply.end
        if turn.intent != "repeat":
            self.session.last_reply = turn.reply
        return turn

    def _route(self, request: Request) -> tuple[Reply, str | None]:
        session = self.session
        intent = request.intent
        if intent == "repeat":
            return Reply(session.last_reply or "I haven't said anything yet. What would you like?"), None
        if intent == "cancel":
            had = session.confirm or session.slot
            session.clear_pending()
            return Reply("Okay, cancelled. What else?" if had else "Okay. Anything else?"), None
        if session.confirm is not None:
            pending, session.confirm = session.confirm, None
            if intent == "affirm":
                return self._confirmed(pending, request)
            if intent == "deny":
                return self._denied(pending, request)
            # anything else abandons the question and is handled as a new command
        if session.slot is not None:
            pending_slot, session.slot = session.slot, None
            filled = self._fill_slot(pending_slot, request)
            if filled is not None and pending_slot.skill in self.by_name:
                return self._call(self.by_name[pending_slot.skill], pending_slot.intent, filled)
        if intent == "affirm":
            if session.last_order_id is not None:
                return Reply("Your order is already placed. Anything else?"), None
            return Reply("There's nothing to confirm right now. What would you like to do?"), None
        if intent == "deny":
            return Reply("Okay. Anything else?"), None
        loaded = self.routes.get(intent) or self.routes.get("out_of_scope")
        if loaded is None:
            return Reply("Sorry, I can't help with that yet."), None
        return self._call(loaded, intent if intent in loaded.intents else "out_of_scope", request)

    def _fill_slot(self, pending: PendingSlot, request: Request) -> Request | None:
        """The answer to 'What should I add?' fills the slot, unless the user clearly moved on."""
        if request.intent in ("affirm", "deny"):
            return None
        values = [e for e in request.entities if e.entity == pending.slot]
        if not values:
            if request.intent == pending.intent:
                return None  # said the same kind of thing again: handle it afresh
            moved_on = request.intent in self.routes and request.intent not in ("search_product", "out_of_scope")
            if moved_on and request.confidence >= 0.7:
                return None
            value = normalise(pending.slot, request.text)
            if pending.slot in TYPED_SLOTS and not value.replace(".", "").isdigit() and value != "last":
                return None  # "yes" is not a number
            values = [Entity(pending.slot, value, 0, len(request.text), 1.0, text=request.text)]
        kept = [e for e in pending.entities if e.entity != pending.slot]
        others = [e for e in request.entities if e.entity != pending.slot and all(k.entity != e.entity for k in kept)]
        return Request(pending.intent, request.text, request.confidence, tuple(kept + values + others))

    def _confirmed(self, pending: PendingConfirm, request: Request) -> tuple[Reply, str | None]:
        if pending.quote is not None:
            return self._place(pending), pending.skill
        if pending.action.startswith("intent:"):
            intent = pending.action.removeprefix("intent:")
            target = self.routes.get(intent)
            if target is None:
                return Reply("Sorry, I can't do that right now."), None
            offered = Request(intent, request.text, request.confidence, (), confirmed=True)
            return self._call(target, intent, offered)
        loaded = self.by_name.get(pending.skill)
        handler = loaded.cls.confirm_handlers("confirm").get(pending.action) if loaded else None
        if loaded is None or handler is None:
            return Reply("Okay."), pending.skill
        return self._call(loaded, request.intent, request, method=handler, data=pending.data)

    def _denied(self, pending: PendingConfirm, request: Request) -> tuple[Reply, str | None]:
        loaded = self.by_name.get(pending.skill)
        handler = loaded.cls.confirm_handlers("deny").get(pending.action) if loaded else None
        if loaded is not None and handler is not None:
            return self._call(loaded, request.intent, request, method=handler, data=pending.data)
        if pending.quote is not None:
            return Reply("Okay, I haven't ordered anything. What else?"), pending.skill
        return Reply("Okay, I won't. Anything else?"), pending.skill

    def _place(self, pending: PendingConfirm) -> Reply:
        """The only place an order is placed: after a yes to a question that named the total."""
        shop = self.config.shop
        assert pending.quote is not None
        order = self.orders.place(pending.quote.token, shop.delivery_address, shop.delivery_days)
        if order is None:
            return Reply("Sorry, that checkout has expired. Say check out to start again.")
        self.session.last_order_id = order.id
        if order.already_placed:
            return Reply("Your order is already placed. Anything else?")
        log.info("order %s placed: %s items, %s pence", order.id, order.items, order.total_pence)
        return Reply(f"Done. Order {order.id} is placed; it should arrive {_when(shop.delivery_days)}.")

    # -- calling skills -----------------------------------------------------------------------
    def context(self, loaded: LoadedSkill) -> Context:
        shop = self.config.shop
        info = ShopInfo(
            shop.currency,
            shop.buying_enabled,
            shop.spending_cap,
            shop.delivery_address,
            shop.delivery_days,
            shop.max_quantity,
            self.config.dialogue.items_read,
        )
        return Context(
            loaded.name,
            frozenset(loaded.cls.permissions),
            self._capabilities,
            self.session.conversation,
            self.session.memory.setdefault(loaded.name, {}),
            info,
            [(s.name, s.cls.description) for s in self.skills if s.cls.description],
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
        self._calling = (intent, request)
        name = method or loaded.intents[intent]
        args = dict(data or {}) if method else None
        timeout = self.config.dialogue.skill_timeout
        worker = self.workers.get(loaded.name)
        try:
            if worker is not None:
                ctx = self.context(loaded)
                reply = worker.call(
                    name, request, args, ctx.conversation, ctx.shop, ctx.skills, self._capabilities, timeout
                )
            else:
                reply = self._call_in_thread(loaded, name, request, args, timeout)
            if not isinstance(reply, Reply):
                raise SkillCrashed(f"skill '{loaded.name}' returned {type(reply).__name__} instead of a Reply")
        except (SkillTimedOut, SkillCrashed, PermissionDenied) as exc:
            log.error("%s", exc)
            return self._failed(loaded), loaded.name
        except Exception as exc:  # noqa: BLE001 - a skill's own bug
            log.error("skill '%s' failed on %s: %s: %s", loaded.name, intent, type(exc).__name__, exc)
            return self._failed(loaded), loaded.name
        self.session.failures.pop(loaded.name, None)
        return reply, loaded.name

    def _call_in_thread(
        self, loaded: LoadedSkill, name: str, request: Request, args: dict | None, timeout: float
    ) -> Any:
        fn = getattr(loaded.skill, name)
        ctx = self.context(loaded)
        result: dict[str, Any] = {}

        def run() -> None:
            try:
                result["reply"] = fn(ctx, request, args) if args is not None else fn(ctx, request)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                result["error"] = exc

        thread = threading.Thread(target=run, name=f"skill-{loaded.name}", daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            raise SkillTimedOut(f"skill '{loaded.name}' did not answer within {timeout:.1f} s")
        if "error" in result:
            error = result["error"]
            if isinstance(error, SystemExit):
                raise SkillCrashed(f"skill '{loaded.name}' called sys.exit({error.code})")
            raise error
        return result.get("reply")

    def _failed(self, loaded: LoadedSkill) -> Reply:
        count = self.session.failures.get(loaded.name, 0) + 1
        self.session.failures[loaded.name] = count
        apology = f"Sorry, the {loaded.name} skill had a problem, so I couldn't do that. Everything else still works."
        if count >= FAILURES_BEFORE_DISABLE and not loaded.builtin:
            self.disable(loaded.name, f"failed {count} times in a row")
            apology += (
                f" It kept failing, so I've switched it off; 'assistant skills enable {loaded.name}' turns it back on."
            )
        return Reply(apology)

    def disable(self, name: str, reason: str) -> None:
        loaded = self.by_name.pop(name, None)
        if loaded is None:
            return
        self.skills.remove(loaded)
        self.disabled.append(loaded)
        self.states.set(name, False, reason)
        worker = self.workers.pop(name, None)
        if worker is not None:
            worker.stop()
        self._route_skills()
        log.error("skill '%s' disabled: %s", name, reason)

    # -- replies ------------------------------------------------------------------------------
    def _apply(self, reply: Reply, skill: str | None) -> str:
        """Record what the reply shows and expects; return the words to speak."""
        conv = self.session.conversation
        if reply.items is not None:
            conv.last_list = list(reply.items)
            conv.listed_count = reply.listed if reply.listed is not None else len(reply.items)
            conv.focus = reply.focus or (reply.items[0] if len(reply.items) == 1 else None)
        elif reply.focus is not None:
            conv.focus = reply.focus
        if reply.expect == "confirm" and skill:
            return self._ask_confirmation(reply, skill)
        if reply.expect == "slot" and skill and reply.slot:
            intent, request = self._calling
            self.session.slot = PendingSlot(skill, intent, reply.slot, request.entities, reply.data)
        return reply.speech

    def _ask_confirmation(self, reply: Reply, skill: str) -> str:
        quote = reply.quote
        if quote is None:
            self.session.confirm = PendingConfirm(skill, reply.action or "", reply.data)
            return reply.speech
        shop = self.config.shop
        total = money(quote.total_pence, shop.currency)
        if not shop.buying_enabled:
            lead = reply.speech + " " if reply.speech else ""
            return lead + "Buying is switched off in the settings, so I can't place orders. Your basket is kept."
        if shop.spending_cap is not None and quote.total_pence > round(shop.spending_cap * 100):
            cap = money(round(shop.spending_cap * 100), shop.currency)
            return (
                f"That comes to {total}, which is over your spending cap of {cap}, so I can't place it. "
                "You could remove something from your basket."
            )
        # the core, not the skill, names the total in the question that a yes answers
        when = _when(shop.delivery_days)
        summary = f"{plural(quote.items, 'item')} for {total}, delivered to {shop.delivery_address} {when}"
        intro = reply.speech.strip()
        self.session.confirm = PendingConfirm(skill, reply.action or "purchase", reply.data, quote)
        return f"{intro} That's {summary}. Shall I place the order?".strip()
