"""What a third-party skill's nlu.yml may teach the assistant, and when its intents may win a turn."""

from __future__ import annotations

import logging
import re
import re._constants as sre  # the stdlib's own regex parse tree: the engine compiles with `re`
import re._parser as sre_parse
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import regex

from assistant.errors import TrainingDataError
from assistant.nlu.data import TrainingData, load_file
from assistant.nlu.parse import NluEngine, Parse

log = logging.getLogger(__name__)

MARGIN = 0.2
"""A third-party intent takes a turn only when it beats the best built-in intent by this much."""
BUILTIN_CLAIM = 0.6
"""...and only when the built-in skills' own model is less sure than this of its reading.

Measured on tests/data/nlu_test.yml with a hostile skill's 40 broad yes/no/shopping sentences in one
model (tests/skills/test_training_vetting.py): the margin rule alone let it move built-in intents by
up to 10 points (5 at margin 0.5), as the extra class shifts the shared classifier; reading built-in
intents from a model without third-party data and letting a third-party intent win only where that
model says out_of_scope or is below 0.4, 0.5 or 0.6 moved none (every margin 0.0-0.2). 0.6 rather
than 0.5 lets a recipes skill have "what can i cook with potatoes" (built-in: help at 0.54)."""
MAX_EXAMPLES = 2000
"""More examples than every built-in skill together (1,344) is a skill trying to drown the others."""
MAX_FILE_BYTES = 1_000_000
MAX_REGEXES = 20
MAX_PATTERN_CHARS = 200
PROBE_CHARS = 500
"""The engine cuts every text to 500 characters, so a regex never sees a longer one."""
PROBE_TIMEOUT_S = 0.05
MAX_PROBLEM_CHARS = 300
"""A refusal is one line the user reads; a file built to make it 15 MB gets these many characters."""


def _short(text: str) -> str:
    return text if len(text) <= MAX_PROBLEM_CHARS else text[: MAX_PROBLEM_CHARS - 3] + "..."


@dataclass
class Reserved:
    """What belongs to the built-in skills (and to third-party skills already accepted)."""

    intents: set[str] = field(default_factory=set)
    entities: dict[str, set[str]] = field(default_factory=dict)
    """Entity type -> the lower-cased values and surface forms its owner's data knows."""
    synonyms: dict[str, str] = field(default_factory=dict)
    """Surface -> canonical, lower-cased."""

    @classmethod
    def from_data(cls, data: TrainingData, extra_values: dict[str, Iterable[str]] | None = None) -> Reserved:
        """Everything ``data`` defines is reserved; ``extra_values`` adds e.g. the catalogue's names."""
        reserved = cls()
        reserved.add(data)
        for entity, values in (extra_values or {}).items():
            reserved.entities.setdefault(entity, set()).update(v.lower() for v in values)
        return reserved

    def add(self, data: TrainingData) -> None:
        self.intents.update(data.intents)
        for example in data.examples:
            for span in example.entities:
                known = self.entities.setdefault(span.entity, set())
                known.add(example.text[span.start : span.end].lower())
                known.add(span.value.lower())
        for name, values in data.lookups.items():
            self.entities.setdefault(name, set()).update(v.lower() for v in values)
        for name in data.regexes:
            self.entities.setdefault(name, set())
        self.synonyms.update((k.lower(), v.lower()) for k, v in data.synonyms.items())

    def owners(self, value: str) -> set[str]:
        """The entity types that already read ``value`` (a surface form or a canonical value)."""
        value = value.lower()
        found = {entity for entity, values in self.entities.items() if value in values}
        if value in self.synonyms or value in self.synonyms.values():
            found.add("a synonym")
        return found


# -- regexes ----------------------------------------------------------------------------------
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)
_UNBOUNDED = 16
"""A repeat allowing more than this many is treated as unbounded: {1,1000} backtracks like +."""


