"""Rasa 3.x YAML training data: read, validate with file/line errors, merge, hash."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import TrainingDataError

# [text](entity) | [text](entity:value) | [text]{"entity": ..., "value": ..., "role": ...}
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]*\}))")


@dataclass(frozen=True)
class Span:
    """An annotated entity inside a training example."""

    entity: str
    value: str
    start: int
    end: int
    role: str | None = None


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: tuple[Span, ...] = ()
    source: str = ""
    """``file:line`` the example came from, for error messages."""


@dataclass
class TrainingData:
    """Everything a Rasa ``nlu:`` section can hold, merged from any number of files."""

    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)
    """Lower-cased surface form -> canonical value."""
    lookups: dict[str, list[str]] = field(default_factory=dict)
    regexes: dict[str, list[str]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    @property
    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})

    @property
    def entity_types(self) -> list[str]:
        kinds = {s.entity for e in self.examples for s in e.entities}
        return sorted(kinds | set(self.lookups) | set(self.regexes))

    def merge(self, other: TrainingData) -> None:
        self.examples.extend(other.examples)
        self.synonyms.update(other.synonyms)
        for name, values in other.lookups.items():
            self.lookups.setdefault(name, []).extend(values)
        for name, patterns in other.regexes.items():
            self.regexes.setdefault(name, []).extend(patterns)
        self.files.extend(other.files)

    def fingerprint(self, extra: Any = None) -> str:
        """A hash of the content (not the paths), so a model can be cached per data."""
        payload = {
            "examples": sorted(
                (
                    e.intent,
                    e.text,
                    [(s.entity, s.value, s.start, s.end, s.role) for s in e.entities],
                )
                for e in self.examples
            ),
            "synonyms": sorted(self.synonyms.items()),
            "lookups": {k: sorted(v) for k, v in sorted(self.lookups.items())},
            "regexes": {k: sorted(v) for k, v in sorted(self.regexes.items())},
            "extra": extra,
        }
        blob = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def parse_example(raw: str, intent: str, source: str) -> Example:
    """Turn ``add [two](quantity) [oat milk](product)`` into plain text plus entity spans."""
    text_parts: list[str] = []
    spans: list[Span] = []
    pos = 0
    length = 0
    for match in _ANNOTATION.finditer(raw):
        before = raw[pos : match.start()]
        text_parts.append(before)
        length += len(before)
        literal = match.group("text")
        role = None
        if match.group("json"):
            try:
                meta = json.loads(match.group("json"))
            except json.JSONDecodeError as exc:
                raise TrainingDataError(f"{source}: bad entity annotation {match.group(0)!r}: {exc.msg}") from exc
            if not isinstance(meta, dict) or "entity" not in meta:
                raise TrainingDataError(f'{source}: entity annotation {match.group(0)!r} needs an "entity" key')
            entity = str(meta["entity"])
            value = str(meta.get("value", literal))
            role = meta.get("role")
        else:
            entity, _, value = match.group("short").partition(":")
            value = value or literal
        spans.append(Span(entity.strip(), value.strip(), length, length + len(literal), role))
        text_parts.append(literal)
        length += len(literal)
        pos = match.end()
    text_parts.append(raw[pos:])
    text = "".join(text_parts).strip()
    if not text:
        raise TrainingDataError(f"{source}: empty example for intent {intent!r}")
    if "[" in text or "](" in text:
        raise TrainingDataError(f"{source}: unbalanced entity annotation in {raw!r}")
    # strip() above may shift offsets when the raw text had leading spaces
    shift = len("".join(text_parts)) - len("".join(text_parts).lstrip())
    if shift:
        spans = [Span(s.entity, s.value, s.start - shift, s.end - shift, s.role) for s in spans]
    return Example(text=text, intent=intent, entities=tuple(spans), source=source)


def _items(block: Any, path: Path, line: int, what: str) -> list[tuple[str, int]]:
    """Rasa's ``examples: |`` block: one ``- item`` per line. Returns (item, line number)."""
    if isinstance(block, list):  # also accept a YAML list
        return [(str(x), line) for x in block]
    if not isinstance(block, str):
        raise TrainingDataError(f"{path}:{line}: {what} needs 'examples' as a '- item' list")
    out = []
    for offset, raw in enumerate(block.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        if not stripped.startswith("- "):
            raise TrainingDataError(f"{path}:{line + offset}: expected '- example', got {stripped!r}")
        out.append((stripped[2:].strip(), line + offset))
    return out


class _LineLoader(yaml.SafeLoader):
    """Keeps each mapping's line number so errors can point at it."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    # where each value starts: the items of an "examples: |" block follow that line
    mapping["__value_line__"] = {
        k.value: v.start_mark.line + 1 for k, v in node.value if isinstance(k, yaml.ScalarNode)
    }
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_file(path: Path) -> TrainingData:
    """Read one Rasa-format YAML file. Any problem raises TrainingDataError naming file and line."""
    path = Path(path)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506
    except OSError as exc:
        raise TrainingDataError(f"{path}: cannot read training data: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise TrainingDataError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    data = TrainingData(files=[path])
    if doc is None:
        return data
    if not isinstance(doc, dict):
        raise TrainingDataError(f"{path}: expected a mapping with an 'nlu:' list")
    items = doc.get("nlu") or []
    if not isinstance(items, list):
        raise TrainingDataError(f"{path}:{doc.get('__line__', 1)}: 'nlu' must be a list")
    for item in items:
        if not isinstance(item, dict):
            raise TrainingDataError(f"{path}: every 'nlu' entry must be a mapping, got {item!r}")
        line = item.get("__line__", 0)
        kinds = [k for k in ("intent", "synonym", "lookup", "regex") if k in item]
        if len(kinds) != 1:
            raise TrainingDataError(f"{path}:{line}: each 'nlu' entry needs exactly one of intent/synonym/lookup/regex")
        kind = kinds[0]
        name = str(item[kind]).strip()
        if not name:
            raise TrainingDataError(f"{path}:{line}: empty {kind} name")
        examples_line = item.get("__value_line__", {}).get("examples", line)
        entries = _items(item.get("examples"), path, examples_line, f"{kind} {name!r}")
        if kind == "intent":
            for text, ln in entries:
                data.examples.append(parse_example(text, name, f"{path}:{ln}"))
        elif kind == "synonym":
            for text, _ in entries:
                data.synonyms[text.lower()] = name
        elif kind == "lookup":
            data.lookups.setdefault(name, []).extend(t for t, _ in entries)
        else:
            for pattern, ln in entries:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise TrainingDataError(f"{path}:{ln}: bad regex for {name!r}: {exc}") from exc
            data.regexes.setdefault(name, []).extend(p for p, _ in entries)
    # synonyms may also be declared inline: [oatmilk](product:oat milk)
    for example in data.examples:
        for span in example.entities:
            literal = example.text[span.start : span.end].lower()
            if span.value.lower() != literal:
                data.synonyms.setdefault(literal, span.value)
    return data


def load_files(paths: list[Path]) -> TrainingData:
    merged = TrainingData()
    for path in paths:
        merged.merge(load_file(path))
    return merged
