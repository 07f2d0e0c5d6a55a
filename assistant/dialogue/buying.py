"""A purchase in a conversation: the core's question naming the real total, the purchase code, the order."""

from __future__ import annotations

import logging

from assistant.dialogue.services import Services
from assistant.dialogue.state import PendingConfirm
from assistant.dialogue.turn import TurnState
from assistant.purchase import PlaceResult, Refusal, when
from assistant.sdk import Reply
from assistant.sdk.phrasing import money, number
from assistant.store import Quote

log = logging.getLogger(__name__)


class Checkout:
    """Asks before buying, checks the buyer's purchase code, and places through the purchase gate."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def propose(self, turn: TurnState, reply: Reply, skill: str) -> str:
        """A skill proposed a purchase: the gate prices it and the core asks, naming the real total."""
        loaded = self.services.dispatcher.by_name.get(skill)
        if loaded is None or "orders.place" not in loaded.permissions:
            log.error("skill '%s' proposed a purchase without the 'orders.place' permission", skill)
            return f"Sorry, the {skill} skill had a problem, so I couldn't do that. Everything else still works."
        assert turn.member is not None and reply.purchase is not None
        lines = reply.purchase.lines
        quote = self.services.gate.quote(turn.member.id, turn.conversation_id, lines)
        if isinstance(quote, Refusal):
            turn.state.refused = True
            lead = reply.speech.strip() if loaded.builtin else ""
            return f"{lead} {quote.speech}".strip()
        pending = PendingConfirm(skill, reply.action or "purchase", reply.data, lines=lines)
        return self._ask(turn, reply, skill, pending, quote).speech

    def _ask(self, turn: TurnState, reply: Reply, skill: str, pending: PendingConfirm, quote: Quote) -> Reply:
        """The core's question, naming the real total. A third-party skill's own words are not spoken
        with it: "that's 1 item for 99p" once ran straight into the core's "Shall I place the order?"
        for 24 pounds; the core reads what it would order instead."""
        question = self.services.gate.question(quote)
        loaded = self.services.dispatcher.by_name.get(skill)
        if loaded is not None and not loaded.builtin:
            question = (
                f"The {skill} skill suggests an order. Here is what I'd order: {self._read_lines(quote)}. {question}"
            )
            lead = ""
        else:
            lead = reply.speech.strip()
        pending.quote = quote
        pending.question = question
        turn.state.confirm = pending
        return Reply(f"{lead} {question}".strip(), expect="confirm")

    def _read_lines(self, quote: Quote) -> str:
        currency = self.services.shop.currency
        read = [
            f"{number(line.quantity)} {line.product.title}, {money(line.total_pence, currency)}"
            for line in quote.lines[:3]
        ]
        more = len(quote.lines) - len(read)
        return "; ".join(read) + (f"; and {number(more)} more" if more else "")

    def buy(self, turn: TurnState, pending: PendingConfirm) -> Reply:
        """A yes to the total: the buyer's purchase code first, if they have one, then the order."""
        member = turn.member
        assert member is not None and pending.quote is not None
        refused = self.code_refusal(turn, "place an order")
        if refused is not None:
            self.services.gate.cancel(pending.quote.token)
            return refused
        if self.services.household.needs_code(member.id) and not turn.state.verified:
            turn.state.code = pending
            return Reply(f"What's the purchase code for {member.name}?", expect="answer")
        return self.place(turn, pending)

    def code_refusal(self, turn: TurnState, doing: str) -> Reply | None:
        """Why the member's code cannot be asked for here: buying is locked at this door, or the member
        has none and this is a shared door (where only a code tells the member from anyone else)."""
        member = turn.member
        assert member is not None
        household = self.services.household
        locked = household.locked_for(member.id, turn.principal.lock_key)
        if locked:
            return Reply(
                f"Buying is locked here for {max(1, round(locked / 60))} more minutes after three wrong purchase codes. "
                "Your basket is kept."
            )
        if turn.principal.shared and not household.needs_code(member.id):
            name = member.name
            return Reply(
                f"{name} has no purchase code, so I can't {doing} for {name} from a shared device. "
                f"{name} can set one with: assistant users set-code {name}"
            )
        return None

    def check_code(self, turn: TurnState) -> bool | None:
        """True for the right code, False for a wrong one, None when that wrong one locked this door."""
        assert turn.member is not None
        household = self.services.household
        member, door = turn.member.id, turn.principal.lock_key
        if household.check_code(member, turn.request.text, door):
            turn.state.verified = True
            return True
        return None if household.locked_for(member, door) else False

    def place(self, turn: TurnState, pending: PendingConfirm) -> Reply:
        assert turn.member is not None and pending.quote is not None
        gate = self.services.gate
        result: PlaceResult = gate.place(pending.quote.token, turn.member.id, turn.conversation_id)
        if result.outcome == "placed" and result.order is not None:
            turn.state.last_order_id = result.order.id
            days = self.services.shop.delivery_days
            return Reply(f"Done. Order {result.order.id} is placed; it should arrive {when(days)}.")
        if result.outcome == "already_placed":
            if result.order is not None:
                turn.state.last_order_id = result.order.id
            return Reply("Your order is already placed. Anything else?")
        if result.outcome == "changed":
            quote = gate.quote(turn.member.id, turn.conversation_id, pending.lines)
            if isinstance(quote, Refusal):
                return Reply(f"Your basket changed since I read it out. {quote.speech}")
            changed = Reply("Your basket changed since I read it out.", purchase=None)
            return self._ask(turn, changed, pending.skill, pending, quote)
        return Reply(result.speech or "Sorry, that checkout has expired. Say check out to start again.")
