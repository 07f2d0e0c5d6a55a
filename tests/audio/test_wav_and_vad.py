import wave

import numpy as np
import pytest

from assistant.audio import SAMPLE_RATE
from assistant.audio.vad import utterances
from assistant.audio.wav import read_wav
from assistant.errors import AudioError
from tests.voice_helpers import HAVE_ESPEAK, conversation_wav, speak

pytestmark = pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is installed by scripts/install-voice.sh")


def test_stereo_44k_is_converted_to_16k_mono(tmp_path):
    mono = read_wav(speak("check out", tmp_path / "a.wav"))
    stereo = tmp_path / "stereo.wav"
    with wave.open(str(stereo), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        t = np.arange(44100) / 44100
        tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
        w.writeframes(np.stack([tone, tone], axis=1).tobytes())
    out = read_wav(stereo)
    assert out.dtype == np.int16 and abs(len(out) - SAMPLE_RATE) < 10
    assert len(mono) > 0


def test_not_audio_names_the_file(tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio")
    with pytest.raises(AudioError, match="notes.wav: not a WAV audio file"):
        read_wav(bad)
    with pytest.raises(AudioError, match="no such file"):
        read_wav(tmp_path / "missing.wav")


def test_vad_splits_two_utterances(tmp_path):
    audio = read_wav(conversation_wav(["do you have coffee", "add the second one"], tmp_path / "two.wav"))
    assert len(utterances(audio)) == 2


@pytest.mark.parametrize("snr_db", [10, 0])
@pytest.mark.parametrize("colour", ["hiss", "rumble"])
def test_vad_ends_utterances_in_steady_background_noise(tmp_path, snr_db, colour):
    """A fan or traffic never falls silent: each command must still end, not run into the next."""
    lines = ["do you have coffee", "add the second one", "check out"]
    clean = read_wav(conversation_wav(lines, tmp_path / "three.wav")).astype(float)
    rng = np.random.default_rng(7)
    noise = rng.normal(0, 1, len(clean))
    if colour == "rumble":  # most of its energy low down, like traffic or a fridge
        noise = np.cumsum(noise)
        noise -= np.convolve(noise, np.ones(400) / 400, mode="same")
    speech_power = (clean[np.abs(clean) > 300] ** 2).mean()
    gain = np.sqrt(speech_power / (noise**2).mean() / 10 ** (snr_db / 10))
    noisy = np.clip(clean + gain * noise, -32768, 32767).astype(np.int16)
    found = utterances(noisy)
    assert len(found) == len(lines)
    assert all(0.5 < len(u) / SAMPLE_RATE < 2.5 for u in found)


@pytest.mark.parametrize("kind", ["silence", "noise", "clipped"])
def test_garbage_audio_never_crashes(kind):
    rng = np.random.default_rng(1)
    n = SAMPLE_RATE * 5
    audio = {
        "silence": np.zeros(n, np.int16),
        "noise": (rng.normal(0, 3000, n)).astype(np.int16),
        "clipped": np.where(rng.random(n) > 0.5, 32767, -32768).astype(np.int16),
    }[kind]
    found = utterances(audio)
    assert isinstance(found, list)
    if kind == "silence":
        assert found == []
