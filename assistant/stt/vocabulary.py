"""The closed vocabulary of the fast first pass: what this assistant can be told, as sentences.

Built from what the assistant knows, as Home Assistant's speech-to-phrase is from its intents: every
enabled skill's Rasa training sentences, their product and brand slots filled from the member's own
order history first (the words they will say), then their shopping lists, then the catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SLOTS = {"product": "product", "item": "product", "brand": "brand"}
"""Entities whose words come from the shop (the catalogue, the member's orders and lists)."""
OWN_TOP = 8
"""The products at the top of the list (the member's most bought) go into every template in turn."""
GARBAGE_INTENTS = frozenset({"out_of_scope"})
"""Sentences kept in the grammar only to absorb speech that is not a command: a first pass that
hears one of them is not sure of anything, and the open recognizer takes the utterance."""
COMMITTING_INTENTS = frozenset({"affirm", "checkout", "reorder", "order_list", "delete_my_data"})
"""Intents that place an order or erase data (a "yes" confirms a purchase). In noise the first pass
once heard "yeah go ahead" as "ignore that" at a confidence of 0.5 or more (bench/voice.py, 40
commands at 10 dB SNR): the reverse would confirm a purchase nobody asked for, so these are
heard by the open recognizer too."""


def words(text: str) -> list[str]:
    """Lower-case words as a recognizer writes them: letters (of any script), digits and apostrophes."""
    return re.findall(r"[^\W_]+(?:'[^\W_]+)*", text.lower())


@dataclass(frozen=True)
class Template:
    parts: tuple[str, ...]
    """Words and slot names (``{product}``, ``{brand}``)."""
    intent: str

    @property
    def slots(self) -> tuple[str, ...]:
        return tuple(p[1:-1] for p in self.parts if p.startswith("{"))

    def fill(self, values: dict[str, str]) -> str:
        return " ".join(values[p[1:-1]] if p.startswith("{") else p for p in self.parts)


@dataclass(frozen=True)
class Vocabulary:
    templates: tuple[Template, ...]
    products: tuple[str, ...]
    """Product names, the member's own first (history, then lists), then the catalogue's."""
    brands: tuple[str, ...]
    wake: str = ""
    """The wake phrase people say in the same breath as the command ("hey shopper, check out"),
    when the wake engine is the phrase matcher: every sentence is also heard after it."""

    def unanswerable(self, per_template: int = 4) -> frozenset[str]:
        """The sentences the first pass hears but never answers: out-of-scope ones (they stand for
        speech that is not a command) and those of intents that spend money or erase data (a
        mishearing there costs too much: the open recognizer hears them again)."""
        return frozenset(s for s, intent in self.filled(per_template) if intent in GARBAGE_INTENTS | COMMITTING_INTENTS)

    def sentences(self, per_template: int = 4) -> list[str]:
        """Every template filled: slot-free ones as they are, the others with ``per_template``
        values each, taken in turn through the lists so every product and brand is in some
        sentence and the member's own products are in the most."""
        return list(dict.fromkeys(s for s, _ in self.filled(per_template)))

    def filled(self, per_template: int = 4) -> list[tuple[str, str]]:
        """(sentence, intent) of every filled template (see ``sentences``)."""
        out: dict[tuple[str, str], None] = {}
        cursor = {"product": 0, "brand": 0}
        values = {"product": self.products, "brand": self.brands}
        own = {"product": 0, "brand": 0}
        for template in self.templates:
            if not template.slots:
                out[(template.fill({}), template.intent)] = None
                continue
            if any(not values[s] for s in template.slots):
                continue
            fills: dict[tuple[str, str], None] = {}
            for k in range(2 * per_template):  # a value may come round twice in a small list
                if len(fills) == per_template:
                    break
                filled = {}
                for slot in template.slots:
                    pool = values[slot]
                    if k == 0:  # each template's first fill: the top of the list, in turn
                        filled[slot] = pool[own[slot] % min(len(pool), OWN_TOP)]
                        own[slot] += 1
                    else:
                        filled[slot] = pool[cursor[slot] % len(pool)]
                        cursor[slot] += 1
                fills[(template.fill(filled), template.intent)] = None
            out.update(fills)
        if self.wake:
            out.update({(f"{self.wake} {text}", intent): None for text, intent in list(out)})
        return list(out)


def templates_from(examples) -> list[Template]:
    """Rasa examples as templates: their product and brand spans become slots; the rest stays."""
    seen: dict[tuple[str, ...], Template] = {}
    for ex in examples:
        parts: list[str] = []
        pos = 0
        for span in sorted(ex.entities, key=lambda s: s.start):
            slot = SLOTS.get(span.entity)
            if slot is None or span.start < pos:
                continue
            parts += words(ex.text[pos : span.start]) + [f"{{{slot}}}"]
            pos = span.end
        parts += words(ex.text[pos:])
        if parts and tuple(parts) not in seen:
            seen[tuple(parts)] = Template(tuple(parts), ex.intent)
    return list(seen.values())


def member_products(app, user: str | None = None) -> list[str]:
    """The member's words first: what they bought (most often first), then their lists and the household's."""
    from assistant.store.lists import ShoppingLists

    names: dict[str, None] = {}
    try:
        account = app.account(user)
    except Exception:  # noqa: BLE001 - no such member yet (a fresh hub): the catalogue alone
        account = None
    if account is not None:
        for product, _count, _last in account.orders.purchase_counts():
            names[" ".join(words(product.name))] = None
        lists = ShoppingLists(app.db)
        for owner in (account.member.id, None):
            for item in lists.items(owner):
                names[" ".join(words(item.name))] = None
    return [n for n in names if n]


def build_vocabulary(app, user: str | None = None) -> Vocabulary:
    """The closed vocabulary for ``user`` (config.yml's user without one)."""
    own = member_products(app, user)
    catalogue = [" ".join(words(n)) for n in app.catalog.product_names()]
    products = list(dict.fromkeys(own + catalogue))
    brands = list(dict.fromkeys(" ".join(words(b)) for b in app.catalog.brands()))
    audio = app.config.voice.audio
    wake = " ".join(words(audio.wake_phrase or "")) if audio.wake == "phrase" and not audio.push_to_talk else ""
    return Vocabulary(
        tuple(templates_from(app.training_data().examples)), tuple(products), tuple(b for b in brands if b), wake
    )
