"""The fast first pass: a closed-vocabulary recognizer that answers when it is sure, else the open one.

As Home Assistant's speech-to-phrase, but built from what this assistant knows
(`assistant.stt.vocabulary`). The closed engine hears the utterance as it comes (its partials are the
live text); at the end of the utterance it answers only when it is sure:

- what it heard is, word for word, one of the vocabulary's sentences, and not one of the
  out-of-scope sentences kept there to absorb other speech, nor one that places an order or erases
  data (`vocabulary.COMMITTING_INTENTS`: the open recognizer hears those again), and
- its own confidence is at least ``voice.stt.first_pass_min_confidence``: for PocketSphinx the
  posterior probability of the best path in its lattice, for Vosk the mean word confidence (with
  ``[unk]`` in the grammar, a word outside the vocabulary makes it unsure).

Otherwise the open recognizer (Whisper) takes the whole utterance, so free speech still works.
A closed engine's language model knows only the vocabulary, so speech outside it comes out as a
jumble of the vocabulary's words, which is rarely exactly one of its sentences: that is the check
that keeps a wrong purchase from being heard (tests/stt/test_closed.py; figures in
docs/benchmarks.md).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.audio import SAMPLE_RATE
from assistant.config import SttSettings
from assistant.errors import EngineNotAvailable
from assistant.stt import Recognizer, Transcript, Word
from assistant.stt.pocketsphinx import PocketsphinxRecognizer
from assistant.stt.vocabulary import words

log = logging.getLogger(__name__)

POCKETSPHINX_SEARCH = {"fwdflat": False, "bestpath": True, "beam": 1e-30, "wbeam": 1e-20, "maxhmmpf": 3000}
"""Narrower beams than pocketsphinx's defaults and no second (flat) pass: on a closed vocabulary
they cost little accuracy and halve the CPU (0.03-0.07 CPU-s for a 1-2 s command here, against
0.07-0.18 s with the defaults); the lattice pass stays, for its posterior (the confidence)."""


class ClosedEngine(Protocol):
    name: str

    sentences: list[str]

    def accept(self, pcm: np.ndarray) -> str | None: ...

    def final(self) -> Transcript: ...

    def twin(self) -> ClosedEngine:
        """Another engine of the same kind and vocabulary, for a second stream of audio."""
        ...


class PocketsphinxClosed(PocketsphinxRecognizer):
    """PocketSphinx (en-us from the wheel) with a trigram model of the vocabulary's sentences only.

    A model rather than a JSGF grammar: pocketsphinx searches an FSG of a few thousand sentences
    without sharing their prefixes, which measured 0.4-4 CPU-s per command here and often ended
    in no final state; the n-gram search shares them in its lexicon tree and the sentence check
    afterwards makes it closed."""

    name = "pocketsphinx"

    def __init__(self, sentences: list[str]) -> None:
        super().__init__(SttSettings(engine="pocketsphinx"), sentences, **POCKETSPHINX_SEARCH)
        # a word the dictionary cannot say (brand names, digits) leaves its sentence unreachable:
        # the open recognizer hears those
        self.sentences = [s for s in sentences if all(self._decoder.lookup_word(w) is not None for w in s.split())]
        self.dropped = len(sentences) - len(self.sentences)
        if not self.sentences:
            raise EngineNotAvailable("the closed vocabulary has no sentence pocketsphinx can say")

    def _confidence(self, hyp) -> float:
        return float(hyp.prob)  # the best path's posterior in the lattice (bestpath on)

    def twin(self) -> PocketsphinxClosed:
        return PocketsphinxClosed(self.sentences)


class VoskClosed:
    """Vosk with a runtime grammar of the vocabulary's sentences plus ``[unk]`` (needs a model with
    a runtime graph: Vosk's small models)."""

    name = "vosk"

    def __init__(self, sentences: list[str], model: Path, *, loaded=None) -> None:  # noqa: ANN001 - a vosk.Model
        try:
            import vosk
        except ImportError as exc:
            raise EngineNotAvailable("vosk is not installed") from exc
        vosk.SetLogLevel(-1)
        self.sentences = sentences
        self.dropped = 0
        self._path = model
        self._model = loaded or vosk.Model(str(model))
        self._grammar = json.dumps(sorted(set(sentences)) + ["[unk]"], ensure_ascii=False)  # Vosk reads no \u escapes
        self._new()

    def twin(self) -> VoskClosed:
        return VoskClosed(self.sentences, self._path, loaded=self._model)  # a model serves many recognizers

    def _new(self) -> None:
        import vosk

        self._rec = vosk.KaldiRecognizer(self._model, SAMPLE_RATE, self._grammar)
        self._rec.SetWords(True)
        self._parts: list[dict] = []

    def accept(self, pcm: np.ndarray) -> str | None:
        if self._rec.AcceptWaveform(np.asarray(pcm, np.int16).tobytes()):
            self._parts.append(json.loads(self._rec.Result()))
            return " ".join(p.get("text", "") for p in self._parts).strip() or None
        return json.loads(self._rec.PartialResult()).get("partial") or None

    def final(self) -> Transcript:
        self._parts.append(json.loads(self._rec.FinalResult()))
        found = [
            Word(w["word"], w["start"], w["end"], w.get("conf", 1.0)) for p in self._parts for w in p.get("result", [])
        ]
        self._new()
        if not found:
            return Transcript("", 0.0)
        if any(w.word == "[unk]" for w in found):
            return Transcript(" ".join(w.word for w in found), 0.0, tuple(found))  # something outside: not sure
        return Transcript(" ".join(w.word for w in found), float(min(w.confidence for w in found)), tuple(found))


