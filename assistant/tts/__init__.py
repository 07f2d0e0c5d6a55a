"""Text to speech: a reply in, PCM samples out; engines chosen by name in config.yml."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from assistant.config import TtsSettings
from assistant.errors import EngineNotAvailable
from assistant.plugins import load_target

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
    cls = load_target(target, f"TTS engine {settings.engine!r} (run scripts/install-voice.sh)")
    return cls(settings)
