"""What an NLU engine returns for one text, and the interface every engine implements."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from assistant.nlu.data import TrainingData


@dataclass(frozen=True)
class Entity:
    """One entity found in a text."""

    entity: str
    """Entity type, e.g. ``product``."""
    value: str
    """Normalised value (after synonyms), e.g. ``oat milk``."""
    start: int
    """Character offset of the first character in the text."""
    end: int
    """Character offset one past the last character."""
    confidence: float = 1.0
    role: str | None = None
    """Optional role, e.g. ``from`` / ``to``."""
    text: str = ""
    """The literal text span."""
    group: str | None = None
    """Optional group, e.g. ``1`` for the entities of one pizza in "a large pepperoni and a small margherita"."""
    extractor: str = ""
    """The component that found it (Rasa's ``extractor`` key)."""

    def to_rasa(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "entity": self.entity,
            "start": self.start,
            "end": self.end,
            "confidence_entity": round(self.confidence, 4),
            # the key this project's `nlu parse --json` always had, kept beside Rasa's
            "confidence": round(self.confidence, 4),
        }
        if self.role:
            out["role"] = self.role
        if self.group:
            out["group"] = self.group
        out["value"] = self.value
        if self.extractor:
            out["extractor"] = self.extractor
        return out


@dataclass(frozen=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True)
class Parse:
    """An engine's reading of one text: the shape of Rasa's ``/model/parse`` answer."""

    text: str
    intent: IntentScore
    ranking: list[IntentScore] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    response_selector: dict[str, Any] | None = None
    """Rasa's ``response_selector`` (the full retrieval intent, e.g. ``faq/ask_price``), when the data has one."""

    @property
    def retrieval_intent(self) -> str | None:
        """The full retrieval intent chosen for this text (``faq/ask_price``), if any."""
        selected = (self.response_selector or {}).get("default", {}).get("response", {})
        return selected.get("intent_response_key")

    def entity(self, name: str, role: str | None = None) -> Entity | None:
        for ent in self.entities:
            if ent.entity == name and (role is None or ent.role == role):
                return ent
        return None

    def to_rasa(self) -> dict[str, Any]:
        out = {
            "text": self.text,
            "intent": {"name": self.intent.name, "confidence": round(self.intent.confidence, 4)},
            "intent_ranking": [{"name": s.name, "confidence": round(s.confidence, 4)} for s in self.ranking],
            "entities": [e.to_rasa() for e in self.entities],
        }
        if self.response_selector is not None:
            out["response_selector"] = self.response_selector
        return out

    @classmethod
    def from_rasa(cls, obj: dict[str, Any]) -> Parse:
        intent = obj.get("intent") or {}
        return cls(
            text=obj.get("text", ""),
            intent=IntentScore(intent.get("name") or "out_of_scope", float(intent.get("confidence") or 0.0)),
            ranking=[IntentScore(r["name"], float(r["confidence"])) for r in obj.get("intent_ranking") or []],
            entities=[
                Entity(
                    entity=e["entity"],
                    value=str(e.get("value", "")),
                    start=int(e.get("start", 0)),
                    end=int(e.get("end", 0)),
                    confidence=float(e.get("confidence_entity", e.get("confidence", 1.0)) or 1.0),
                    role=e.get("role"),
                    text=obj.get("text", "")[int(e.get("start", 0)) : int(e.get("end", 0))],
                    group=e.get("group"),
                    extractor=e.get("extractor", ""),
                )
                for e in obj.get("entities") or []
            ],
            response_selector=obj.get("response_selector"),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class NluEngine(Protocol):
    """An intent and entity recogniser trained from Rasa-format data."""

    name: str

    def train(self, data: TrainingData, cache_dir: Path) -> None:
        """Train from ``data`` (or load a model cached under ``cache_dir`` for the same data)."""

    def parse(self, text: str) -> Parse:
        """Read one text. Must not raise on any string."""

    def close(self) -> None:
        """Release processes or memory the engine holds."""
