"""One WebSocket of /v1/conversations/{id}/stream: typed turns, and spoken ones with barge-in.

The client sends JSON text messages (`models.ClientMessage`) and binary frames of 16 kHz mono s16le
audio. The hub answers with JSON events: `partial` (what it has heard so far), `transcript` (the
utterance, final), `turn` (`chat --json`'s object), `reply-audio-start` then binary frames of the
spoken reply then `reply-audio-end` (`interrupted` when the user spoke over it), `notification` (something
the member is told without asking: assistant/hub/push.py), and `error`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from assistant.app import Turn
from assistant.audio import SAMPLE_RATE
from assistant.audio.vad import FRAME_MS, Segmenter
from assistant.audio.wav import to_mono16k
from assistant.errors import AssistantError
from assistant.hub.deps import Hub
from assistant.hub.models import AudioEnd, ClientMessage, StopReply, TextMessage
from assistant.hub.pairing import Device
from assistant.hub.sessions import HubConversation
from assistant.stt import Transcript, transcribe
from assistant.voice import Voice

log = logging.getLogger(__name__)

MESSAGE = TypeAdapter(ClientMessage)
PARTIAL_EVERY_S = 0.6
"""How often, while the user speaks, what was heard so far is sent back."""
REPLY_CHUNK_S = 0.1
REPLY_LEAD_S = 0.5
"""The reply is sent this far ahead of real time: enough to play smoothly, little to stop on barge-in."""
BARGE_IN_MS = 300
"""This much voiced audio from the client while the reply plays stops it (as the live loop does)."""


class StreamHandler:
    """The state of one connection: its segmenter, the reply being sent, and its conversation."""

    def __init__(self, ws: WebSocket, hub: Hub, device: Device, held: HubConversation) -> None:
        self.ws = ws
        self.hub = hub
        self.device = device
        self.held = held
        self._voice: Voice | None = None
        self.segmenter = Segmenter()
        self._send_lock = asyncio.Lock()
        self._reply: asyncio.Task[None] | None = None
        self._stop_reply = asyncio.Event()
        self._barge: Segmenter | None = None
        self._partial: asyncio.Task[None] | None = None
        self._partial_at = 0
        self._last_partial = ""
        self._released = False

    @property
    def voice(self) -> Voice:
        if self._voice is None:
            self._voice = self.hub.voice(self.held.conversation)
        return self._voice

    # -- the connection -----------------------------------------------------------------------
    async def run(self) -> None:
        self.held.sockets[self] = self.revoked
        try:
            while True:
                try:
                    message = await asyncio.wait_for(self.ws.receive(), self.hub.limits.ws_idle_s)
                except TimeoutError:
                    await self.release()  # the question expires before the client hears the close
                    await self.ws.close(1001, "idle for too long")
                    return
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("bytes") is not None:
                    await self.on_audio(message["bytes"])
                elif message.get("text") is not None:
                    await self.on_text(message["text"])
        except WebSocketDisconnect:
            return
        finally:
            await self.release()

    async def release(self) -> None:
        """The connection is over: a dropped client loses nothing but the question it was asked, so a
        purchase is never left half-agreed. Ending writes to the store (the quote is cancelled): off
        the event loop."""
        if self._released:
            return
        self._released = True
        self.held.sockets.pop(self, None)
        for task in (self._reply, self._partial):
            if task is not None:
                task.cancel()
        if not self.held.sockets:
            await self.hub.run(self.hub.conversations.end, self.held.principal, self.held.id)

    async def revoked(self) -> None:
        """The device's pairing was revoked: the socket closes now (its conversation is already over)."""
        for task in (self._reply, self._partial):
            if task is not None:
                task.cancel()
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            if self.ws.application_state == WebSocketState.CONNECTED:
                await self.ws.close(1008, "this device's pairing was revoked")

    async def _still_paired(self) -> bool:
        """Before each turn, the store says whether the device may still speak (a revoke may come from
        another process); a revoked one is closed and its turn not taken."""
        if await self.hub.run(self.hub.pairing.is_live, self.device):
            return True
        await self.revoked()
        raise WebSocketDisconnect(1008)

    async def send(self, event: dict[str, Any]) -> bool:
        """False when the socket is no longer open, so the event was not sent."""
        async with self._send_lock:
            if self.ws.application_state == WebSocketState.CONNECTED:
                await self.ws.send_text(json.dumps(event))
                return True
        return False

    async def send_audio(self, pcm: np.ndarray) -> None:
        async with self._send_lock:
            if self.ws.application_state == WebSocketState.CONNECTED:
                await self.ws.send_bytes(pcm.astype("<i2").tobytes())

    # -- events from the client ---------------------------------------------------------------
    async def on_text(self, raw: str) -> None:
        if len(raw) > self.hub.limits.frame_bytes:
            await self.ws.close(1009, "message too big")
            raise WebSocketDisconnect(1009)
        if self.hub.rate.wait_for(self.device.name):
            await self.send({"type": "error", "error": "too many messages from this device; slow down"})
            return
        try:
            message = MESSAGE.validate_json(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "message"
            await self.send({"type": "error", "error": f"bad message ({where}: {first['msg']})"})
            return
        if isinstance(message, TextMessage):
            self.stop_reply()
            await self._still_paired()
            turn = await self.hub.run(self.held.conversation.handle, message.text)
            await self.answered(turn)
        elif isinstance(message, AudioEnd):
            utterance = self.segmenter.flush()
            self.segmenter = Segmenter()
            if utterance is None:
                await self.send({"type": "transcript", "text": ""})
            else:
                await self.utter(utterance)
        elif isinstance(message, StopReply):
            self.stop_reply()

    async def on_audio(self, data: bytes) -> None:
        if len(data) > self.hub.limits.frame_bytes:
            await self.ws.close(1009, "audio frame too big")
            raise WebSocketDisconnect(1009)
        if len(data) % 2:
            await self.send({"type": "error", "error": "audio must be 16-bit samples (an even number of bytes)"})
            return
        samples = np.frombuffer(data, "<i2")
        if self._barge is not None:
            list(self._barge.feed(samples))
            if self._barge.in_speech and self._barge._voiced * FRAME_MS >= BARGE_IN_MS:  # noqa: SLF001
                # the words that stopped the reply are the start of the next turn
                self.segmenter, self._barge = self._barge, None
                self.stop_reply()
            return
        for utterance in self.segmenter.feed(samples):
            await self.utter(utterance)
        self.maybe_partial()

    # -- hearing ------------------------------------------------------------------------------
    def _hear(self, pcm: np.ndarray, *, final: bool) -> Transcript:
        self.hub.load_speech()
        pool = self.hub.recognizers
        if final:
            with pool.recognizer() as rec:
                return self.voice.transcribe(pcm, rec)
        partials = self.hub.partials
        if partials is pool.primary:  # the engine is fast itself: a partial is an utterance too
            with pool.recognizer() as rec:
                return transcribe(rec, pcm)
        with self.hub.partial_lock:
            return transcribe(partials, pcm)

    def maybe_partial(self) -> None:
        frames = self.segmenter.speech_so_far
        if not frames:
            self._partial_at = 0
            return
        busy = self._partial is not None and not self._partial.done()
        if busy or (len(frames) - self._partial_at) * FRAME_MS < PARTIAL_EVERY_S * 1000:
            return
        self._partial_at = len(frames)
        self._partial = asyncio.create_task(self.partial(np.concatenate(frames)))

    async def partial(self, pcm: np.ndarray) -> None:
        try:
            text = (await asyncio.to_thread(self._hear, pcm, final=False)).text
        except AssistantError as exc:
            log.warning("partial transcript failed: %s", exc)
            return
        if text and text != self._last_partial:
            self._last_partial = text
            await self.send({"type": "partial", "text": text})

    async def utter(self, utterance: np.ndarray) -> None:
        if self._partial is not None:
            self._partial.cancel()
        self._partial_at, self._last_partial = 0, ""
        try:
            transcript = await asyncio.to_thread(self._hear, utterance, final=True)
        except AssistantError as exc:
            await self.send({"type": "error", "error": f"could not hear that: {exc}"})
            return
        await self.send({"type": "transcript", "text": transcript.text})
        text = self.voice.strip_wake(transcript.text)
        if not re.search(r"\w", text):
            return
        await self._still_paired()
        turn = await self.hub.run(self.voice.answer, text)
        await self.answered(turn, speak=True)

    # -- answering ----------------------------------------------------------------------------
    async def answered(self, turn: Turn, *, speak: bool = False) -> None:
        record = turn.to_json()
        await self.hub.run(self.hub.conversations.log_turn, self.held, record)
        await self.send({"type": "turn", "turn": record, "expecting": turn.expecting, "end": turn.end})
        if speak and turn.reply:
            self.stop_reply()
            self._stop_reply = asyncio.Event()
            self._reply = asyncio.create_task(self.speak(turn.reply, self._stop_reply))

    def stop_reply(self) -> None:
        self._stop_reply.set()

    async def speak(self, text: str, stop: asyncio.Event) -> None:
        try:
            audio, rate = await asyncio.to_thread(self.voice.synthesizer.synthesize, text)
        except AssistantError as exc:
            await self.send({"type": "error", "error": f"could not speak the reply: {exc}"})
            return
        pcm = to_mono16k(audio, rate)
        if stop.is_set():
            return
        await self.send({"type": "reply-audio-start", "rate": SAMPLE_RATE, "text": text, "samples": len(pcm)})
        self._barge = Segmenter(aggressiveness=3, trailing_silence_ms=300, min_speech_ms=BARGE_IN_MS)
        loop = asyncio.get_running_loop()
        start = loop.time()
        chunk = int(SAMPLE_RATE * REPLY_CHUNK_S)
        interrupted = False
        try:
            for at in range(0, len(pcm), chunk):
                ahead = at / SAMPLE_RATE - (loop.time() - start)
                if ahead > REPLY_LEAD_S:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), ahead - REPLY_LEAD_S)
                if stop.is_set():
                    interrupted = True
                    break
                await self.send_audio(pcm[at : at + chunk])
        finally:
            self._barge = None
        await self.send({"type": "reply-audio-end", "interrupted": interrupted})
