"""Speech the tests make themselves with espeak-ng (no microphone, no network)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

from assistant.audio import SAMPLE_RATE
from assistant.audio.wav import read_wav, write_wav


def speak(text: str, path: Path, voice: str = "en-us", speed: int = 150) -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True, capture_output=True)
    return path


def conversation_wav(lines: list[str], path: Path, voice: str = "en-us", gap_s: float = 1.2) -> Path:
    """Several utterances with silence between them, as one recording."""
    pieces = []
    for i, line in enumerate(lines):
        pieces.append(read_wav(speak(line, path.with_name(f"{path.stem}-{i}.wav"), voice)))
        pieces.append(np.zeros(int(SAMPLE_RATE * gap_s), np.int16))
    write_wav(path, np.concatenate(pieces))
    return path


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = words(reference), words(hypothesis)
    d = np.zeros((len(ref) + 1, len(hyp) + 1), int)
    d[:, 0] = range(len(ref) + 1)
    d[0, :] = range(len(hyp) + 1)
    for i in range(1, len(ref) + 1):
        for j in range(1, len(hyp) + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]))
    return d[len(ref), len(hyp)] / max(1, len(ref))


HAVE_ESPEAK = shutil.which("espeak-ng") is not None
