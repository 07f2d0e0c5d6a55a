"""The wake engines on speech the tests synthesize: they wake on their word and not on other speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.audio import SAMPLE_RATE
from assistant.audio.wav import read_wav
from assistant.config import AudioSettings, load_config
from assistant.errors import ConfigError
from tests.voice_helpers import HAVE_ESPEAK, speak

pytestmark = pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is installed by scripts/install-voice.sh")

SILENCE = np.zeros(SAMPLE_RATE, np.int16)
OTHER_SPEECH = [
    "do you have oat milk",
    "what's in my basket",
    "okay, now add the second one to my trolley",
    "the licenses for most software are designed to take away your freedom to share and change it",
    "hey, can you pass me the salt please",
]


def spoken(tmp_path: Path, *texts: str, voice: str = "en-us") -> np.ndarray:
    """The texts spoken one after another with a second of silence around each, as one stream."""
    pieces = [SILENCE]
    for i, text in enumerate(texts):
        pieces += [read_wav(speak(text, tmp_path / f"{i}.wav", voice)), SILENCE]
    return np.concatenate(pieces)


def wakes(detector, audio: np.ndarray, block: int = 480) -> list:
    """Every wake the detector reports on the stream, fed in 30 ms blocks like the live loop."""
    found = [detector.feed(audio[i : i + block]) for i in range(0, len(audio), block)]
    if hasattr(detector, "flush"):
        found.append(detector.flush())
    return [w for w in found if w is not None]


def test_microwakeword_wakes_on_its_word_once_each_time_it_is_said(tmp_path: Path) -> None:
    from assistant.audio.microwakeword import MicroWakeWordDetector

    detector = MicroWakeWordDetector("okay_nabu")
    audio = spoken(tmp_path, "okay nabu", "what's in my basket", "okay nabu, do you have oat milk")
    found = wakes(detector, audio)
    assert [w.phrase for w in found] == ["okay nabu", "okay nabu"]
    # the first wake comes just after the first word (1 s of silence, then about a second of speech),
    # the second after the chatter
    assert 1.0 < found[0].at_s < 3.0 < found[1].at_s


@pytest.mark.parametrize("voice", ["en-us", "en-gb"])
def test_microwakeword_does_not_wake_on_other_speech(tmp_path: Path, voice: str) -> None:
    from assistant.audio.microwakeword import MicroWakeWordDetector

    audio = spoken(tmp_path, *OTHER_SPEECH, voice=voice)
    for model in ("okay_nabu", "alexa", "hey_mycroft"):
        assert wakes(MicroWakeWordDetector(model), audio) == [], model


def test_each_builtin_model_hears_its_own_word_not_the_others(tmp_path: Path) -> None:
    from assistant.audio.microwakeword import MicroWakeWordDetector

    said = {"okay_nabu": "okay nabu", "alexa": "alexa", "hey_mycroft": "hey mycroft"}
    clips = {model: spoken(tmp_path, text) for model, text in said.items()}
    for model in said:
        heard = {other for other, clip in clips.items() if wakes(MicroWakeWordDetector(model), clip)}
        assert heard == {model}, model


def test_the_phrase_engine_wakes_on_the_phrase_and_hands_on_the_request(tmp_path: Path) -> None:
    from assistant.audio.phrase import PhraseWakeDetector
    from assistant.config import SttSettings
    from assistant.stt import transcribe
    from assistant.stt.whisper import WhisperRecognizer

    whisper = WhisperRecognizer(SttSettings(), ["hey shopper", "do you have oat milk"])
    heard: list[str] = []

    def hear(utterance: np.ndarray) -> str:
        heard.append(transcribe(whisper, utterance).text)
        return heard[-1]

    detector = PhraseWakeDetector("hey shopper", hear)
    found = wakes(detector, spoken(tmp_path, "what time is the film tonight", "hey shopper, do you have oat milk"))
    assert len(heard) == 2, heard  # it ran the recognizer on both utterances, the chatter too
    assert len(found) == 1, heard
    assert "oat milk" in found[0].request.lower() and "shop" not in found[0].request.lower(), found


def test_the_wake_engine_is_chosen_by_name_from_config(tmp_path: Path) -> None:
    from assistant.audio.microwakeword import MicroWakeWordDetector
    from assistant.audio.phrase import PhraseWakeDetector
    from assistant.audio.wake import create_wake_detector

    chosen = create_wake_detector(AudioSettings(wake="microwakeword", wake_word="hey_mycroft"))
    assert isinstance(chosen, MicroWakeWordDetector) and chosen.phrase == "hey mycroft"
    phrase = create_wake_detector(AudioSettings(), transcribe=lambda utterance: "")
    assert isinstance(phrase, PhraseWakeDetector) and phrase.phrase == "hey shopper"
    assert create_wake_detector(AudioSettings(wake="microwakeword", push_to_talk=True)) is None
    assert create_wake_detector(AudioSettings(wake_phrase=None), transcribe=lambda utterance: "") is None


def test_a_wrong_wake_setting_names_the_key(tmp_path: Path) -> None:
    from assistant.audio.wake import create_wake_detector

    with pytest.raises(ConfigError, match=r"voice\.audio\.wake_word: 'hey_shopper' is not a built-in model"):
        create_wake_detector(AudioSettings(wake="microwakeword", wake_word="hey_shopper"))
    with pytest.raises(ConfigError, match="no such microWakeWord model file"):
        create_wake_detector(AudioSettings(wake="microwakeword", wake_word=str(tmp_path / "mine.json")))
    config = tmp_path / "config.yml"
    config.write_text("voice:\n  audio:\n    wake: snowboy\n")
    with pytest.raises(ConfigError, match="wake"):
        load_config(config)
