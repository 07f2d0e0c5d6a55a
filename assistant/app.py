"""The assistant composed once: store, NLU engine, skills and purchase gate; conversations come from it.

Concurrency is threads, not asyncio: the store (SQLite), the NLU engines and the skills are
blocking code, so each conversation's turn runs in a thread (the HTTP hub runs turns in a thread
pool). Shared parts are safe for that: the store opens one connection per thread, a trained model is
read-only, the dispatcher serialises calls down one worker's pipe, and each conversation takes its
own lock for a turn.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.config import Config
from assistant.dialogue.conversation import Conversation, Turn
from assistant.dialogue.dispatch import Dispatcher
from assistant.dialogue.registry import ConversationRegistry
from assistant.dialogue.services import Services
from assistant.dialogue.state import ConversationState
from assistant.errors import StoreError
from assistant.household import Household, Member
from assistant.nlu import NluEngine, TrainingData, create_engine, load_training_data
from assistant.nlu.parse import IntentScore, Parse
from assistant.nlu.values import read_positions
from assistant.principal import Principal, local_user
from assistant.purchase import PurchaseGate
from assistant.skills.access_log import AccessLog
from assistant.skills.consent import BUILTIN_ONLY
from assistant.skills.consent import check as check_consent
from assistant.skills.folders import MemberFolders
from assistant.skills.registry import LoadedSkill, SkillProblem, discover
from assistant.skills.sandbox import member_storage
from assistant.skills.state import SkillStates, forget_uninstalled
from assistant.skills.vetting import GuardedEngine, ThirdPartySkillData, merge_third_party
from assistant.store import Catalog, Database, Line, Order, Orders, Recommender, Suggestion, ensure_demo
from assistant.store.conversations import ConversationRecords
from assistant.store.erasures import StorageErasures
from assistant.store.notices import Notifications
from assistant.store.turn_log import TurnLog

log = logging.getLogger(__name__)

__all__ = ["Account", "App", "Conversation", "Turn"]

CONVERSATION_IDLE_S = 3600.0
PURGE_EVERY_S = 600.0
"""How often a process removes the store's expired conversation records (a write: not on every open)."""


@dataclass
class Account:
    """One member's basket, orders and recommendations, for front ends that show them."""

    member: Member
    orders: Orders
    recommender: Recommender

    def basket(self) -> list[Line]:
        return self.orders.cart()

    def history(self, limit: int | None = None) -> list[Order]:
        return self.orders.history(limit)

    def recommendations(self, limit: int = 5) -> list[Suggestion]:
        return self.recommender.recommend(limit=limit)