def closed_engine(settings: SttSettings, sentences: list[str]) -> ClosedEngine:
    if settings.first_pass == "pocketsphinx":
        return PocketsphinxClosed(sentences)
    if settings.first_pass == "vosk":
        if settings.vosk_model is None:
            raise EngineNotAvailable(
                "voice.stt.first_pass is vosk but no Vosk model is configured: set voice.stt.vosk_model "
                "or run: assistant models install NAME"
            )
        return VoskClosed(sentences, Path(settings.vosk_model).expanduser())
    raise EngineNotAvailable(f"unknown first pass {settings.first_pass!r}; choose pocketsphinx or vosk")


class FirstPassRecognizer:
    """The closed engine first, the open recognizer when it is not sure (see the module's docstring)."""

    streaming = True
    """Partials come from the closed engine as the audio comes."""

    def __init__(
        self, closed: ClosedEngine, fallback: Recognizer, unanswerable: frozenset[str], min_confidence: float
    ) -> None:
        self.closed = closed
        self.fallback = fallback
        self.name = f"{closed.name}+{fallback.name}"
        self._sentences = frozenset(closed.sentences)  # those it can say
        self._unanswerable = unanswerable
        self.min_confidence = min_confidence
        self._audio: list[np.ndarray] = []
        self.last_source = ""
        """Which pass heard the last utterance: the closed engine's name or the fallback's."""
        self.answered_last = False
        """Whether the closed pass answered the last utterance (the two may share a name: pocketsphinx)."""

    def accept(self, pcm: np.ndarray) -> str | None:
        self._audio.append(np.asarray(pcm, np.int16))
        return self.closed.accept(pcm)

    def sure(self, transcript: Transcript, min_confidence: float | None = None) -> bool:
        text = " ".join(words(transcript.text))
        floor = self.min_confidence if min_confidence is None else min_confidence
        return (
            bool(text) and text in self._sentences and text not in self._unanswerable and transcript.confidence >= floor
        )

    def final(self) -> Transcript:
        audio = np.concatenate(self._audio) if self._audio else np.zeros(0, np.int16)
        self._audio = []
        heard = self.closed.final()
        if self.sure(heard):
            self.last_source, self.answered_last = self.closed.name, True
            return replace(heard, text=" ".join(words(heard.text)))
        # at DEBUG only: what people say is theirs
        log.debug("first pass unsure (%r, %.2f): the open recognizer takes it", heard.text, heard.confidence)
        self.last_source, self.answered_last = self.fallback.name, False
        if len(audio):
            self.fallback.accept(audio)
        return self.fallback.final()
