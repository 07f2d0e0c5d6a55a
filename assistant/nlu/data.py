"""Rasa 3.x YAML training data: read every NLU form Rasa reads, with file/line errors; merge; hash."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex
import yaml

from assistant.errors import TrainingDataError

log = logging.getLogger(__name__)

# Rasa's annotation forms: [text](entity) | [text](entity:value) | [text]{"entity": ...}
# | [text][{"entity": ...}, {"entity": ...}]; a "[text]" followed by none of these is plain text
_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+?)\]"
    r"(?:\((?P<entity>[^:)]+?)(?::(?P<value>[^)]+))?\)|(?P<json>\{[^}]+?\})|\[(?P<list>\{.*?\})\])"
)
_ROLE_KEYS = ("role", "group")
_ITEM_KEYS = {"intent", "synonym", "regex", "lookup"}
_TOP_LEVEL_IGNORED = {
    "responses": "responses belong to the dialogue, not the NLU model",
    "stories": "stories are dialogue data",
    "rules": "rules are dialogue data",
}
_TRIM = "\n\r "
"""What Rasa strips from each example (spaces, not tabs)."""


@dataclass(frozen=True)
class Span:
    """An annotated entity inside a training example."""

    entity: str
    value: str
    start: int
    end: int
    role: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    """The intent; for a retrieval intent ``faq/ask_price`` this is ``faq``."""
    entities: tuple[Span, ...] = ()
    source: str = ""
    """``file:line`` the example came from, for error messages."""
    response_key: str | None = None
    """The full retrieval intent (``faq/ask_price``), or None for an ordinary intent."""
    metadata: dict[str, Any] | None = None
    """Rasa's message metadata: ``{"intent": ..., "example": ...}`` as written in the file."""

    @property
    def full_intent(self) -> str:
        return self.response_key or self.intent


