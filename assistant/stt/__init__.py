"""Speech to text: feed 16 kHz PCM, get partial and final transcripts; engines chosen by name."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.config import SttSettings
from assistant.errors import EngineNotAvailable
from assistant.plugins import load_target
from assistant.stt.vocabulary import Vocabulary

log = logging.getLogger(__name__)

ENGINES = {
    "whisper": "assistant.stt.whisper:WhisperRecognizer",
    "vosk": "assistant.stt.vosk:VoskRecognizer",
    "pocketsphinx": "assistant.stt.pocketsphinx:PocketsphinxRecognizer",
}
PREFERENCE = ("vosk", "whisper", "pocketsphinx")
"""Without a choice in config.yml: Vosk if a model is configured, else Whisper (most accurate here), else PocketSphinx."""


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    confidence: float = 1.0


@dataclass(frozen=True)
class Alternative:
    text: str
    score: float
    """The engine's own score: Whisper's mean log-probability per token."""


@dataclass(frozen=True)
class Transcript:
    text: str
    confidence: float = 1.0
    words: tuple[Word, ...] = field(default_factory=tuple)
    alternatives: tuple[Alternative, ...] = field(default_factory=tuple)
    """The engine's n-best, best first (`text` is the first), when it has them."""


class Recognizer(Protocol):
    name: str

    def accept(self, pcm: np.ndarray) -> str | None:
        """Feed int16 16 kHz samples; returns the partial transcript so far, if the engine has one."""

    def final(self) -> Transcript:
        """End the utterance and return its transcript; the recognizer is ready for the next."""


def transcribe(recognizer: Recognizer, pcm: np.ndarray) -> Transcript:
    recognizer.accept(pcm)
    return recognizer.final()


def create_recognizer(
    settings: SttSettings,
    phrases: list[str] | None = None,
    data_dir: Path | None = None,
    vocabulary: Vocabulary | None = None,
) -> Recognizer:
    """The configured engine, or the best one installed; phrases bias it toward the shop's words.

    Without `vosk_model` in config.yml, a model installed with `assistant models install` is used:
    any language when the engine is `vosk`, an English one when the assistant picks the engine.
    With `first_pass` set and a vocabulary given, a closed-vocabulary pass hears each utterance
    first and the engine only what it is not sure of (`assistant.stt.closed`).
    """
    if settings.first_pass and vocabulary is not None:
        from assistant.stt.closed import FirstPassRecognizer, closed_engine

        if settings.first_pass == "vosk" and settings.vosk_model is None and data_dir is not None:
            from assistant.stt.models import default_model

            model = default_model(data_dir, english_only=True)
            if model is not None:
                settings = settings.model_copy(update={"vosk_model": model})
        sentences = vocabulary.sentences()
        closed = closed_engine(settings, sentences)
        open_settings = settings.model_copy(update={"first_pass": None})
        fallback = create_recognizer(open_settings, phrases, data_dir)
        return FirstPassRecognizer(closed, fallback, vocabulary.unanswerable(), settings.first_pass_min_confidence)
    if settings.vosk_model is None and data_dir is not None and settings.engine in (None, "vosk"):
        from assistant.stt.models import default_model

        model = default_model(data_dir, english_only=settings.engine is None)
        if model is not None:
            settings = settings.model_copy(update={"vosk_model": model})
    names = [settings.engine] if settings.engine else [n for n in PREFERENCE if n != "vosk" or settings.vosk_model]
    errors = []
    for name in names:
        target = ENGINES.get(name or "")
        if target is None:
            raise EngineNotAvailable(f"unknown speech engine {name!r}; choose one of: {', '.join(ENGINES)}")
        try:
            cls = load_target(target, f"speech engine {name!r}")
            return cls(settings, phrases or [])
        except (ImportError, EngineNotAvailable) as exc:
            errors.append(f"{name}: {exc}")
            log.info("speech engine %s unavailable: %s", name, exc)
    raise EngineNotAvailable(
        "no speech recognizer is installed (" + "; ".join(errors) + "): run scripts/install-voice.sh"
    )
