"""The spoken turn: speech in (from a WAV file or a microphone), understood, answered aloud."""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.app import App, Conversation, Turn
from assistant.audio import SAMPLE_RATE
from assistant.audio.phrase import split_wake
from assistant.audio.vad import FRAME, Segmenter
from assistant.audio.wake import WakeDetector, create_wake_detector
from assistant.audio.wav import stream_wav, to_mono16k, write_wav
from assistant.config import SttSettings
from assistant.errors import AssistantError, AudioError, EngineNotAvailable
from assistant.nlu.embedded import clean
from assistant.nlu.parse import Parse
from assistant.stt import Recognizer, Transcript, create_recognizer, transcribe
from assistant.stt.vocabulary import build_vocabulary
from assistant.tts import Synthesizer, create_synthesizer

log = logging.getLogger(__name__)

REPLY_GAP_S = 0.4
MAX_BACKLOG_S = 30
"""Microphone audio kept while a turn is being answered; older audio is dropped."""
DOMAIN_WEIGHT = 0.3
"""How much the NLU's confidence counts against the recognizer's score when picking of its n-best."""
NO_AUDIO_S = 5.0
"""A microphone that delivers nothing for this long has gone away."""


def shop_phrases(app: App) -> list[str]:
    """What people say here: the training sentences, the catalogue's names and brands."""
    return list(dict.fromkeys(p.lower() for p in app.shop_phrases()))


def shop_recognizer(app: App, settings: SttSettings | None = None) -> Recognizer:
    """The configured recognizer, biased to the shop; with a first pass, its closed vocabulary is
    built from this shop's skills, catalogue and config.yml's member's orders and lists."""
    settings = settings or app.config.voice.stt
    vocabulary = build_vocabulary(app) if settings.first_pass else None
    return create_recognizer(settings, shop_phrases(app), app.db.data_dir, vocabulary)


@dataclass
class SpokenTurn:
    transcript: str
    turn: Turn | None
    audio: np.ndarray | None = None
    """The reply, synthesized, at the synthesizer's rate."""
    rate: int = SAMPLE_RATE
    recognizer: str = ""
    """The recognizer that heard it: with a first pass, the closed engine's name or the open one's."""
    first_pass: bool | None = None
    """Whether the first pass answered (None: no first pass configured)."""

    def to_json(self) -> dict[str, Any]:
        t = self.turn
        return {
            "transcript": self.transcript,
            "recognizer": self.recognizer,
            "first_pass": self.first_pass,
            "intent": t.intent if t else None,
            "confidence": round(t.confidence, 4) if t else 0.0,
            "entities": [e.to_rasa() for e in t.entities] if t else [],
            "skill": t.skill if t else None,
            "reply": t.reply if t else "",
        }


