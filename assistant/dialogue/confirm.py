"""Reading the answer to a question: a clear yes, a clear no, something else, or a new command."""

from __future__ import annotations

import enum
import re

from assistant.dialogue.state import PendingSlot
from assistant.nlu.parse import Entity
from assistant.nlu.values import normalise
from assistant.sdk import Request
from assistant.skills.registry import LoadedSkill

TYPED_SLOTS = {"quantity", "ordinal", "price"}
YES_WORDS = re.compile(
    r"\b(yes|yeah|yep|yup|yas|ya|aye|sure|ok|okay|alright|go ahead|do it|place it|confirm|correct|absolutely|definitely|of course)\b"
)
NO_WORDS = re.compile(r"\b(no|nope|nah|not|don't|dont|do not|never|cancel|stop|wait|hold on)\b")
SURE = 0.6
"""Below this confidence a yes or no is not taken as one: the question is asked again."""
NEW_COMMAND = 0.7
"""A different request understood at least this surely drops the question and is handled."""
ANSWERS = frozenset({"affirm", "deny"})
NOT_COMMANDS = frozenset({"affirm", "deny", "out_of_scope", "repeat", "greet", "goodbye"})


class Answer(enum.Enum):
    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"
    """Neither a clear yes nor a clear no (mixed, unsure, or not an answer): ask again."""
    NEW = "new"
    """The user clearly moved on to something else."""


def read_answer(request: Request) -> Answer:
    """How a turn answers a pending yes/no question. "yes no" and "no yes" are not answers."""
    text = " ".join(request.text.lower().split())
    says_yes = bool(YES_WORDS.search(text))
    says_no = bool(NO_WORDS.search(text))
    if request.intent == "affirm":
        if says_no or request.confidence < SURE:
            return Answer.UNCLEAR
        return Answer.YES
    if request.intent == "deny":
        if says_yes or request.confidence < SURE:
            return Answer.UNCLEAR
        return Answer.NO
    if request.intent not in NOT_COMMANDS and request.confidence >= NEW_COMMAND and not (says_yes and says_no):
        return Answer.NEW
    return Answer.UNCLEAR


def fill_slot(pending: PendingSlot, request: Request, routes: dict[str, LoadedSkill]) -> Request | None:
    """The answer to 'What should I add?' fills the slot, unless the user clearly moved on."""
    if request.intent in ANSWERS:
        return None
    values = [e for e in request.entities if e.entity == pending.slot]
    if not values:
        if request.intent == pending.intent:
            return None  # said the same kind of thing again: handle it afresh
        moved_on = request.intent in routes and request.intent not in ("search_product", "out_of_scope")
        if moved_on and request.confidence >= NEW_COMMAND:
            return None
        value = normalise(pending.slot, request.text)
        if pending.slot in TYPED_SLOTS and not value.replace(".", "").isdigit() and value != "last":
            return None  # "yes" is not a number
        values = [Entity(pending.slot, value, 0, len(request.text), 1.0, text=request.text)]
    kept = [e for e in pending.entities if e.entity != pending.slot]
    others = [e for e in request.entities if e.entity != pending.slot and all(k.entity != e.entity for k in kept)]
    return Request(pending.intent, request.text, request.confidence, tuple(kept + values + others))
