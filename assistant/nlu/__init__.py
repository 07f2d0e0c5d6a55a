"""NLU: Rasa-format training data in, `Parse` out; engines are chosen by name."""

from __future__ import annotations

from pathlib import Path

from assistant.config import REPO_ROOT, NluSettings
from assistant.errors import EngineNotAvailable
from assistant.nlu.data import TrainingData, load_files
from assistant.nlu.parse import Entity, IntentScore, NluEngine, Parse
from assistant.plugins import load_target

__all__ = [
    "ENGINES",
    "Entity",
    "IntentScore",
    "NluEngine",
    "Parse",
    "TrainingData",
    "core_data_files",
    "create_engine",
    "load_training_data",
]

ENGINES: dict[str, str] = {
    "embedded": "assistant.nlu.embedded:EmbeddedEngine",
    "rasa": "assistant.nlu.rasa:RasaEngine",
}
CORE_DATA_DIR = REPO_ROOT / "nlu_data"


def core_data_files() -> list[Path]:
    return sorted(CORE_DATA_DIR.glob("*.yml"))


def load_training_data(skill_files: list[Path], settings: NluSettings | None = None) -> TrainingData:
    """The core conversation data merged with every installed skill's nlu.yml (and config extras)."""
    extra = list(settings.extra_data) if settings else []
    return load_files(core_data_files() + list(skill_files) + extra)


def create_engine(name: str, settings: NluSettings | None = None) -> NluEngine:
    target = ENGINES.get(name)
    if target is None:
        raise EngineNotAvailable(f"unknown NLU engine {name!r}; choose one of: {', '.join(ENGINES)}")
    cls = load_target(target, f"NLU engine {name!r}")
    if name == "rasa":
        rasa = (settings or NluSettings()).rasa
        return cls(pipeline=rasa.pipeline, epochs=rasa.epochs, venv=rasa.venv)
    return cls()