def _first_chars(pattern: sre_parse.SubPattern) -> set[int] | None:
    """Characters a pattern can start with, lower-cased; None when that is not a small known set."""
    for op, av in pattern:
        if op is sre.LITERAL:
            return {ord(chr(av).lower())}
        if op is sre.IN:
            chars: set[int] = set()
            for item_op, item in av:
                if item_op is sre.LITERAL:
                    chars.add(ord(chr(item).lower()))
                elif item_op is sre.RANGE and item[1] - item[0] < 128:
                    chars.update(ord(chr(c).lower()) for c in range(item[0], item[1] + 1))
                else:
                    return None
            return chars
        if op is sre.SUBPATTERN:
            return _first_chars(av[3])
        if op is sre.BRANCH:
            union: set[int] = set()
            for alternative in av[1]:
                first = _first_chars(alternative)
                if first is None:
                    return None
                union |= first
            return union
        if op is sre.AT:
            continue
        return None
    return None


def _backtracking_trap(
    pattern: sre_parse.SubPattern, in_unbounded: bool = False, in_repeat: bool = False
) -> str | None:
    r"""Why a backtracking engine could take exponential time on this pattern, or None.

    ``in_repeat``: inside a repeat of more than two, where a variable-width repeat splits a word
    every possible way: ``(\w+){16}#`` is bounded, yet tries C(44, 15) splits of a 45-letter word."""
    for op, av in pattern:
        if op in _REPEATS:
            low, high, body = av
            if in_unbounded and high > 1:
                return "a repeat inside a repeat, e.g. (a+)+"
            if in_repeat and low != high:
                return "a variable repeat inside a repeat, e.g. (\\w+){16}"
            reason = _backtracking_trap(body, in_unbounded or high > _UNBOUNDED, in_repeat or high > 2)
            if reason:
                return reason
        elif op is sre.POSSESSIVE_REPEAT:
            reason = _backtracking_trap(av[2], False)  # no backtracking into it
            if reason:
                return reason
        elif op is sre.BRANCH:
            alternatives = av[1]
            if in_unbounded:
                firsts = [_first_chars(a) for a in alternatives]
                if any(f is None for f in firsts) or sum(len(f) for f in firsts) != len(set().union(*firsts)):
                    return "alternatives that can match the same text inside a repeat, e.g. (a|ab)+"
            for alternative in alternatives:
                reason = _backtracking_trap(alternative, in_unbounded, in_repeat)
                if reason:
                    return reason
        elif op is sre.SUBPATTERN:
            reason = _backtracking_trap(av[3], in_unbounded, in_repeat)
            if reason:
                return reason
        elif op is sre.ATOMIC_GROUP:
            reason = _backtracking_trap(av, False)
            if reason:
                return reason
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            reason = _backtracking_trap(av[1], in_unbounded, in_repeat)
            if reason:
                return reason
        elif op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
            return "a back-reference"
    return None


def _probes(pattern: str) -> list[str]:
    """Adversarial texts from the pattern's own characters: runs of each, as long as the engine passes
    on and shorter, ending in nothing, in a character it cannot match, or in each of its punctuation
    marks after one it cannot (``(\\w+){16}#`` backtracks only where a ``#`` is in the text)."""
    chars = {c for c in pattern if c.isalnum() or c in " .,'-"} | {"a", "1", " "}
    marks = {c for c in pattern if not c.isalnum() and not c.isspace() and c not in "\\()[]{}|*+?^$"}
    tails = ["", "!", *(f"{sep}{m}" for m in sorted(marks) for sep in ("", " ", "!"))]
    return [c * size + tail for c in sorted(chars) for size in (45, PROBE_CHARS - 3) for tail in tails]


