"""Voice activity detection: cut a stream into utterances after ~0.6 s of silence.

webrtcvad decides whether a frame sounds like speech; in steady background noise (a fan, a
kettle, traffic) it says yes to the noise too, so an utterance would never end. A frame therefore
also has to stand out from the background: its energy in the speech band (250-3500 Hz) must be
`noise_margin_db` above the noise floor, the 10th percentile of the frame energies of the last
few seconds (speech has pauses, so the quietest frames are the room). Measured on three commands
in hiss and in rumble: without it they run into one 8-second utterance from 10 dB SNR down; with
it each ends on its own down to 0 dB.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from assistant.audio import SAMPLE_RATE

FRAME_MS = 30
FRAME = SAMPLE_RATE * FRAME_MS // 1000
FLOOR_WINDOW_S = 5.0
FLOOR_MIN_HISTORY_S = 1.0  # before this much audio, an utterance may start on webrtcvad alone
_BAND = slice(int(250 * FRAME / SAMPLE_RATE), int(3500 * FRAME / SAMPLE_RATE))
NOISE_MARGIN_DB = 4.0


@dataclass
class Segmenter:
    """Feed 16 kHz int16 frames; get whole utterances back when the speaker stops."""

    aggressiveness: int = 2
    trailing_silence_ms: int = 600
    min_speech_ms: int = 240
    padding_ms: int = 210
    max_utterance_s: float = 20.0
    noise_margin_db: float = NOISE_MARGIN_DB

    def __post_init__(self) -> None:
        import webrtcvad

        self._vad = webrtcvad.Vad(self.aggressiveness)
        self._buffer = np.zeros(0, np.int16)
        self._speech: list[np.ndarray] = []
        self._pre: list[np.ndarray] = []
        self._silence = 0
        self._voiced = 0
        self._energies: deque[float] = deque(maxlen=int(FLOOR_WINDOW_S * 1000 / FRAME_MS))

    @property
    def in_speech(self) -> bool:
        return bool(self._speech)

    @property
    def speech_so_far(self) -> list[np.ndarray]:
        """The frames of the utterance being spoken (with its lead-in), for live partial transcripts."""
        return self._speech

    def feed(self, samples: np.ndarray) -> Iterator[np.ndarray]:
        self._buffer = np.concatenate([self._buffer, np.asarray(samples, np.int16)])
        while len(self._buffer) >= FRAME:
            frame, self._buffer = self._buffer[:FRAME], self._buffer[FRAME:]
            done = self._frame(frame)
            if done is not None:
                yield done

    def _above_floor(self, frame: np.ndarray, starting: bool) -> bool:
        spectrum = np.abs(np.fft.rfft(frame.astype(np.float64))) ** 2
        energy = 10 * np.log10(spectrum[_BAND].mean() + 1.0)  # the speech band, not rumble or hiss
        self._energies.append(energy)
        if starting and len(self._energies) * FRAME_MS < FLOOR_MIN_HISTORY_S * 1000:
            return True
        return energy >= np.percentile(self._energies, 10) + self.noise_margin_db

    def _frame(self, frame: np.ndarray) -> np.ndarray | None:
        loud = self._above_floor(frame, starting=not self._speech)
        voiced = loud and self._vad.is_speech(frame.tobytes(), SAMPLE_RATE)
        if not self._speech:
            self._pre = (self._pre + [frame])[-(self.padding_ms // FRAME_MS) :]
            if voiced:
                self._speech = list(self._pre)
                self._silence = 0
                self._voiced = 1
            return None
        self._speech.append(frame)
        if voiced:
            self._voiced += 1
            self._silence = 0
        else:
            self._silence += 1
        too_long = len(self._speech) * FRAME_MS >= self.max_utterance_s * 1000
        if self._silence * FRAME_MS >= self.trailing_silence_ms or too_long:
            return self._finish()
        return None

    def _finish(self) -> np.ndarray | None:
        speech, voiced, silence = self._speech, self._voiced, self._silence
        self._speech, self._pre, self._silence, self._voiced = [], [], 0, 0
        # keep a little of the trailing silence, not all of it: recognizers make words up in silence
        keep = self.padding_ms // FRAME_MS
        if silence > keep:
            speech = speech[: len(speech) - (silence - keep)]
        if voiced * FRAME_MS < self.min_speech_ms:
            return None  # a click or a cough, not speech
        return np.concatenate(speech)

    def flush(self) -> np.ndarray | None:
        return self._finish() if self._speech else None


def utterances(samples: np.ndarray, segmenter: Segmenter | None = None) -> list[np.ndarray]:
    """Split a recording into the utterances in it."""
    seg = segmenter or Segmenter()
    out = [u for u in seg.feed(samples)]
    tail = seg.flush()
    if tail is not None:
        out.append(tail)
    return out


def chunks(samples: np.ndarray, size: int = FRAME * 4) -> Iterable[np.ndarray]:
    for start in range(0, len(samples), size):
        yield samples[start : start + size]