class Voice:
    """A conversation with ears and a mouth."""

    def __init__(
        self,
        app: App,
        conversation: Conversation | None = None,
        recognizer: Recognizer | None = None,
        synthesizer: Synthesizer | None = None,
    ) -> None:
        self.app = app
        self.conversation = conversation or app.conversation()
        self._chosen: tuple[str, Parse] | None = None
        """The NLU's reading of the guess ``choose`` picked, so the turn does not parse it again."""
        settings = app.config.voice
        self._synth_error: EngineNotAvailable | None = None
        self._synth = synthesizer
        if self._synth is None:
            try:
                self._synth = create_synthesizer(settings.tts)
            except EngineNotAvailable as exc:
                self._synth_error = exc
        self.recognizer = recognizer or shop_recognizer(app)
        self.wake = (settings.audio.wake_phrase or "").lower().strip()

    @property
    def synthesizer(self) -> Synthesizer:
        if self._synth is None:
            raise self._synth_error or EngineNotAvailable("no speech synthesizer")
        return self._synth

    def transcribe(self, utterance: np.ndarray, recognizer: Recognizer | None = None) -> Transcript:
        """``recognizer``: one lent from a pool for this utterance, instead of this voice's own."""
        return self.choose(transcribe(recognizer or self.recognizer, utterance))

    def choose(self, transcript: Transcript) -> Transcript:
        """Of the recognizer's n-best, the one that makes most sense here.

        Each hypothesis scores its acoustic score (mean log-probability per token) plus
        DOMAIN_WEIGHT times the NLU's confidence in an intent of this assistant (0 for
        out_of_scope). So a close second guess that is a shop request beats a first guess that is
        not ("Have you not done food?" / "Have you got any dog food?"), while a clear first guess
        stands. Measured on 120 spoken held-out sentences: intent accuracy 0.80 taking the first
        guess, 0.85 picking (docs/benchmarks.md).
        """
        self._chosen = None
        if len(transcript.alternatives) < 2:
            return transcript
        best, best_value, best_parse = transcript.alternatives[0], -np.inf, None
        for alternative in transcript.alternatives:
            text = clean(self.strip_wake(alternative.text))
            try:
                parse = self.app.parse(text) if re.search(r"\w", text) else None
            except AssistantError as exc:  # e.g. the Rasa server went away: the turn will say so
                log.warning("could not weigh what was heard: %s", exc)
                return transcript
            in_domain = parse is not None and parse.intent.name != "out_of_scope"
            value = alternative.score + DOMAIN_WEIGHT * (parse.intent.confidence if in_domain else 0.0)
            if value > best_value:
                best, best_value, best_parse = alternative, value, parse
        if best_parse is not None:
            self._chosen = (clean(self.strip_wake(best.text)), best_parse)
        if best is not transcript.alternatives[0]:
            # what people say is theirs: at DEBUG only, never in a log kept by default ("delete my data")
            log.debug("heard %r, understood as %r", transcript.text, best.text)
        return replace(transcript, text=best.text, confidence=float(np.exp(best.score)))

    def hear(self, utterance: np.ndarray, *, speak: bool = False) -> SpokenTurn:
        """One utterance of 16 kHz audio -> transcript -> turn -> (optionally) reply audio."""
        transcript = self.transcribe(utterance)
        # a FirstPassRecognizer says which of its passes heard it; any other recognizer heard it itself
        heard_by = {
            "recognizer": getattr(self.recognizer, "last_source", "") or self.recognizer.name,
            "first_pass": getattr(self.recognizer, "answered_last", None),
        }
        text = self.strip_wake(transcript.text)
        if not re.search(r"\w", text):
            return SpokenTurn(transcript.text, None, **heard_by)
        turn = self.answer(text)
        spoken = SpokenTurn(transcript.text, turn, **heard_by)
        if speak and turn.reply:
            spoken.audio, spoken.rate = self.synthesizer.synthesize(turn.reply)
        return spoken

    def answer(self, text: str) -> Turn:
        """The conversation's turn for what was heard, reusing the parse made while choosing it."""
        chosen = self._chosen
        parse = chosen[1] if chosen is not None and chosen[0] == clean(text) else None
        return self.conversation.handle(text, parse=parse)

    def split_wake(self, text: str) -> tuple[bool, str]:
        """Whether the text starts with the wake phrase, and the request after it (sound-alike spellings count)."""
        return split_wake(text, self.wake)

    def strip_wake(self, text: str) -> str:
        return self.split_wake(text)[1]

    def from_wav(self, path: Path, *, speak: bool = False) -> Iterator[SpokenTurn]:
        """Every utterance in a WAV file, as if spoken one after another, as each is heard.

        The file is read a block at a time, so an hour of audio needs no more memory than a minute."""
        seg = Segmenter()
        for block in stream_wav(path):
            for utterance in seg.feed(block):
                yield self.hear(utterance, speak=speak)
        tail = seg.flush()
        if tail is not None:
            yield self.hear(tail, speak=speak)