def regex_problem(pattern: str, texts: Iterable[str] = ()) -> str | None:
    """Why ``pattern`` may not run on user text (bad syntax, backtracking trap, too slow), or None.

    The engines run third-party regexes with the ``regex`` package under a time budget (the stdlib
    ``re`` cannot be interrupted: ``(a+)+$`` took 1.27 s there on 24 characters and doubles per
    character); Rasa's server runs them with ``re``. So the stdlib's parse tree is checked for the
    known traps first, then the ``regex`` package runs the pattern on adversarial probes and on
    ``texts`` (the skill's own examples), each under a hard time limit."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"a regex longer than {MAX_PATTERN_CHARS} characters"
    try:
        parsed = sre_parse.parse(pattern, re.IGNORECASE)
        compiled = regex.compile(pattern, regex.IGNORECASE)
    except (re.error, regex.error) as exc:
        return f"an invalid regex {pattern!r}: {exc}"
    except RecursionError:
        return "a regex nested too deeply"
    trap = _backtracking_trap(parsed)
    if trap:
        return f"a regex that can hang the assistant ({trap}): {pattern!r}"
    for probe in [*_probes(pattern), *(t[:PROBE_CHARS] for t in texts)]:
        try:
            compiled.search(probe, timeout=PROBE_TIMEOUT_S)
        except TimeoutError:
            return f"a regex too slow on a {len(probe)}-character text: {pattern[:80]!r}"
    return None


# -- a skill's data ---------------------------------------------------------------------------
def vet_skill_data(
    data: TrainingData, skill: str, reserved: Reserved, *, handled: Collection[str] | None = None
) -> tuple[TrainingData, list[str]]:
    """A third-party skill's data, and what in it takes something that is not the skill's.

    Any problem refuses the whole file (the returned data is then empty): a skill that ships
    another's intents or remaps another's values is not trusted with the rest of its data either.
    ``handled`` is the intents the skill's manifest declares; examples for others are refused."""
    problems: list[str] = []
    where = f"skill '{skill}'"
    if len(data.examples) > MAX_EXAMPLES:
        problems.append(f"{where}: {len(data.examples)} training examples, more than the {MAX_EXAMPLES} allowed")
    for intent in data.intents:
        first = next(e.source for e in data.examples if e.intent == intent)
        if intent in reserved.intents or intent.partition("/")[0] in reserved.intents:  # "affirm/yes" is affirm
            problems.append(f"{where}: {first}: may not define the intent '{intent}', which another skill owns")
        elif handled is not None and intent not in handled:
            problems.append(f"{where}: {first}: has examples for '{intent}' but no handler for it")
    for surface, canonical in sorted(data.synonyms.items()):
        surface, canonical = surface.lower(), canonical.lower()
        if reserved.synonyms.get(surface) == canonical:
            continue  # the same mapping the owner has: it changes nothing
        owners = reserved.owners(surface) | reserved.owners(canonical)
        if owners:
            problems.append(
                f"{where}: a synonym may not map '{surface}' to '{canonical}' "
                f"(another skill reads it as {' / '.join(sorted(owners))})"
            )
    for kind, entries in (("lookup", data.lookups), ("regex", data.regexes)):
        for entity in sorted(entries):
            if entity in reserved.entities:
                problems.append(f"{where}: a {kind} may not add to the entity '{entity}', which another skill owns")
    for example in data.examples:
        for span in example.entities:
            literal = example.text[span.start : span.end].lower()
            owners = reserved.owners(literal) - {"a synonym"}
            if span.entity in reserved.entities and owners and span.entity not in owners:
                problems.append(
                    f"{where}: {example.source}: tags '{literal}' as {span.entity}, "
                    f"which other skills read as {' / '.join(sorted(owners))}"
                )
    patterns = [p for values in data.regexes.values() for p in values]
    if len(patterns) > MAX_REGEXES:
        problems.append(f"{where}: {len(patterns)} regexes, more than the {MAX_REGEXES} allowed")
    else:
        texts = [e.text for e in data.examples]
        problems += [f"{where}: {reason}" for p in patterns if (reason := regex_problem(p, texts))]
    if problems:
        return TrainingData(), problems
    return data, []


def load_skill_data(path: Path, skill: str) -> tuple[TrainingData, list[str]]:
    """Read a third-party nlu.yml; bad YAML is a problem to report, never a failed start."""
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:
            return TrainingData(), [f"skill '{skill}': {path} is {size} bytes, more than {MAX_FILE_BYTES}"]
        return load_file(path), []
    except OSError as exc:
        return TrainingData(), [f"skill '{skill}': cannot read {path}: {exc.strerror}"]
    except TrainingDataError as exc:
        return TrainingData(), [f"skill '{skill}': {exc}"]
    except (RecursionError, ValueError, TypeError) as exc:  # YAML deep enough or odd enough to break the loader
        return TrainingData(), [f"skill '{skill}': {path} cannot be read as training data ({type(exc).__name__})"]


@dataclass
class ThirdPartySkillData:
    """What the caller knows about one third-party skill from its metadata."""

    name: str
    nlu_file: Path
    handled: Collection[str] | None = None