@dataclass
class TrainingData:
    """Everything a Rasa ``nlu:`` section can hold, merged from any number of files."""

    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)
    """Lower-cased surface form -> canonical value (as written, leading spaces and case kept)."""
    synonym_sources: list[tuple[str, str, str]] = field(default_factory=list)
    """Every (surface, value, file:line) mapping read, so conflicts can be reported."""
    lookups: dict[str, list[str]] = field(default_factory=dict)
    regexes: dict[str, list[str]] = field(default_factory=dict)
    sources: dict[tuple[str, str], str] = field(default_factory=dict)
    """(kind, name) of a lookup or regex -> the ``file:line`` that declared it."""
    files: list[Path] = field(default_factory=list)

    @property
    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})

    @property
    def retrieval_intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples if e.response_key})

    @property
    def entity_types(self) -> list[str]:
        kinds = {s.entity for e in self.examples for s in e.entities}
        return sorted(kinds | set(self.lookups) | set(self.regexes))

    def merge(self, other: TrainingData) -> None:
        self.examples.extend(other.examples)
        self.synonyms.update(other.synonyms)
        self.synonym_sources.extend(other.synonym_sources)
        for name, values in other.lookups.items():
            self.lookups.setdefault(name, []).extend(values)
        for name, patterns in other.regexes.items():
            self.regexes.setdefault(name, []).extend(patterns)
        for key, source in other.sources.items():
            self.sources.setdefault(key, source)
        self.files.extend(other.files)

    def subset(self, examples: list[Example]) -> TrainingData:
        """The same synonyms, lookups and regexes with only these examples (for cross-validation)."""
        return TrainingData(
            examples=list(examples),
            synonyms=dict(self.synonyms),
            synonym_sources=list(self.synonym_sources),
            lookups={k: list(v) for k, v in self.lookups.items()},
            regexes={k: list(v) for k, v in self.regexes.items()},
            sources=dict(self.sources),
            files=list(self.files),
        )

    def fingerprint(self, extra: Any = None) -> str:
        """A hash of the content (not the paths), so a model can be cached per data."""
        payload = {
            "examples": sorted(
                (
                    e.full_intent,
                    e.text,
                    [(s.entity, s.value, s.start, s.end, s.role, s.group) for s in e.entities],
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


def _spans_from(match: re.Match[str], source: str) -> list[dict[str, Any]]:
    """The entity dicts one annotation stands for (several for the ``[text][{...}, {...}]`` form)."""
    if match.group("entity"):
        out: dict[str, Any] = {"entity": match.group("entity")}
        if match.group("value") is not None:
            out["value"] = match.group("value")
        return [out]
    raw = match.group("json") or f"[{match.group('list')}]"
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise TrainingDataError(f"{source}: bad entity annotation {match.group(0)!r}: {exc.msg}") from exc
    metas = meta if isinstance(meta, list) else [meta]
    for one in metas:
        if not isinstance(one, dict) or "entity" not in one:
            raise TrainingDataError(f'{source}: entity annotation {match.group(0)!r} needs an "entity" key')
    return metas


def parse_example(raw: str, intent: str, source: str, metadata: dict[str, Any] | None = None) -> Example:
    """Turn ``add [two](quantity) [oat milk](product)`` into plain text plus entity spans."""
    raw = raw.strip(_TRIM)
    text_parts: list[str] = []
    spans: list[Span] = []
    pos = length = 0
    for match in _ANNOTATION.finditer(raw):
        before = raw[pos : match.start()]
        text_parts.append(before)
        length += len(before)
        literal = match.group("text")
        for meta in _spans_from(match, source):
            value = meta.get("value", literal)
            extra = {k: str(meta[k]) for k in _ROLE_KEYS if meta.get(k) is not None}
            spans.append(Span(str(meta["entity"]).strip(), str(value), length, length + len(literal), **extra))
        text_parts.append(literal)
        length += len(literal)
        pos = match.end()
    text_parts.append(raw[pos:])
    text = "".join(text_parts)
    if not text.strip():
        raise TrainingDataError(f"{source}: empty example for intent {intent!r}")
    # a "[word]" alone is text, as Rasa reads it; "[word](" with no closing ")" is a broken annotation
    if re.search(r"\]\((?![^)]*\))", text):
        raise TrainingDataError(f"{source}: unbalanced entity annotation in {raw!r}")
    base, slash, key = intent.partition("/")
    return Example(
        text=text,
        intent=base,
        entities=tuple(spans),
        source=source,
        response_key=intent if slash and key else None,
        metadata=metadata,
    )


MAX_DEPTH = 40
"""Nesting deeper than Rasa's format ever needs (it needs 4) is a file built to exhaust the loader."""


class _LineLoader(yaml.SafeLoader):
    """Keeps each mapping's line number so errors can point at it; refuses aliases and deep nesting.

    An alias is a reference, so nine levels of nine aliases (a 394-byte file) stand for 8**9 strings
    once anything walks the data: a 15 MB error message once. Rasa's training data has no use for them."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "YAML aliases (*name) are not allowed in training data", mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    # where each value starts: the items of an "examples: |" block follow that line
    mapping["__value_line__"] = {
        k.value: v.start_mark.line + 1 for k, v in node.value if isinstance(k, yaml.ScalarNode)
    }
    mapping["__key_line__"] = {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_BOOKKEEPING = ("__line__", "__value_line__", "__key_line__")


def _plain(obj: Any) -> Any:
    """The value as written, without the loader's line bookkeeping."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items() if k not in _BOOKKEEPING}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


def _read_yaml(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TrainingDataError(f"{path}: cannot read training data: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise TrainingDataError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        ) from None
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise TrainingDataError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None


class _FileReader:
    """Reads one file's ``nlu:`` entries into a TrainingData."""

    def __init__(self, path: Path, check_regexes: bool) -> None:
        self.path = path
        self.check_regexes = check_regexes
        self.data = TrainingData(files=[path])

    def where(self, line: int) -> str:
        return f"{self.path}:{line}"

    def read(self, doc: Any) -> TrainingData:
        if doc is None:
            return self.data
        if not isinstance(doc, dict):
            raise TrainingDataError(f"{self.path}: expected a mapping with an 'nlu:' list")
        lines = doc.get("__key_line__", {})
        for key in doc:
            if key in _BOOKKEEPING or key in ("version", "nlu"):
                continue
            if key in _TOP_LEVEL_IGNORED:
                log.info("%s: '%s:' ignored: %s", self.where(lines.get(key, 1)), key, _TOP_LEVEL_IGNORED[key])
                continue
            raise TrainingDataError(
                f"{self.where(lines.get(key, 1))}: unsupported top-level key {key!r} "
                "(an NLU file holds 'version', 'nlu' and 'responses')"
            )
        items = doc.get("nlu") or []
        if not isinstance(items, list):
            raise TrainingDataError(f"{self.where(lines.get('nlu', 1))}: 'nlu' must be a list")
        for item in items:
            self.read_item(item, lines.get("nlu", 1))
        self.inline_synonyms()
        return self.data

    def read_item(self, item: Any, nlu_line: int) -> None:
        if not isinstance(item, dict):
            raise TrainingDataError(f"{self.where(nlu_line)}: every 'nlu' entry must be a mapping, got {item!r}")
        line = item.get("__line__", 0)
        kinds = [k for k in _ITEM_KEYS if k in item]
        if len(kinds) != 1:
            raise TrainingDataError(
                f"{self.where(line)}: each 'nlu' entry needs exactly one of intent/synonym/lookup/regex"
            )
        kind = kinds[0]
        unknown = set(item) - {kind, "examples", "metadata", *_BOOKKEEPING}
        if unknown:
            raise TrainingDataError(
                f"{self.where(line)}: unsupported key {sorted(unknown)[0]!r} in {kind} {item[kind]!r}"
            )
        # a synonym's name is its value, written exactly (a leading space is kept)
        name = str(item[kind]) if kind == "synonym" else str(item[kind]).strip()
        if not name.strip():
            raise TrainingDataError(f"{self.where(line)}: empty {kind} name")
        if kind == "intent" and name.count("/") > 1:
            raise TrainingDataError(f"{self.where(line)}: intent {name!r}: a retrieval intent has one '/'")
        examples_line = item.get("__value_line__", {}).get("examples", line)
        entries = self.entries(item.get("examples"), examples_line, f"{kind} {name!r}", kind)
        if kind == "intent":
            intent_meta = _plain(item.get("metadata"))
            for text, ln, example_meta in entries:
                meta = {"intent": intent_meta, "example": example_meta} if intent_meta or example_meta else None
                self.data.examples.append(parse_example(text, name, self.where(ln), meta))
        elif kind == "synonym":
            for text, ln, _ in entries:
                self.data.synonyms[text.lower()] = name
                self.data.synonym_sources.append((text, name, self.where(ln)))
        elif kind == "lookup":
            values = self.lookup_values(entries)
            self.data.lookups.setdefault(name, []).extend(values)
            self.data.sources.setdefault(("lookup", name), self.where(line))
        else:
            if self.check_regexes:
                for pattern, ln, _ in entries:
                    try:
                        regex.compile(pattern)  # the engine's own regex library
                    except regex.error as exc:
                        raise TrainingDataError(f"{self.where(ln)}: bad regex for {name!r}: {exc}") from None
            self.data.regexes.setdefault(name, []).extend(p for p, _, _ in entries)
            self.data.sources.setdefault(("regex", name), self.where(line))

    def entries(self, block: Any, line: int, what: str, kind: str) -> list[tuple[str, int, Any]]:
        """(item, line, metadata) from ``examples: |`` or Rasa 3's list of ``- text: ...`` entries."""
        if isinstance(block, str):
            return self.block_entries(block, line, what, kind)
        if not isinstance(block, list):
            raise TrainingDataError(f"{self.where(line)}: {what} needs 'examples' as a '- item' block or list")
        out = []
        for offset, entry in enumerate(block):
            if isinstance(entry, dict) and kind == "intent":
                unknown = set(entry) - {"text", "metadata", *_BOOKKEEPING}
                ln = entry.get("__line__", line + offset)
                if "text" not in entry or unknown:
                    key = sorted(unknown)[0] if unknown else "text"
                    raise TrainingDataError(
                        f"{self.where(ln)}: {what}: each example needs 'text' (and optional 'metadata'), not {key!r}"
                    )
                out.append((str(entry["text"]).strip(_TRIM), ln, _plain(entry.get("metadata"))))
            elif isinstance(entry, str | int | float):
                out.append((str(entry).strip(_TRIM), line + offset + 1, None))
            else:
                raise TrainingDataError(
                    f"{self.where(line + offset + 1)}: {what}: unsupported example {_plain(entry)!r}"
                )
        return out

    def block_entries(self, block: str, line: int, what: str, kind: str) -> list[tuple[str, int, Any]]:
        out = []
        rows = block.splitlines()
        if kind == "lookup" and len(rows) == 1 and not rows[0].lstrip().startswith("-"):
            # "examples: path/to/file.txt": a lookup file, one entry per line
            return [(rows[0].strip(), line, "file")]
        for offset, raw in enumerate(rows, start=1):
            stripped = raw.strip()
            if not stripped:
                continue
            if not stripped.startswith("-"):
                raise TrainingDataError(f"{self.where(line + offset)}: expected '- example', got {stripped!r}")
            out.append((stripped[1:].strip(_TRIM), line + offset, None))
        return out

    def lookup_values(self, entries: list[tuple[str, int, Any]]) -> list[str]:
        """Inline entries, or the lines of a lookup file named relative to this file."""
        values = []
        folder = self.path.parent.resolve()
        for text, ln, marker in entries:
            candidate = (folder / text).resolve()
            if marker == "file" or (len(entries) == 1 and text.endswith(".txt")):
                if folder not in candidate.parents:  # an absolute path or ../: a file that is not the data's
                    raise TrainingDataError(
                        f"{self.where(ln)}: lookup file {text[:100]!r} must lie in the folder of {self.path.name}"
                    )
                if not candidate.is_file():
                    raise TrainingDataError(
                        f"{self.where(ln)}: lookup file {text!r} not found next to {self.path.name}"
                    )
                try:
                    lines = candidate.read_text(encoding="utf-8").splitlines()
                except (OSError, UnicodeDecodeError) as exc:
                    raise TrainingDataError(f"{candidate}: cannot read lookup file: {exc}") from None
                values += [v.strip() for v in lines if v.strip()]
            else:
                values.append(text)
        return values

    def inline_synonyms(self) -> None:
        """``[NYC](city:New York)`` declares a synonym, as in Rasa."""
        for example in self.data.examples:
            for span in example.entities:
                literal = example.text[span.start : span.end]
                if span.value != literal:
                    self.data.synonyms.setdefault(literal.lower(), span.value)
                    self.data.synonym_sources.append((literal, span.value, example.source))


def load_file(path: Path, check_regexes: bool = True) -> TrainingData:
    """Read one Rasa-format YAML file. Any problem raises TrainingDataError naming file and line."""
    path = Path(path)
    return _FileReader(path, check_regexes).read(_read_yaml(path))


def load_files(paths: list[Path], check_regexes: bool = True) -> TrainingData:
    merged = TrainingData()
    for path in paths:
        merged.merge(load_file(path, check_regexes))
    return merged


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given; folders become the YAML files inside them, as `rasa` reads a data folder."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))
        else:
            out.append(path)
    return out
