"""The WebSocket stream: typed turns, spoken turns with partial transcripts and a spoken reply, barge-in."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from starlette.websockets import WebSocketDisconnect

from assistant.audio import SAMPLE_RATE
from assistant.audio.wav import read_wav
from tests.voice_helpers import speak

CHUNK = SAMPLE_RATE // 10  # 100 ms frames, as the page sends them


def connect(hub, headers: dict[str, str], conversation: str = "kitchen"):
    token = headers["Authorization"].split()[1]
    return hub.client.websocket_connect(f"/v1/conversations/{conversation}/stream", subprotocols=["bearer", token])


def events_until(ws, kind: str, limit: int = 400) -> list[dict]:
    """JSON events (binary reply frames counted as {"type": "audio"}) up to and including ``kind``."""
    seen = []
    for _ in range(limit):
        message = ws.receive()
        if message["type"] == "websocket.close":
            raise AssertionError(f"closed ({message}) after {seen}")
        if message.get("bytes") is not None:
            seen.append({"type": "audio", "bytes": len(message["bytes"])})
            continue
        event = json.loads(message["text"])
        seen.append(event)
        if event["type"] == kind:
            return seen
    raise AssertionError(f"no {kind} in {seen}")


def say_into(ws, pcm: np.ndarray, silence_s: float = 1.0, *, realtime: bool = False) -> None:
    audio = np.concatenate(
        [np.zeros(SAMPLE_RATE // 2, np.int16), pcm, np.zeros(int(SAMPLE_RATE * silence_s), np.int16)]
    )
    for at in range(0, len(audio), CHUNK):
        ws.send_bytes(audio[at : at + CHUNK].astype("<i2").tobytes())
        if realtime:
            time.sleep(CHUNK / SAMPLE_RATE)


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> dict[str, np.ndarray]:
    folder: Path = tmp_path_factory.mktemp("speech")
    lines = {"add": "add oat milk to my basket", "checkout": "check out please", "yes": "yes please",
             "stop": "stop stop stop, what is in my basket"}  # fmt: skip
    return {key: read_wav(speak(text, folder / f"{key}.wav")) for key, text in lines.items()}


def test_a_typed_turn_over_the_websocket(hub):
    with connect(hub, hub.device("phone")) as ws:
        ws.send_text(json.dumps({"type": "text", "text": "do you have oat milk"}))
        turn = events_until(ws, "turn")[-1]
        assert turn["turn"]["intent"] == "search_product" and "oat" in turn["turn"]["reply"].lower()
        ws.send_text("{nonsense")
        assert "bad message" in events_until(ws, "error")[-1]["error"]
        ws.send_text(json.dumps({"type": "text", "text": ""}))
        assert "text" in events_until(ws, "error")[-1]["error"]
        ws.send_text(json.dumps({"type": "text", "text": "add the first one"}))
        assert events_until(ws, "turn")[-1]["turn"]["intent"] == "add_to_cart"
    assert len(hub.app.account().basket()) == 1


def test_a_websocket_without_a_good_token_is_closed(hub):
    for protocols in ([], ["bearer", "forged"]):
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            hub.client.websocket_connect("/v1/conversations/k/stream", subprotocols=protocols) as ws,
        ):
            ws.receive_text()
        assert closed.value.code == 1008


def test_an_oversized_frame_closes_the_stream(hub):
    with connect(hub, hub.device("phone")) as ws:
        ws.send_bytes(b"\0" * (hub.app_limits.frame_bytes + 2))
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1009


@pytest.mark.slow
def test_a_spoken_order_is_heard_answered_aloud_and_bought_only_after_the_spoken_yes(hub, spoken):
    before = hub.order_ids()
    hub.client.app.state.hub.load_speech()  # as `assistant serve` does at start
    with connect(hub, hub.device("phone")) as ws:
        say_into(ws, spoken["add"], realtime=True)  # as a microphone does: partials come while it speaks
        events = events_until(ws, "reply-audio-end")
        kinds = [e["type"] for e in events]
        assert "partial" in kinds and kinds.index("partial") < kinds.index("transcript") < kinds.index("turn")
        heard = next(e for e in events if e["type"] == "transcript")["text"].lower()
        assert "oat milk" in heard
        turn = next(e for e in events if e["type"] == "turn")["turn"]
        assert turn["intent"] == "add_to_cart"
        start = next(e for e in events if e["type"] == "reply-audio-start")
        assert start["text"] == turn["reply"] and start["rate"] == SAMPLE_RATE
        sent = sum(e["bytes"] for e in events if e["type"] == "audio")
        assert sent == 2 * start["samples"] and events[-1]["interrupted"] is False
        say_into(ws, spoken["checkout"])
        asked = next(e for e in events_until(ws, "reply-audio-end") if e["type"] == "turn")["turn"]
        assert asked["intent"] == "checkout" and "?" in asked["reply"]
        assert hub.order_ids() == before
        say_into(ws, spoken["yes"])
        placed = next(e for e in events_until(ws, "turn") if e["type"] == "turn")["turn"]
        assert placed["intent"] == "affirm"
    assert len(hub.order_ids() - before) == 1


@pytest.mark.slow
def test_speaking_over_the_reply_stops_it_and_is_heard(hub, spoken):
    with connect(hub, hub.device("phone")) as ws:
        ws.send_text(json.dumps({"type": "text", "text": "add oat milk to my basket"}))
        events_until(ws, "turn")
        say_into(ws, spoken["add"])  # a second add: its reply is long enough to speak over
        events = events_until(ws, "reply-audio-start")
        for _ in range(3):
            assert ws.receive().get("bytes")
        say_into(ws, spoken["stop"])
        after = events_until(ws, "reply-audio-end")
        assert after[-1]["interrupted"] is True
        audio = sum(e["bytes"] for e in after if e["type"] == "audio")
        start = next(e for e in events if e["type"] == "reply-audio-start")
        assert audio + 6 * CHUNK < 2 * start["samples"]  # most of the reply was never sent
        heard = events_until(ws, "turn")
        transcript = next(e for e in heard if e["type"] == "transcript")["text"].lower()
        assert transcript.startswith("stop")  # the words that stopped the reply are the next turn


def test_an_idle_websocket_is_closed_and_its_pending_purchase_expires(hub):
    from fastapi.testclient import TestClient

    from assistant.hub import create_hub
    from assistant.hub.limits import Limits

    before = hub.order_ids()
    phone = hub.device("phone")
    with TestClient(create_hub(hub.app, hub.pairing, Limits(ws_idle_s=0.5))) as client:
        token = phone["Authorization"].split()[1]
        with client.websocket_connect("/v1/conversations/k/stream", subprotocols=["bearer", token]) as ws:
            for text in ("add oat milk to my basket", "check out"):
                ws.send_text(json.dumps({"type": "text", "text": text}))
                asked = events_until(ws, "turn")[-1]
            assert "?" in asked["turn"]["reply"]
            with pytest.raises(AssertionError, match="idle for too long"):
                events_until(ws, "turn")
        # the same conversation id again: the question went with the dropped connection
        replied = client.post("/v1/conversations/k/turns", json={"text": "yes"}, headers=phone).json()
        assert "Order" not in replied["reply"]
    assert hub.order_ids() == before


def test_with_the_first_pass_partials_come_from_its_closed_engine_and_whisper_hears_the_rest(tmp_path, spoken):
    from fastapi.testclient import TestClient

    from assistant.app import App
    from assistant.config import load_config
    from assistant.hub import create_hub
    from assistant.hub.pairing import Pairing
    from assistant.stt.closed import FirstPassRecognizer, PocketsphinxClosed
    from tests.hub.conftest import HubUnderTest

    config = load_config()
    config.voice.stt = config.voice.stt.model_copy(update={"first_pass": "pocketsphinx"})
    app = App.build(config, data_dir=tmp_path / "data")
    pairing = Pairing(app.db, app.household)
    try:
        with TestClient(create_hub(app, pairing)) as client:
            hub = HubUnderTest(app, pairing, client, client.app.state.hub.limits)
            state = client.app.state.hub
            state.load_speech()
            assert isinstance(state.recognizers.primary, FirstPassRecognizer)
            assert (
                isinstance(state.partials, PocketsphinxClosed)
                and state.partials is not state.recognizers.primary.closed
            )
            with connect(hub, hub.device("phone")) as ws:
                say_into(ws, spoken["add"], realtime=True)
                events = events_until(ws, "turn")
                kinds = [e["type"] for e in events]
                assert "partial" in kinds and kinds.index("partial") < kinds.index("transcript")
                assert next(e for e in events if e["type"] == "turn")["turn"]["intent"] == "add_to_cart"
    finally:
        app.close()
