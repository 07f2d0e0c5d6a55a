"""How numbers, money and lists are said aloud: '2 pounds 10', 'the top three: ...'."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.sdk.types import PriceNews

_SYMBOL = {
    "GBP": ("pound", "pounds", "p"),
    "USD": ("dollar", "dollars", "cents"),
    "EUR": ("euro", "euros", "cents"),
}
_NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
]
_ORDINAL_WORDS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
]


def money(pence: int, currency: str = "GBP") -> str:
    """2 pounds 10; 24 pounds; 80p; 1 pound 5."""
    one, many, small = _SYMBOL.get(currency, _SYMBOL["GBP"])
    whole, rest = divmod(int(pence), 100)
    if whole == 0:
        return f"{rest}p" if small == "p" else f"{rest} {small}"
    unit = one if whole == 1 else many
    return f"{whole:,} {unit}" + (f" {rest:02d}" if rest else "")


def number(n: int) -> str:
    """Small numbers as words (as people say them), larger as digits."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else f"{n:,}"


def ordinal(n: int) -> str:
    return _ORDINAL_WORDS[n - 1] if 1 <= n <= len(_ORDINAL_WORDS) else f"number {n}"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{number(n)} {word if n == 1 else (many or word + 's')}"


def join(words: Sequence[str], last: str = "and") -> str:
    words = [w for w in words if w]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


def price_news(news: PriceNews, currency: str = "GBP") -> str:
    """'Lavazza Qualità Rossa Coffee Beans is now 9 pounds 50, under your 10 pounds'."""
    now = f"{news.product.title} is now {money(news.new_pence, currency)}"
    if news.below_pence is not None:
        return f"{now}, under your {money(news.below_pence, currency)}"
    return f"{now}, down from {money(news.old_pence, currency)}"
