import pytest

from assistant.config import TtsSettings
from tests.voice_helpers import HAVE_ESPEAK

pytestmark = pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is installed by scripts/install-voice.sh")


def test_synthesizes_replies_of_any_length_to_pcm():
    from assistant.tts import create_synthesizer

    synth = create_synthesizer(TtsSettings(rate=200))
    long_reply = "I found five. The top three: Oatly Barista Oat Milk, 1 litre, 2 pounds 10; Alpro Oat Drink, 1 litre, 1 pound 80. Want me to add one?"
    for text, at_least in ((long_reply, 4.0), ("Done.", 0.2), ("Qualità, Nescafé: 9 pounds 40.", 1.0)):
        audio, rate = synth.synthesize(text)
        assert rate > 8000 and len(audio) / rate >= at_least
        assert abs(audio).max() > 1000  # not silence
