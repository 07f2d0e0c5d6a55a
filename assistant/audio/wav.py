"""Read any WAV file as 16 kHz mono int16 samples, and write PCM back out."""

from __future__ import annotations

import wave
from math import gcd
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from assistant.audio import SAMPLE_RATE
from assistant.errors import AudioError


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
    """The file's audio as 16 kHz mono int16; AudioError naming the file if it is not a WAV."""
    samples, rate = read_native(path)
    return to_mono16k(samples, rate)


def read_native(path: Path) -> tuple[np.ndarray, int]:
    """The file's samples as int16 (channels as columns) at its own rate."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate, frames = wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()
            raw = wav.readframes(frames)
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except (wave.Error, EOFError, OSError) as exc:
        raise AudioError(f"{path}: not a WAV audio file ({exc})") from None
    if width == 1:
        samples = (np.frombuffer(raw, np.uint8).astype(np.int16) - 128) << 8
    elif width == 2:
        samples = np.frombuffer(raw, "<i2")
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        samples = (
            (b[:, 2].astype(np.int32) << 24 | b[:, 1].astype(np.int32) << 16 | b[:, 0].astype(np.int32) << 8) >> 16
        ).astype(np.int16)
    elif width == 4:
        samples = (np.frombuffer(raw, "<i4") >> 16).astype(np.int16)
    else:
        raise AudioError(f"{path}: unsupported sample width {width * 8} bits")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return samples, rate


def write_wav(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.asarray(samples, dtype=np.int16).tobytes())