@dataclass
class Merged:
    data: TrainingData
    """The built-in data plus every accepted skill's."""
    builtin_intents: frozenset[str]
    """For :func:`accept_third_party`."""
    refused: dict[str, str] = field(default_factory=dict)
    """Skill name -> the one line that says why it is disabled."""


def merge_third_party(
    builtin: TrainingData,
    skills: Sequence[ThirdPartySkillData],
    extra_values: dict[str, Iterable[str]] | None = None,
) -> Merged:
    """Vet each third-party skill's data against the built-ins and the skills accepted before it (by name)."""
    reserved = Reserved.from_data(builtin, extra_values)
    merged = TrainingData()
    merged.merge(builtin)
    result = Merged(merged, frozenset(builtin.intents))
    for skill in sorted(skills, key=lambda s: s.name):
        data, problems = load_skill_data(skill.nlu_file, skill.name)
        if not problems:
            data, problems = vet_skill_data(data, skill.name, reserved, handled=skill.handled)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            result.refused[skill.name] = f"{_short(problems[0])}{more}; the skill is disabled"
            log.error("%s", result.refused[skill.name])
            continue
        reserved.add(data)
        merged.merge(data)
    return result


# -- routing ----------------------------------------------------------------------------------
def accept_third_party(
    full: Parse,
    builtin: Parse,
    builtin_intents: Collection[str],
    *,
    margin: float = MARGIN,
    claim: float = BUILTIN_CLAIM,
) -> bool:
    """Whether a third-party intent may take this turn: the model with third-party data ranks it
    first by ``margin`` over every built-in intent, and the built-in skills' own model did not
    understand the text (it says out_of_scope, or is less sure than ``claim``)."""
    if full.intent.name in builtin_intents:
        return False
    if builtin.intent.name != "out_of_scope" and builtin.intent.confidence >= claim:
        return False  # the built-ins understood it
    best_builtin = max((s.confidence for s in full.ranking if s.name in builtin_intents), default=0.0)
    return full.intent.confidence - best_builtin >= margin


class GuardedEngine:
    """Two models of one engine: the built-in skills' data alone, and with third-party data added.

    A built-in intent is always read by the first, so no third-party example can change how "yes",
    "check out" or "oat milk" are understood; the second only decides whether a third-party
    intent takes a turn the built-ins did not understand (:func:`accept_third_party`)."""

    def __init__(
        self,
        make_engine: Callable[[], NluEngine],
        builtin: TrainingData,
        *,
        margin: float = MARGIN,
        claim: float = BUILTIN_CLAIM,
    ) -> None:
        self._make = make_engine
        self._builtin_data = builtin
        self.builtin_intents = frozenset(builtin.intents)
        self.margin = margin
        self.claim = claim
        self._builtin: NluEngine | None = None
        self._full: NluEngine | None = None
        self.name = ""

    def train(self, data: TrainingData, cache_dir: Path) -> None:
        """``data`` is everything (built-in plus accepted third-party); the built-in model is cached apart."""
        self._builtin = self._make()
        self.name = self._builtin.name
        self._builtin.train(self._builtin_data, cache_dir)
        if set(data.intents) - self.builtin_intents:
            self._full = self._make()
            self._full.train(data, cache_dir)

    def parse(self, text: str) -> Parse:
        if self._builtin is None:
            raise TrainingDataError("the NLU model is used before it was trained")
        builtin = self._builtin.parse(text)
        if self._full is None or not self._unsure(builtin):
            return builtin  # understood without third-party data: the second model could not win it
        full = self._full.parse(text)
        if accept_third_party(full, builtin, self.builtin_intents, margin=self.margin, claim=self.claim):
            return full
        return builtin

    def _unsure(self, builtin: Parse) -> bool:
        return builtin.intent.name == "out_of_scope" or builtin.intent.confidence < self.claim

    def needs_second(self, text: str) -> bool:
        """Whether reading ``text`` takes the second model too (for the benchmark)."""
        return self._full is not None and self._builtin is not None and self._unsure(self._builtin.parse(text))

    def close(self) -> None:
        for engine in (self._builtin, self._full):
            if engine is not None:
                engine.close()
