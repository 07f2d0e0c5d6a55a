from pathlib import Path

import pytest

from assistant.config import TtsSettings
from assistant.errors import EngineNotAvailable

pytest.importorskip("piper", reason="piper-tts is installed by scripts/install-voice.sh")


def test_piper_speaks_at_the_configured_rate():
    from assistant.tts import create_synthesizer

    normal = create_synthesizer(TtsSettings(engine="piper"))
    fast = create_synthesizer(TtsSettings(engine="piper", rate=350))
    # short, because emulated on arm64 (scripts/pi-check.sh) Piper runs ~110 times slower than real time
    text = "Lavazza Qualità Rossa. Shall I order it?"
    audio, rate = normal.synthesize(text)
    quick, _ = fast.synthesize(text)
    assert rate == 22050 and len(audio) / rate > 2
    assert abs(audio).max() > 1000
    assert len(quick) < 0.7 * len(audio)


def test_a_missing_piper_voice_is_a_clear_error(tmp_path: Path):
    from assistant.tts import create_synthesizer

    with pytest.raises(EngineNotAvailable, match="no such Piper voice file"):
        create_synthesizer(TtsSettings(engine="piper", voice=str(tmp_path / "nope.onnx")))
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    with pytest.raises(EngineNotAvailable, match="not a usable Piper voice"):
        create_synthesizer(TtsSettings(engine="piper", voice=str(tmp_path / "bad.onnx")))
