import logging
import subprocess
import sys
import textwrap
import wave
from pathlib import Path

import numpy as np
import pytest

from assistant.audio import SAMPLE_RATE
from assistant.audio.wav import read_native, read_wav, stream_wav, to_mono16k
from assistant.errors import AudioError

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
REPO = Path(__file__).resolve().parents[2]


def noise_wav(path: Path, rate: int, channels: int, seconds: float) -> Path:
    samples = (np.random.default_rng(rate).standard_normal((int(rate * seconds), channels)) * 3000).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("wav_rate_zero.wav", "sample rate 0 Hz is not usable"),
        ("wav_no_channels.wav", "not a WAV audio file"),
        ("wav_header_only.wav", "not a WAV audio file"),
        ("wav_empty.wav", "not a WAV audio file"),
        ("not_a_wav.wav", "not a WAV audio file"),
    ],
)
def test_broken_wav_is_one_line_naming_the_file(name, problem):
    with pytest.raises(AudioError) as err:
        read_wav(BAD / name)
    message = str(err.value)
    assert message.startswith(f"{BAD / name}: {problem}") and "\n" not in message
    with pytest.raises(AudioError):
        next(stream_wav(BAD / name))


def test_wav_cut_mid_sample_keeps_the_whole_samples(caplog):
    with caplog.at_level(logging.WARNING):
        audio = read_wav(BAD / "wav_cut_mid_sample.wav")
    assert len(audio) == 1599  # 1600 samples written, the last one cut
    assert "wav_cut_mid_sample.wav: ends part-way through a sample" in caplog.text


@pytest.mark.parametrize(("rate", "channels"), [(44100, 2), (48000, 1), (22050, 1), (16000, 2), (8000, 1), (7919, 1)])
def test_streamed_blocks_join_to_exactly_the_whole_file(tmp_path, rate, channels):
    path = noise_wav(tmp_path / "a.wav", rate, channels, 2.3)
    whole = to_mono16k(*read_native(path))
    blocks = list(stream_wav(path, block_seconds=0.25))
    assert len(blocks) > 1 and all(b.dtype == np.int16 for b in blocks)
    assert np.array_equal(np.concatenate(blocks), whole)
    assert abs(len(whole) - 2.3 * SAMPLE_RATE) <= 1


STREAM_HOUR = textwrap.dedent(
    """
    import resource, sys
    from assistant.audio.wav import stream_wav
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    samples = sum(len(block) for block in stream_wav(sys.argv[1]))
    grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(samples, grew // 1024)
    """
)


def test_streaming_ten_minutes_of_44k_stereo_holds_only_a_few_blocks(tmp_path):
    """Ten minutes of 44.1 kHz stereo is 106 MB of WAV; reading it whole took 2.2 GB per hour before."""
    path = tmp_path / "long.wav"
    rng = np.random.default_rng(0)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        chunk = (rng.standard_normal((441000, 2)) * 3000).astype(np.int16).tobytes()
        for _ in range(60):
            w.writeframes(chunk)
    out = subprocess.run(
        [sys.executable, "-c", STREAM_HOUR, str(path)],
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    samples, grew_mb = (int(v) for v in out.stdout.split())
    assert samples == 600 * SAMPLE_RATE
    assert grew_mb < 60  # a 10 s block of 44.1 kHz stereo and its resampling, not the 106 MB file