def write_replies(turns: list[SpokenTurn], path: Path) -> None:
    pieces = []
    for t in turns:
        if t.audio is not None:
            pieces += [to_mono16k(t.audio, t.rate), np.zeros(int(SAMPLE_RATE * REPLY_GAP_S), np.int16)]
    write_wav(path, np.concatenate(pieces) if pieces else np.zeros(0, np.int16))


# -- the live loop --------------------------------------------------------------------------------
class LiveLoop:
    """Microphone -> VAD -> wake phrase (or a pending question) -> turn -> reply, with barge-in."""

    def __init__(
        self,
        voice: Voice,
        *,
        show: Callable[[str], None],
        emit: Callable[[dict[str, Any]], None] | None = None,
        push_to_talk: bool = False,
    ) -> None:
        """``show`` gets each line for the person at the terminal ("heard: ...", "assistant: ...");
        ``emit`` (for ``listen --json``) one record per answered turn."""
        import sounddevice as sd

        self.sd = sd
        self.voice = voice
        self.push_to_talk = push_to_talk
        self.show = show
        self.emit = emit
        audio = voice.app.config.voice.audio
        self.input_device = audio.input_device
        self.output_device = audio.output_device
        self.frames: queue.Queue[np.ndarray] = queue.Queue(maxsize=int(MAX_BACKLOG_S * SAMPLE_RATE / FRAME))
        self.playing = threading.Event()
        self.stopped = threading.Event()
        self.expecting = False
        self.detector: WakeDetector | None = (
            None if push_to_talk else create_wake_detector(audio, lambda u: voice.transcribe(u).text)
        )
        self._barged: Segmenter | None = None
        self._streamed = 0
        self._last_partial: str | None = None

    def _callback(self, indata, frames, time_info, status) -> None:  # noqa: ANN001 - sounddevice's signature
        if status:
            log.debug("audio input: %s", status)
        block = indata[:, 0].copy()
        try:
            self.frames.put_nowait(block)
        except queue.Full:  # the loop fell behind (a slow turn): drop the oldest audio, not the newest
            with contextlib.suppress(queue.Empty):
                self.frames.get_nowait()
            self.frames.put_nowait(block)

    def play(self, audio: np.ndarray, rate: int) -> bool:
        """Play a reply; returns False if the user spoke over it (barge-in), which stops it."""
        self.playing.set()
        try:
            self.sd.play(audio, rate, device=self.output_device)
            seg = Segmenter(aggressiveness=3, trailing_silence_ms=300, min_speech_ms=300)
            duration = len(audio) / rate
            start = time.monotonic()
            while time.monotonic() - start < duration + 0.2:
                try:
                    block = self.frames.get(timeout=0.05)
                except queue.Empty:
                    continue
                list(seg.feed(block))
                if seg.in_speech and seg._voiced * 30 >= 300:  # noqa: SLF001 - 0.3 s of voice: the user is talking
                    self.sd.stop()
                    self.show("(stopped: you spoke)")
                    self._barged = seg
                    return False
            self.sd.wait()
            return True
        finally:
            self.playing.clear()

    def run(self, max_turns: int | None = None) -> None:
        voice = self.voice
        detector = self.detector
        turns = 0
        stream = self.sd.InputStream(
            samplerate=SAMPLE_RATE,
            channels=1,
            dtype="int16",
            blocksize=FRAME,
            device=self.input_device,
            callback=self._callback,
        )
        try:
            stream.start()
            self.show(f"Listening. Say '{detector.phrase}' and then your request." if detector else "Listening.")
            seg = Segmenter()
            armed = False
            silent_since = time.monotonic()
            while not self.stopped.is_set():
                if self.push_to_talk and not self.expecting and not armed:
                    input("Press Enter and speak...")
                    self._drain()  # what was heard before Enter is not for the assistant
                    seg, armed = Segmenter(), True
                try:
                    block = self.frames.get(timeout=0.2)
                except queue.Empty:
                    if not stream.active or time.monotonic() - silent_since > NO_AUDIO_S:
                        raise AudioError(
                            "the microphone stopped sending audio (unplugged?); check 'assistant devices', "
                            "or type with 'assistant chat'"
                        ) from None
                    continue
                silent_since = time.monotonic()
                heard: list[tuple[str, str]] = []  # (what was heard, the request in it)
                if detector is not None and not self.expecting and not armed:
                    # until woken only the wake engine hears the room; the recognizer does not run
                    wake = detector.feed(block)
                    if wake is None:
                        continue
                    self.show(f"heard: {wake.heard}" if wake.heard else f"(woke: {wake.phrase})")
                    if not re.search(r"\w", wake.request):
                        seg, armed = Segmenter(), True  # the wake word alone: the next utterance is the request
                        continue
                    heard.append((wake.heard, wake.request))
                else:
                    for utterance in seg.feed(block):
                        transcript = self._final(utterance)
                        if transcript.strip():
                            self.show(f"heard: {transcript}")
                            request = split_wake(transcript, detector.phrase)[1] if detector else transcript
                            heard.append((transcript, request))
                            break
                    else:
                        self._partial(seg)
                for transcript, text in heard:
                    armed = not re.search(r"\w", text)  # the wake phrase again, alone: still listening
                    if armed:
                        continue
                    turn = voice.answer(text)
                    self.show(f"assistant: {turn.reply}")
                    self.expecting = turn.expecting
                    audio, rate = voice.synthesizer.synthesize(turn.reply)
                    finished = self.play(audio, rate)
                    silent_since = time.monotonic()
                    turns += 1
                    if self.emit is not None:
                        self.emit(SpokenTurn(transcript, turn).to_json() | {"interrupted": not finished})
                    if turn.end or (max_turns is not None and turns >= max_turns):
                        return
                    if detector is not None:
                        detector.reset()  # what it heard before the reply is not a new wake word
                    if not finished:
                        # Barge-in: the words that stopped the reply are the next turn, no wake word needed.
                        seg, self.expecting = self._barged, True
                        self._streamed = 0
                    else:
                        seg = Segmenter()
        finally:
            close_quietly(stream)

    def _drain(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self.frames.get_nowait()

    def _partial(self, seg: Segmenter) -> None:
        """Streaming engines (Vosk) hear the utterance as it is spoken and show what they have so far."""
        if not getattr(self.voice.recognizer, "streaming", False) or not seg.in_speech:
            return
        frames = seg.speech_so_far
        partial = None
        for frame in frames[self._streamed :]:
            partial = self.voice.recognizer.accept(frame) or partial
        self._streamed = len(frames)
        if partial and partial != self._last_partial:
            self._last_partial = partial
            self.show(f"... {partial}")

    def _final(self, utterance: np.ndarray) -> str:
        recognizer = self.voice.recognizer
        if getattr(recognizer, "streaming", False) and self._streamed:
            self._streamed, self._last_partial = 0, None
            return self.voice.choose(recognizer.final()).text  # it has heard the utterance as it was spoken
        return self.voice.transcribe(utterance).text


def close_quietly(stream, timeout: float = 2.0) -> None:  # noqa: ANN001 - a sounddevice stream
    """Close a stream without hanging on a device that has gone away (PortAudio can block there)."""

    def close() -> None:
        with contextlib.suppress(Exception):
            stream.abort()
            stream.close()

    closer = threading.Thread(target=close, daemon=True)
    closer.start()
    closer.join(timeout)
    if closer.is_alive():
        log.warning("the sound device did not close within %.0f s; leaving it", timeout)


def run_live(
    voice: Voice,
    max_turns: int | None = None,
    *,
    show: Callable[[str], None],
    emit: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    try:
        push_to_talk = voice.app.config.voice.audio.push_to_talk
        LiveLoop(voice, show=show, emit=emit, push_to_talk=push_to_talk).run(max_turns)
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        import sounddevice

        if isinstance(exc, sounddevice.PortAudioError):
            raise AudioError(
                f"the sound device failed ({exc}); check 'assistant devices', or use 'assistant chat'"
            ) from exc
        raise
