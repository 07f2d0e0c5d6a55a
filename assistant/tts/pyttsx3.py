"""pyttsx3 on espeak-ng, synthesized to a WAV file and read back as PCM (never played by pyttsx3)."""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import threading
from pathlib import Path

import numpy as np

from assistant.config import TtsSettings
from assistant.errors import EngineNotAvailable

log = logging.getLogger(__name__)


class Pyttsx3Synthesizer:
    """One engine, used only with save_to_file (its say() needs aplay and breaks after saving)."""

    def __init__(self, settings: TtsSettings) -> None:
        try:
            import pyttsx3
        except ImportError as exc:
            raise EngineNotAvailable("pyttsx3 is not installed: run scripts/install-voice.sh") from exc
        try:
            self._engine = pyttsx3.init("espeak")
        except Exception as exc:  # noqa: BLE001 - the driver's own errors are varied
            raise EngineNotAvailable(
                f"pyttsx3 could not start espeak-ng ({exc}): apt-get install espeak-ng libespeak-ng1"
            ) from exc
        self._engine.setProperty("rate", settings.rate)
        self._engine.setProperty("volume", settings.volume)
        if settings.voice:
            self._engine.setProperty("voice", settings.voice)
        self._lock = threading.Lock()

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        from assistant.audio.wav import read_native

        text = " ".join(text.split()) or "."
        with self._lock, tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "reply.wav"
            # pyttsx3's espeak driver prints "Audio saved to ..." on stdout; keep the CLI's stdout clean
            with contextlib.redirect_stdout(io.StringIO()):
                self._engine.save_to_file(text, str(path))
                self._engine.runAndWait()
            if not path.exists() or path.stat().st_size < 100:
                raise EngineNotAvailable("espeak-ng produced no audio")
            return read_native(path)
