"""Text as the NLU sees it: tokens that keep offsets into the caller's text, and one `clean()` for display."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_CHARS = 500
"""Longer texts are read only this far: nobody says more than this in one turn."""

# numbers (with decimals or a trailing "p" for pence), words with inner apostrophes except a
# possessive 's (so an annotated "Carter" in "Carter's" is a token of its own), the possessive
# itself, and currency signs; digits and letters are apart ("2kg"); "_" joins letters, so "rasa_nlu" annotated whole stays whole
_TOKEN = re.compile(
    r"\d+(?:[.,]\d+)?p(?![^\W\d])|\d+(?:[.,]\d+)?|[^\W\d]+(?:['’](?![sS]\b)[^\W\d]+)*|['’][sS]\b|[£$€%]"
)


@dataclass(frozen=True)
class Token:
    """One token of a text, with its place in the text exactly as the caller gave it."""

    text: str
    """The characters as written."""
    start: int
    end: int

    @property
    def norm(self) -> str:
        """What features see: NFKC-folded and lower-cased (never used for offsets)."""
        return unicodedata.normalize("NFKC", self.text).lower()


def tokenize(text: str, boundaries: frozenset[int] = frozenset()) -> list[Token]:
    """Tokens of ``text[:MAX_CHARS]``; a token is also split at each offset in ``boundaries``.

    Training passes the annotated entities' edges as ``boundaries`` so that an entity that
    starts or ends inside a word ("Carter" in "Carters") still has a token of its own.
    """
    tokens = []
    for match in _TOKEN.finditer(text[:MAX_CHARS]):
        start, end = match.span()
        cuts = [start, *sorted(b for b in boundaries if start < b < end), end]
        tokens += [Token(text[a:b], a, b) for a, b in zip(cuts, cuts[1:], strict=False)]
    return tokens


def clean(text: str) -> str:
    """Control characters out, spaces collapsed, case kept: the text as a recogniser would give it.

    For display and dialogue only; NLU engines read the caller's text so offsets index it.
    """
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(text.split())[:MAX_CHARS]


def singular(word: str) -> str:
    """Crude plural folding for vocabulary look-ups: 'batteries' -> 'battery', 'eggs' -> 'egg'."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word
