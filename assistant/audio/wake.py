"""Wake word: an engine listens to the microphone's stream and says when it heard its word.

Engines live beside this module and are chosen by name (`voice.audio.wake`):
`microwakeword` (a small neural network on the audio: microWakeWord, whose models ship in the
pymicro-wakeword wheel) and `phrase` (the speech recognizer on every voiced sound, then the
transcript's first words compared with `voice.audio.wake_phrase`: any phrase, but it runs the
recognizer all day and every sentence is a chance to mishear it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from assistant.errors import ConfigError

if TYPE_CHECKING:
    from assistant.config import AudioSettings


@dataclass(frozen=True)
class Wake:
    """The wake word, heard."""

    phrase: str
    """What was said to wake the assistant ("okay nabu", "hey shopper")."""
    at_s: float
    """Seconds of audio fed to the engine when it was sure (just after the wake word)."""
    request: str = ""
    """What followed the wake word in the same breath, where the engine heard words (`phrase`);
    empty when it did not, and the request is the next utterance."""
    heard: str = ""
    """The transcript the engine woke on, for the person at the terminal (`phrase` only)."""


class WakeDetector(Protocol):
    """Feed it the microphone's 16 kHz int16 audio in blocks of any size."""

    phrase: str

    def feed(self, samples: np.ndarray) -> Wake | None:
        """Consume a block; the wake word if it was heard in it (the rest of the block is dropped)."""
        ...

    def reset(self) -> None:
        """Forget what was heard so far (after a turn, so an old wake word does not fire again)."""
        ...


Transcriber = Callable[[np.ndarray], str]
"""An utterance of 16 kHz audio -> what the speech recognizer heard (for the `phrase` engine)."""


def create_wake_detector(settings: AudioSettings, transcribe: Transcriber | None = None) -> WakeDetector | None:
    """The engine `settings.wake` names, or None when there is no wake word (push-to-talk or none)."""
    if settings.push_to_talk:
        return None
    engine = settings.wake
    if engine == "phrase":
        if not settings.wake_phrase:
            return None
        if transcribe is None:
            raise ConfigError("voice.audio.wake: phrase needs a speech recognizer")
        from assistant.audio.phrase import PhraseWakeDetector

        return PhraseWakeDetector(settings.wake_phrase, transcribe)
    if engine == "microwakeword":
        from assistant.audio.microwakeword import MicroWakeWordDetector

        return MicroWakeWordDetector(settings.wake_word)
    raise ConfigError(f"voice.audio.wake: unknown engine {engine!r} (use microwakeword or phrase)")
