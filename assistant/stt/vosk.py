"""Engine `vosk`: Kaldi streaming recognition with partials, word timings and a phrase list."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from assistant.audio import SAMPLE_RATE
from assistant.config import SttSettings
from assistant.errors import EngineNotAvailable
from assistant.stt import Transcript, Word

log = logging.getLogger(__name__)


class VoskRecognizer:
    name = "vosk"
    streaming = True
    """It hears audio as it comes and has partial transcripts: the live loop shows them."""

    def __init__(self, settings: SttSettings, phrases: list[str], grammar: bool | None = None) -> None:
        try:
            import vosk
        except ImportError as exc:
            raise EngineNotAvailable("vosk is not installed") from exc
        if settings.vosk_model is None:
            raise EngineNotAvailable(
                "no Vosk model configured: set voice.stt.vosk_model or run: assistant models install NAME"
            )
        path = Path(settings.vosk_model).expanduser()
        if not (path / "am").exists() and not (path / "conf").exists():
            raise EngineNotAvailable(f"{path}: not a Vosk model folder (it needs am/ and conf/)")
        vosk.SetLogLevel(-1)
        self._model = vosk.Model(str(path))
        self._phrases = phrases
        self._grammar = settings.vosk_grammar if grammar is None else grammar
        self._new()

    def _new(self) -> None:
        import vosk

        if self._grammar and self._phrases:
            # a runtime phrase list, with [unk] so free speech still passes
            grammar = json.dumps(sorted(set(self._phrases)) + ["[unk]"], ensure_ascii=False)  # Vosk reads no \u escapes
            self._rec = vosk.KaldiRecognizer(self._model, SAMPLE_RATE, grammar)
        else:
            self._rec = vosk.KaldiRecognizer(self._model, SAMPLE_RATE)
        self._rec.SetWords(True)
        self._rec.SetPartialWords(True)
        self._parts: list[dict] = []

    def accept(self, pcm: np.ndarray) -> str | None:
        if self._rec.AcceptWaveform(np.asarray(pcm, np.int16).tobytes()):
            self._parts.append(json.loads(self._rec.Result()))
            return " ".join(p.get("text", "") for p in self._parts).strip()
        return json.loads(self._rec.PartialResult()).get("partial") or None

    def final(self) -> Transcript:
        self._parts.append(json.loads(self._rec.FinalResult()))
        words = [
            Word(w["word"], w["start"], w["end"], w.get("conf", 1.0)) for p in self._parts for w in p.get("result", [])
        ]
        words = [w for w in words if w.word != "[unk]"]
        text = " ".join(p.get("text", "") for p in self._parts).replace("[unk]", "").split()
        self._new()
        conf = float(np.mean([w.confidence for w in words])) if words else 0.0
        return Transcript(" ".join(text), conf, tuple(words))
