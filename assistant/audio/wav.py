"""Read any WAV file as 16 kHz mono int16 samples, whole or as a stream of blocks, and write PCM back out."""

from __future__ import annotations

import contextlib
import logging
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from math import ceil, gcd
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from assistant.audio import SAMPLE_RATE
from assistant.errors import AudioError

log = logging.getLogger(__name__)

MIN_RATE, MAX_RATE = 1_000, 384_000
"""Sample rates outside these are not audio anyone recorded (a header with rate 0 is a broken file)."""
BLOCK_SECONDS = 10.0
"""How much audio `stream_wav` reads at a time: memory stays at a few blocks whatever the length."""


@dataclass(frozen=True)
class _Format:
    channels: int
    width: int
    rate: int
    frames: int


def to_mono16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Any rate and channel count -> 16 kHz mono int16."""
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    samples = samples.astype(np.float32)
    if rate != SAMPLE_RATE:
        g = gcd(int(rate), SAMPLE_RATE)
        samples = resample_poly(samples, SAMPLE_RATE // g, int(rate) // g)
    return np.clip(samples, -32768, 32767).astype(np.int16)


def read_wav(path: Path) -> np.ndarray:
    """The file's audio as 16 kHz mono int16; AudioError naming the file if it is not a usable WAV."""
    blocks = list(stream_wav(path))
    return np.concatenate(blocks) if blocks else np.zeros(0, np.int16)


def stream_wav(path: Path, block_seconds: float = BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """The file's audio as consecutive 16 kHz mono int16 blocks of about ``block_seconds``.

    Reads the file a block at a time, so an hour of audio takes no more memory than a few blocks;
    joined, the blocks equal `read_wav`'s samples (each block is resampled with enough of its
    neighbours on both sides that the filter never sees the cut)."""
    path = Path(path)
    with _opened(path) as (wav, fmt):
        g = gcd(fmt.rate, SAMPLE_RATE)
        up, down = SAMPLE_RATE // g, fmt.rate // g
        # blocks and margins are whole multiples of `down` input samples, so each maps to whole output samples
        block = max(1, round(block_seconds * fmt.rate / down)) * down
        half_filter = ceil(10 * max(up, down) / up) + 1  # resample_poly's filter half-width, in input samples
        margin = ceil(half_filter / down) * down if up != down else 0
        pending = np.zeros(0, np.int16)  # input samples from index `base` on
        base = start = 0
        while start < fmt.frames:
            want = min(fmt.frames, start + block + margin)
            while base + len(pending) < want:
                more = _read(wav, fmt, want - base - len(pending), path)
                if not len(more):
                    break  # the file holds fewer frames than its header says
                pending = np.concatenate([pending, more])
            end = min(start + block, base + len(pending))
            if end <= start:
                return
            if up == down:
                out = pending[start - base : end - base]
            else:
                resampled = resample_poly(pending.astype(np.float32), up, down)
                first = (start - base) * up // down
                out = resampled[first : first + ceil(end * up / down) - start * up // down]
                out = np.clip(out, -32768, 32767).astype(np.int16)
            yield out
            start = end
            drop = max(0, start - margin - base)  # keep `margin` samples of left context
            pending, base = pending[drop:], base + drop


def read_native(path: Path) -> tuple[np.ndarray, int]:
    """The file's samples as mono int16 at its own rate."""
    path = Path(path)
    with _opened(path) as (wav, fmt):
        return _read(wav, fmt, fmt.frames, path), fmt.rate


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[tuple[wave.Wave_read, _Format]]:
    """The open file and its checked format; one AudioError line naming the file for anything unusable."""
    try:
        wav = wave.open(str(path), "rb")  # noqa: SIM115 - closed by the with below; only opening is guarded
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise AudioError(f"{path}: is a folder, not a WAV audio file") from None
    except EOFError:
        raise AudioError(f"{path}: not a WAV audio file (it ends inside its header, or is empty)") from None
    except (wave.Error, OSError, ValueError, OverflowError) as exc:
        raise AudioError(f"{path}: not a WAV audio file ({exc})") from None
    with wav:
        fmt = _Format(wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes())
        if not MIN_RATE <= fmt.rate <= MAX_RATE:
            raise AudioError(f"{path}: sample rate {fmt.rate} Hz is not usable (expected {MIN_RATE:,} to {MAX_RATE:,})")
        if fmt.width not in (1, 2, 3, 4):
            raise AudioError(f"{path}: unsupported sample width {fmt.width * 8} bits")
        yield wav, fmt


def _read(wav: wave.Wave_read, fmt: _Format, frames: int, path: Path) -> np.ndarray:
    """Up to ``frames`` frames as mono int16; a file cut part-way through a sample loses only that sample."""
    if frames <= 0:
        return np.zeros(0, np.int16)
    try:
        raw = wav.readframes(frames)
    except (wave.Error, EOFError, OSError) as exc:
        raise AudioError(f"{path}: the audio data cannot be read ({exc})") from None
    frame_bytes = fmt.width * fmt.channels
    whole = len(raw) - len(raw) % frame_bytes
    if whole != len(raw):
        log.warning("%s: ends part-way through a sample; the last %d bytes are ignored", path, len(raw) - whole)
        raw = raw[:whole]
    return _decode(raw, fmt)


def _decode(raw: bytes, fmt: _Format) -> np.ndarray:
    width = fmt.width
    if width == 1:
        samples = (np.frombuffer(raw, np.uint8).astype(np.int16) - 128) << 8
    elif width == 2:
        samples = np.frombuffer(raw, "<i2")
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        samples = (
            (b[:, 2].astype(np.int32) << 24 | b[:, 1].astype(np.int32) << 16 | b[:, 0].astype(np.int32) << 8) >> 16
        ).astype(np.int16)
    else:
        samples = (np.frombuffer(raw, "<i4") >> 16).astype(np.int16)
    if fmt.channels > 1:
        samples = samples.reshape(-1, fmt.channels).mean(axis=1).astype(np.int16)
    return samples


def write_wav(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.asarray(samples, dtype=np.int16).tobytes())
