"""`rasa data validate` for NLU data: the same checks, worded as Rasa's validator words them."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.errors import TrainingDataError
from assistant.nlu.data import TrainingData

MIN_EXAMPLES_PER_INTENT = 2
MIN_EXAMPLES_PER_ENTITY = 2
"""Rasa's own minimums (rasa.shared.nlu.training_data.TrainingData)."""


@dataclass(frozen=True)
class Finding:
    """One problem in the data; an error fails validation, a warning does not."""

    severity: str
    """``error`` or ``warning``."""
    message: str
    where: str = ""
    """``file:line`` when one place is to blame."""

    def __str__(self) -> str:
        return f"{self.severity}: {self.where + ': ' if self.where else ''}{self.message}"


def domain_entities(path: Path) -> set[str]:
    """The entity names a Rasa domain file lists (plain names or ``name: {roles: ...}``)."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TrainingDataError(f"{path}: cannot read the domain: {exc}") from None
    names = set()
    for entry in doc.get("entities") or [] if isinstance(doc, dict) else []:
        names.update(entry if isinstance(entry, dict) else [str(entry)])
    return names


def validate(data: TrainingData, domain: set[str] | None = None) -> list[Finding]:
    """Every check, errors first."""
    findings = [
        *_intent_examples(data),
        *_repeated_examples(data),
        *_entity_examples(data),
        *_synonym_conflicts(data),
        *_regexes(data),
        *_lookups(data),
        *_features_without_entity(data),
    ]
    if domain is not None:
        findings += _domain(data, domain)
    return sorted(findings, key=lambda f: f.severity != "error")


def _intent_examples(data: TrainingData) -> list[Finding]:
    counts = Counter(e.full_intent for e in data.examples)
    first = {}
    for e in data.examples:
        first.setdefault(e.full_intent, e.source)
    return [
        Finding(
            "warning",
            f"Intent '{intent}' has only {n} training examples! Minimum is {MIN_EXAMPLES_PER_INTENT}, "
            "training may fail.",
            first[intent],
        )
        for intent, n in sorted(counts.items())
        if n < MIN_EXAMPLES_PER_INTENT
    ]


def _repeated_examples(data: TrainingData) -> list[Finding]:
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    for e in data.examples:
        labels[e.text.strip()].setdefault(e.full_intent, e.source)
    return [
        Finding(
            "error",
            f"The example '{text}' was found labeled with multiple different intents in the training data. "
            "Each annotated message should only appear with one intent. You should fix that conflict "
            f"The example is labeled with: {', '.join(sorted(intents))}.",
            ", ".join(intents.values()),
        )
        for text, intents in sorted(labels.items())
        if len(intents) > 1
    ]


def _entity_examples(data: TrainingData) -> list[Finding]:
    counts = Counter(s.entity for e in data.examples for s in e.entities)
    return [
        Finding(
            "warning",
            f"Entity {entity} has only {n} training examples! The minimum is {MIN_EXAMPLES_PER_ENTITY}, "
            "because of this the training may fail.",
        )
        for entity, n in sorted(counts.items())
        if n < MIN_EXAMPLES_PER_ENTITY
    ]


def _synonym_conflicts(data: TrainingData) -> list[Finding]:
    seen: dict[str, tuple[str, str]] = {}
    out = []
    for surface, value, source in data.synonym_sources:
        key = surface.lower()
        if key in seen and seen[key][0] != value:
            earlier, where = seen[key]
            out.append(
                Finding(
                    "error",
                    f"Found inconsistent entity synonyms while reading training data, overwriting "
                    f"{surface}->{earlier} with {surface}->{value} during merge (first at {where}).",
                    source,
                )
            )
        seen.setdefault(key, (value, source))
    return out


def _regexes(data: TrainingData) -> list[Finding]:
    out = []
    for name, patterns in sorted(data.regexes.items()):
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error:
                out.append(
                    Finding(
                        "error",
                        f"Model training failed. '{pattern}' is not a valid regex. Please update your nlu "
                        f"training data configuration at {{'name': '{name}', 'pattern': '{pattern}'}}.",
                        data.sources.get(("regex", name), ""),
                    )
                )
    return out


def _lookups(data: TrainingData) -> list[Finding]:
    texts = [e.text.lower() for e in data.examples]
    out = []
    for name, values in sorted(data.lookups.items()):
        patterns = [re.compile(rf"(?<!\w){re.escape(v.lower())}(?!\w)") for v in values if v.strip()]
        if not any(p.search(t) for p in patterns for t in texts):
            out.append(
                Finding(
                    "warning",
                    f"The lookup table '{name}' is never matched: none of its {len(values)} entries appears "
                    "in any training example, so it cannot help the model learn the entity.",
                    data.sources.get(("lookup", name), ""),
                )
            )
    return out


def _features_without_entity(data: TrainingData) -> list[Finding]:
    annotated = {s.entity for e in data.examples for s in e.entities}
    out = []
    for kind, names in (("lookup", data.lookups), ("regex", data.regexes)):
        for name in sorted(set(names) - annotated):
            out.append(
                Finding(
                    "warning",
                    f"The {kind} '{name}' has a name equal to no entity in the training data, so no entity "
                    "extractor uses it to find entities; annotate examples with it or rename it.",
                    data.sources.get((kind, name), ""),
                )
            )
    return out


def _domain(data: TrainingData, domain: set[str]) -> list[Finding]:
    annotated: dict[str, str] = {}
    for e in data.examples:
        for s in e.entities:
            annotated.setdefault(s.entity, e.source)
    out = [
        Finding(
            "error",
            f"The entity '{name}' is used in the NLU training data, but it is not listed in the domain. "
            "You should add it to your domain file!",
            annotated[name],
        )
        for name in sorted(set(annotated) - domain)
    ]
    out += [
        Finding("warning", f"The entity '{name}' is listed in the domain but never annotated in the NLU training data.")
        for name in sorted(domain - set(annotated))
    ]
    return out
