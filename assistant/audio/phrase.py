"""The `phrase` wake engine: the speech recognizer on every voiced sound, woken by a phrase.

Any words can be the wake phrase ("hey shopper"), but the recognizer runs on everything said near
the microphone, and every sentence is a chance to mishear the phrase (docs/benchmarks.md has the
CPU and the false wakes per hour beside `microwakeword`'s).
"""

from __future__ import annotations

import re

import numpy as np
from rapidfuzz import fuzz

from assistant.audio import SAMPLE_RATE
from assistant.audio.vad import Segmenter
from assistant.audio.wake import Transcriber, Wake

WAKE_SIMILARITY = 75
"""How close (rapidfuzz ratio, 0-100) the first words must be to the wake phrase."""


def split_wake(text: str, phrase: str) -> tuple[bool, str]:
    """Whether the text starts with the wake phrase, and the request after it.

    Recognizers spell a wake phrase loosely ("hey sharper", "hi shopper"), so the first words
    are compared by sound-alike spelling, not exactly.
    """
    phrase = phrase.lower().strip()
    if not phrase:
        return False, text
    target = re.sub(r"[^a-z]", "", phrase)
    words = list(re.finditer(r"[\w']+", text))
    n = len(phrase.split())
    best: tuple[float, int] = (0.0, 0)
    for k in (n, n + 1, n - 1):
        if 0 < k <= len(words):
            heard = re.sub(r"[^a-z]", "", "".join(w.group() for w in words[:k]).lower())
            score = fuzz.ratio(heard, target)
            if score > best[0]:
                best = (score, words[k - 1].end())
    if best[0] >= WAKE_SIMILARITY:
        return True, text[best[1] :].lstrip(" ,.!?")
    return False, text


class PhraseWakeDetector:
    """Cuts the stream into utterances and wakes on one that starts with the phrase."""

    def __init__(self, phrase: str, transcribe: Transcriber) -> None:
        self.phrase = phrase.lower().strip()
        self._transcribe = transcribe
        self._segmenter = Segmenter()
        self._samples = 0
        self.utterances = 0
        """How many utterances the recognizer was run on (for the benchmark)."""

    def feed(self, samples: np.ndarray) -> Wake | None:
        self._samples += len(samples)
        for utterance in self._segmenter.feed(samples):
            wake = self._hear(utterance)
            if wake is not None:
                self._segmenter = Segmenter()
                return wake
        return None

    def flush(self) -> Wake | None:
        """The end of a recording: the utterance still being spoken counts too."""
        tail = self._segmenter.flush()
        return None if tail is None else self._hear(tail)

    def _hear(self, utterance: np.ndarray) -> Wake | None:
        self.utterances += 1
        heard = self._transcribe(utterance)
        woke, request = split_wake(heard, self.phrase)
        return Wake(self.phrase, self._samples / SAMPLE_RATE, request=request, heard=heard) if woke else None

    def reset(self) -> None:
        self._segmenter = Segmenter()
