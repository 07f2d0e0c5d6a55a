"""Text to speech: a reply in, PCM samples out; engines chosen by name in config.yml."""

from __future__ import annotations

import importlib
from typing import Protocol

import numpy as np

from assistant.config import TtsSettings
from assistant.errors import EngineNotAvailable

ENGINES = {
    "pyttsx3": "assistant.tts.pyttsx3:Pyttsx3Synthesizer",
    "piper": "assistant.tts.piper:PiperSynthesizer",
}


class Synthesizer(Protocol):
    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        """Mono int16 samples and their sample rate."""


def create_synthesizer(settings: TtsSettings) -> Synthesizer:
    target = ENGINES.get(settings.engine)
    if target is None:
        raise EngineNotAvailable(f"unknown TTS engine {settings.engine!r}; choose one of: {', '.join(ENGINES)}")
    module, _, name = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise EngineNotAvailable(
            f"TTS engine {settings.engine!r} is not installed ({exc}); run scripts/install-voice.sh"
        ) from exc
    return cls(settings)
