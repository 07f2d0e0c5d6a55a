"""What a broken or hostile Wyoming client gets: one clear error or a timeout, nothing bought, the server still serving."""

import asyncio
import contextlib
import json
import socket
import time

import numpy as np
import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.info import Describe

from assistant.audio.wav import read_wav
from tests.voice_helpers import HAVE_ESPEAK, speak
from tests.wyoming.conftest import AUDIO_TIMEOUT_S, exchange

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is installed by scripts/install-voice.sh"),
]


def raw_exchange(port: int, data: bytes) -> list[dict]:
    """Send bytes as they are; the events (type and data) the server answers before it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)  # it may stop reading once it has seen enough
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    events = []
    while received:
        line, _, received = received.partition(b"\n")
        header = json.loads(line)
        length = header.get("data_length") or 0
        header["data"] = {**header.get("data", {}), **json.loads(received[:length] or b"{}")}
        received = received[length + (header.get("payload_length") or 0) :]
        events.append(header)
    return events


def still_serving(port: int) -> bool:
    (event,) = asyncio.run(exchange(port, [Describe().event()], "info"))
    return event.type == "info"


def test_garbage_and_a_10_mb_header_are_refused_in_one_line_and_buy_nothing(server):
    before = len(server.orders())

    async def ask_then_garbage() -> str:
        async with AsyncTcpClient("127.0.0.1", server.port) as client:
            for text in ["add oat milk", "check out"]:  # a purchase question is now pending
                await client.write_event(Transcript(text=text).event())
                await client.read_event()
            client._writer.write(b"\x00\xff yes yes yes \xfe\n")  # noqa: SLF001 - bytes no client library sends
            event = await asyncio.wait_for(client.read_event(), 30)
            assert await asyncio.wait_for(client.read_event(), 30) is None  # and it hung up
            return Error.from_event(event).text

    assert "not JSON" in asyncio.run(ask_then_garbage())
    huge = json.dumps({"type": "transcript", "data": {"text": "yes " * 2_600_000}}).encode() + b"\n"
    assert len(huge) > 10_000_000
    (answer,) = raw_exchange(server.port, huge)
    assert answer["type"] == "error" and "header longer than 64 KB" in answer["data"]["text"]
    (answer,) = raw_exchange(server.port, b'{"type": "audio-chunk", "payload_length": 99999999999}\n')
    assert answer["type"] == "error" and "over the limit" in answer["data"]["text"]
    assert still_serving(server.port)
    assert len(server.orders()) == before  # the pending question went with its connection


def chunks(raw: bytes, rate: int, width: int, channels: int, size: int = 4096) -> list:
    return [
        AudioChunk(rate=rate, width=width, channels=channels, audio=raw[i : i + size]).event()
        for i in range(0, len(raw), size)
    ]


def test_audio_at_another_rate_and_width_is_converted_and_impossible_audio_refused(server, tmp_path):
    pcm = read_wav(speak("add oat milk to my basket", tmp_path / "order.wav", voice="en-gb"))
    # 44.1 kHz, 32-bit, stereo: converted, and heard
    up = np.interp(np.arange(0, len(pcm), 16000 / 44100), np.arange(len(pcm)), pcm).astype(np.int32) << 16
    raw = np.repeat(up, 2).astype("<i4").tobytes()
    events = [
        Transcribe().event(),
        AudioStart(rate=44100, width=4, channels=2).event(),
        *chunks(raw, 44100, 4, 2),
        AudioStop().event(),
    ]
    *_, event = asyncio.run(exchange(server.port, events, "transcript"))
    assert "oat milk" in Transcript.from_event(event).text.lower()
    # 1 kHz, or 5-byte samples: refused, naming what to send instead
    for rate, width, expected in ((1000, 2, "1000 Hz: send 8000 to 48000 Hz"), (16000, 5, "5 bytes a sample")):
        events = [Transcribe().event(), AudioStart(rate=rate, width=width, channels=1).event()]
        (event,) = asyncio.run(exchange(server.port, events, ("error", "transcript")))
        assert event.type == "error" and expected in Error.from_event(event).text
    assert still_serving(server.port)


def test_a_client_that_never_sends_audio_stop_is_cut_off(server, tmp_path):
    pcm = read_wav(speak("yes", tmp_path / "yes.wav"))
    events = [
        Transcribe().event(),
        AudioStart(rate=16000, width=2, channels=1).event(),
        *chunks(pcm.tobytes(), 16000, 2, 1),
    ]
    began = time.monotonic()
    (event,) = asyncio.run(exchange(server.port, events, ("error", "transcript"), timeout=30))
    waited = time.monotonic() - began
    assert event.type == "error" and Error.from_event(event).code == "audio-timeout"
    assert AUDIO_TIMEOUT_S <= waited < AUDIO_TIMEOUT_S + 10
    assert still_serving(server.port)
