"""The `microwakeword` wake engine: microWakeWord models (TFLite) through pymicro-wakeword.

The network sees 10 ms feature frames (pymicro-features' MicroFrontend) and, every `stride`
frames, says how likely the last second or so was the wake word; the mean of the last
`sliding_window_size` of those above the model's `probability_cutoff` is a wake. It never runs the
speech recognizer, so listening all day costs a few percent of one core (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from assistant.audio.wake import Wake
from assistant.errors import ConfigError, EngineNotAvailable

log = logging.getLogger(__name__)

FEATURE_STEP_S = 0.010
"""One feature frame per 10 ms of audio (the MicroFrontend's step)."""


def builtin_models() -> list[str]:
    """The models the installed pymicro-wakeword wheel ships (okay_nabu, hey_jarvis, ...)."""
    from pymicro_wakeword import Model

    return [m.value for m in Model]


class MicroWakeWordDetector:
    """One microWakeWord model listening to a stream."""

    def __init__(self, model: str = "okay_nabu", cutoff: float | None = None) -> None:
        """``model`` is a built-in model's name or the path of a model's .json; ``cutoff`` overrides
        the model's own probability cutoff (for the benchmark's threshold sweep)."""
        try:
            from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model
        except (ImportError, OSError) as exc:
            raise EngineNotAvailable(
                f"the microwakeword wake engine is not installed ({exc}): run scripts/install-voice.sh"
            ) from exc
        if model in {m.value for m in Model}:
            self._net = MicroWakeWord.from_builtin(Model(model))
        elif model.endswith(".json"):
            path = Path(model).expanduser()
            if not path.is_file():
                raise ConfigError(f"voice.audio.wake_word: {path}: no such microWakeWord model file")
            self._net = MicroWakeWord.from_config(path)
        else:
            raise ConfigError(
                f"voice.audio.wake_word: {model!r} is not a built-in model ({', '.join(m.value for m in Model)})"
                " nor a model's .json file"
            )
        self._features = MicroWakeWordFeatures()
        self.cutoff = self._net.probability_cutoff if cutoff is None else cutoff
        self.phrase = self._net.wake_word.lower()
        self._frames = 0
        self.peak = 0.0
        """The highest probability seen since the last reset (for the benchmark)."""

    def feed(self, samples: np.ndarray) -> Wake | None:
        pcm = np.asarray(samples, np.int16).tobytes()
        for features in self._features.process_streaming(pcm):
            self._frames += 1
            probability = self._net.process_streaming_prob(features)
            if probability is None:
                continue
            self.peak = max(self.peak, probability)
            if probability > self.cutoff:
                at = self._frames * FEATURE_STEP_S
                log.debug("wake word %r at %.2f s (probability %.2f)", self.phrase, at, probability)
                self.reset()
                return Wake(self.phrase, at)
        return None

    def reset(self) -> None:
        # the network keeps state between calls (streaming layers): reset reloads it, a few ms
        self._net.reset()
        self._features.reset()
        self.peak = 0.0

    @property
    def seconds_heard(self) -> float:
        return self._frames * FEATURE_STEP_S
