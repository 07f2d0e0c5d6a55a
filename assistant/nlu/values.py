"""Turn spoken numbers, ordinals and prices into values: "two fifty" -> 2.5, "the last one" -> "last"."""

from __future__ import annotations

import math
import re
from dataclasses import replace

from text_to_num import alpha2digit

from assistant.nlu.parse import Entity, Parse

_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50,
    "sixtieth": 60, "seventieth": 70, "eightieth": 80, "ninetieth": 90, "hundredth": 100, "top": 1,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_LAST = {"last", "final", "bottom", "latter"}
_FUZZY_QUANTITIES = {
    "a couple": 2,
    "couple": 2,
    "a few": 3,
    "few": 3,
    "half a dozen": 6,
    "a dozen": 12,
    "dozen": 12,
    "a pair": 2,
    "pair": 2,
}
_SMALL = {"a": 1, "an": 1, "one": 1, "single": 1, "another": 1, "both": 2}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_CURRENCY_WORDS = re.compile(r"\b(pounds?|quid|bucks?|dollars?|euros?|p|pence|cents?|£|\$|€)\b|[£$€]")


def _digits(text: str) -> str:
    text = text.lower().replace(",", "")
    text = re.sub(r"\bfiver\b", "5", re.sub(r"\btenner\b", "10", text))
    return alpha2digit(text, "en", threshold=0)


ABSURD = 10**9
"""A number beyond any quantity or price (a 309-digit one reads as infinity): read as this, out of range."""


def _bounded(value: float) -> float:
    return ABSURD if math.isnan(value) or value > ABSURD else max(-ABSURD, value)


def quantity_value(text: str) -> int | None:
    """'two' -> 2, 'a dozen' -> 12, '3' -> 3; None if no number is said."""
    low = text.lower().strip()
    for phrase, value in sorted(_FUZZY_QUANTITIES.items(), key=lambda kv: -len(kv[0])):
        if phrase in low:
            return value
    numbers = _NUMBER.findall(_digits(low))
    if numbers:
        return int(_bounded(float(numbers[0].replace(",", "."))))
    for word in low.split():
        if word in _SMALL:
            return _SMALL[word]
    return None


def ordinal_value(text: str) -> str | None:
    """'second' / '2nd' / 'number two' -> '2'; 'the last one' -> 'last'."""
    low = text.lower()
    words = re.findall(r"[a-z0-9]+", low)
    if any(w in _LAST for w in words):
        return "last"
    for tens, unit in zip(words, words[1:], strict=False):  # "twenty first"
        if tens in _TENS and _ORDINALS.get(unit, 10) < 10:
            return str(_TENS[tens] + _ORDINALS[unit])
    for word in words:
        if word in _ORDINALS:
            return str(_ORDINALS[word])
        match = re.fullmatch(r"(\d+)(?:st|nd|rd|th)?", word)
        if match:
            return match.group(1)
    converted = _digits(low)
    match = re.search(r"(\d+)(?:st|nd|rd|th)?", converted)
    if match:
        return match.group(1)
    return None


_ORDINAL_WORDS = r"(?:\d+(?:st|nd|rd|th)|(?:(?:" + "|".join(_TENS) + r")[ -])?(?:" + "|".join(
    sorted((set(_ORDINALS) - {"top"}) | _LAST, key=len, reverse=True)
) + "))"
_ORDINAL_WORD = re.compile(rf"\b{_ORDINAL_WORDS}\b", re.IGNORECASE)
_POSITION = re.compile(rf"\bthe ({_ORDINAL_WORDS}) (?:one|item|thing|line|product)s?\b", re.IGNORECASE)
"""'the twentieth one': a position in what was read out, however rare the word (a tagger may miss it)."""


def says_ordinal(text: str) -> bool:
    """Whether the words name a position ('the 99th', 'fifth'), whatever a tagger called them."""
    return _ORDINAL_WORD.search(text) is not None


def position_said(text: str) -> tuple[int, int, str] | None:
    """Where 'the <ordinal> one' names a position in ``text``: (start, end, value), or None."""
    found = _POSITION.search(text)
    if found is None:
        return None
    value = ordinal_value(found.group(1))
    return (found.start(1), found.end(1), value) if value else None


def _words_of(entity: Entity, text: str) -> str:
    """The whole words an entity's span lies in: a tagger may stop at "99" in "99th"."""
    start, end = entity.start, entity.end
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end]


def read_positions(parse: Parse) -> Parse:
    """Positions in a list said however the tagger took them: a quantity whose words are an ordinal
    ("the 99th" tagged quantity 99 once took the only line out of a basket) is an ordinal, and "the
    twentieth one" that no entity covers gets one, so a position past the list changes nothing."""
    text = parse.text
    entities = [
        replace(e, entity="ordinal", value=ordinal_value(_words_of(e, text)) or e.value)
        if e.entity == "quantity" and says_ordinal(_words_of(e, text))
        else e
        for e in parse.entities
    ]
    position = position_said(text)
    if position is not None:
        start, end, value = position
        covering = [e for e in entities if e.start < end and start < e.end]
        if all(e.entity in ("ordinal", "quantity") for e in covering):  # "twenty [first]" is the 21st
            entities = [e for e in entities if e not in covering]
            entities.append(Entity("ordinal", value, start, end, 1.0, text=text[start:end]))
    return parse if entities == parse.entities else replace(parse, entities=entities)


def price_value(text: str) -> float | None:
    """'five pounds' -> 5.0, 'two fifty' -> 2.5, '£3.50' -> 3.5, 'three pounds fifty' -> 3.5, '80p' -> 0.8."""
    low = text.lower().replace("£", " £ ").replace("$", " $ ")
    pence_only = re.search(r"\b(p|pence|cents?)\b|\d+p\b", low) and not re.search(
        r"pounds?|quid|dollars?|bucks?|£|\$", low
    )
    converted = _digits(low)
    numbers = [_bounded(float(n.replace(",", "."))) for n in _NUMBER.findall(converted)]
    if not numbers:
        return None
    if pence_only:
        return round(numbers[0] / 100, 2)
    # "two fifty", "three pounds fifty", "4 99"
    if len(numbers) >= 2 and numbers[1] < 100 and numbers[0] == int(numbers[0]):
        return round(numbers[0] + numbers[1] / 100, 2)
    return round(numbers[0], 2)


def normalise(entity: str, literal: str) -> str:
    """The value string an entity of this kind gets for the words said."""
    if entity == "quantity":
        value = quantity_value(literal)
        return str(value) if value is not None else literal.lower()
    if entity == "ordinal":
        return ordinal_value(literal) or literal.lower()
    if entity == "price":
        price = price_value(literal)
        if price is None:
            return literal.lower()
        return f"{price:g}" if price == int(price) else f"{price:.2f}"
    return literal.strip()  # as written: Rasa keeps "Bob", not "bob"