class App:
    """Built once per process; many conversations share it."""

    def __init__(
        self,
        config: Config,
        db: Database,
        dispatcher: Dispatcher,
        problems: list[SkillProblem],
        engine: NluEngine,
        engine_name: str,
    ) -> None:
        self.config = config
        self.db = db
        self.catalog = Catalog(db)
        self.household = Household(db, config.user)
        self.gate = PurchaseGate(db, config.shop)
        self.access_log = AccessLog(db)
        """Every capability call of a third-party skill, for the user to ask about."""
        self.notifications = Notifications(db, config.shop.currency)
        self.dispatcher = dispatcher
        self.problems = problems
        self.engine = engine
        self.engine_name = engine_name
        self.records = ConversationRecords(db)
        """Each conversation's state between turns."""
        self.turn_log = TurnLog(db)
        """Each conversation's turns as its client saw them (the hub's page shows them again)."""
        self.folders = MemberFolders(db.data_dir, StorageErasures(db))
        """Skills' folders of each member on this disk, erased here too when another replica heard "delete my data"."""
        self.folders.catch_up()
        self._purged_at = float("-inf")
        self.services = Services(
            config.shop,
            config.dialogue,
            db,
            self.catalog,
            self.household,
            self.gate,
            self.access_log,
            dispatcher,
            self.records,
            self.parse,
            lambda member, asking: self.forget(member, asking=asking),
            CONVERSATION_IDLE_S,
            self.folders,
        )
        """What a conversation uses of the App (and nothing more)."""
        self.conversations = ConversationRegistry(lambda principal, id: Conversation(self.services, id, principal))

    @classmethod
    def build(
        cls,
        config: Config,
        *,
        data_dir: Path | None = None,
        engine: str | None = None,
        skills: tuple[list[LoadedSkill], list[SkillProblem]] | None = None,
    ) -> App:
        db = Database(data_dir or config.data_dir, config.store.url)
        ensure_demo(db, config.user)
        installed, problems = skills or discover(config.skills)
        states = SkillStates(db)
        forget_uninstalled(states, db.data_dir / "skills", {s.name for s in installed} | {p.name for p in problems})
        enabled: list[LoadedSkill] = []
        for loaded in installed:
            consent = check_consent(states, loaded.name, loaded.version, loaded.permissions, loaded.builtin)
            if not loaded.builtin and loaded.permissions & BUILTIN_ONLY:
                log.error("skill '%s' asks for %s, which only built-in skills get; it is refused", loaded.name,
                          ", ".join(sorted(loaded.permissions & BUILTIN_ONLY)))  # fmt: skip
            elif consent.allowed:
                enabled.append(loaded)
            elif consent.held:
                log.warning("skill '%s' is %s", loaded.name, consent.status)
        disabled = [s for s in installed if s not in enabled]
        dispatcher = Dispatcher(
            enabled, disabled, db, config.dialogue.isolation, allow_unsandboxed=config.skills_unsandboxed
        )
        engine_name = engine or config.nlu.engine
        app = cls(config, db, dispatcher, problems, create_engine(engine_name, config.nlu), engine_name)
        try:
            app._train()
        except BaseException:
            app.close()
            raise
        return app

    def _train(self) -> None:
        """Built-in skills' data trains the model that reads built-in intents; each third-party
        skill's data is vetted first (it may not claim the core's intents or remap its values) and
        decides only turns the built-ins did not understand."""
        cache = Path(os.environ.get("ASSISTANT_MODEL_CACHE") or self.db.data_dir / "models")
        builtin = self._training_data([s for s in self.dispatcher.skills if s.builtin])
        third_party = [
            ThirdPartySkillData(s.name, s.nlu_file, handled=set(s.intents))
            for s in self.dispatcher.skills
            if not s.builtin and s.nlu_file
        ]
        if not third_party:
            self.engine.train(builtin, cache)
            return
        merged = merge_third_party(builtin, third_party, {"product": self.catalog.product_names()})
        for name, reason in merged.refused.items():
            self.dispatcher.disable(name, reason)
        if set(merged.data.intents) == set(builtin.intents):
            self.engine.train(builtin, cache)
            return
        self.engine.close()
        settings = self.config.nlu
        self.engine = GuardedEngine(lambda: create_engine(self.engine_name, settings), builtin)
        self.engine.train(merged.data, cache)

    # -- understanding ------------------------------------------------------------------------
    def training_data(self) -> TrainingData:
        """Every enabled skill's examples plus the core's, with the shop's brands and product words."""
        return self._training_data(self.dispatcher.skills)

    def _training_data(self, skills: list[LoadedSkill]) -> TrainingData:
        data = load_training_data([s.nlu_file for s in skills if s.nlu_file], self.config.nlu)
        # brands the shop sells are heard as brands even if no example mentions them
        data.lookups.setdefault("brand", []).extend(b.lower() for b in self.catalog.brands())
        # and the products it sells give the tagger a vocabulary of product words
        data.lookups.setdefault("product", []).extend(self.catalog.product_names())
        # and skills are named in questions about them ("what did the recipes skill see?")
        data.lookups.setdefault("skill", []).extend(s.name for s in self.dispatcher.skills + self.dispatcher.disabled)
        return data

    def shop_phrases(self) -> list[str]:
        """What people say to this shop: training sentences, brands and product names (for speech)."""
        data = self.training_data()
        phrases = [ex.text for ex in data.examples]
        phrases += [b.lower() for b in self.catalog.brands()]
        phrases += self.catalog.product_names()
        return phrases

    def parse(self, text: str) -> Parse:
        """The engine's parse, with unsure ones turned into out_of_scope."""
        parse = read_positions(self.engine.parse(text))
        intent = parse.intent
        if intent.confidence < self.config.nlu.threshold and intent.name != "out_of_scope":
            parse = replace(parse, intent=IntentScore("out_of_scope", intent.confidence))
        return parse

    # -- conversations ------------------------------------------------------------------------
    def conversation(
        self, principal: Principal | None = None, id: str | None = None, *, user: str | None = None
    ) -> Conversation:
        """The conversation ``id`` of ``principal`` (made on first use; a new one without an id).
        Without a principal it is the local user's (the CLI): ``user``, or config.yml's."""
        if principal is None:
            principal = local_user(self.household.require(user or self.config.user).name)
        elif principal.user is not None:
            self.household.require(principal.user)
        self._reap_idle()
        return self.conversations.open(principal, id)

    def _reap_idle(self) -> None:
        self.conversations.reap(CONVERSATION_IDLE_S)
        now = time.monotonic()
        if now - self._purged_at < PURGE_EVERY_S:
            return
        self._purged_at = now
        try:  # records of conversations nobody came back to (a CLI chat, a phone's old conversation)
            self.records.purge_expired()
            self.turn_log.purge_older_than(self.services.keep_s)
        except StoreError as exc:  # the next open tries again
            log.warning("expired conversations not removed: %s", exc)
            self._purged_at = float("-inf")

    def end_conversation(self, principal: Principal, id: str) -> None:
        self.conversations.end(principal, id)

    def account(self, user: str | None = None) -> Account:
        member = self.household.require(user or self.config.user)
        orders = Orders(self.db, member.id)
        return Account(member, orders, Recommender(self.db, orders))

    # -- skills -------------------------------------------------------------------------------
    def skill_storage(self, name: str, member: Member | None) -> Path:
        """``ctx.storage``: the member's own folder in the skill's storage (the household's without one)."""
        return member_storage(self.db.data_dir, name, member)

    def forget(self, member: Member, *, asking: str | None = None) -> None:
        """'Delete my data' for one member, whichever door asked: the store's rows of them (one
        transaction), every skill's folder of theirs and what the access log says of them, the state of
        every conversation that speaks for them (``asking``, the key of the one erasing, resets itself),
        and the turns any door keeps to show again."""
        self.turn_log.forget_member(member.id)
        Orders(self.db, member.id).forget()
        self.access_log.erase(member.name)
        self.folders.erase(member.id)
        for record in self.records.forget_member(member.id, keep=asking):
            try:
                state = ConversationState.from_json(record)
            except ValueError as exc:
                log.warning("a conversation's state of the erased member could not be read: %s", exc)
                continue
            for token in state.open_quotes():
                self.gate.cancel(token)

    def close(self) -> None:
        self.dispatcher.close()
        self.engine.close()
        self.db.close()

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
