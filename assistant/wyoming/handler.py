"""One Wyoming connection: describe, speech to text, text to speech, intents and the shopping conversation.

Follows wyoming's server style: a handler object per connection reacts to typed events in
``handle_event`` and writes typed events back. The state of this client (its conversation, the
utterance being heard) lives here; the App and the speech models are shared by all connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid

import numpy as np
from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.handle import Handled
from wyoming.info import Describe
from wyoming.intent import Entity, Intent, NotRecognized, Recognize
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler
from wyoming.tts import Synthesize

from assistant.app import App, Conversation
from assistant.audio import SAMPLE_RATE
from assistant.errors import AssistantError, AudioError
from assistant.principal import Principal
from assistant.stt import Recognizer, transcribe
from assistant.stt import Transcript as Heard
from assistant.voice import Voice
from assistant.wyoming.info import SERVICES, describe
from assistant.wyoming.speech import AudioIn, Speech, audio_chunks, check_format, sentences
from assistant.wyoming.wire import WireError, read_event

log = logging.getLogger(__name__)

AUDIO_IDLE_S = 10.0
"""A client that sends nothing for this long is cut off: mid-utterance (no chunk, no audio-stop) or
between requests (Home Assistant opens a connection per request, so an idle one is no one's)."""
MAX_UTTERANCE_S = 60.0


class AssistantHandler(AsyncEventHandler):
    """The events of one client connection (Home Assistant opens one per request)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        speech: Speech,
        principal: Principal,
        services: tuple[str, ...] = SERVICES,
        audio_idle_s: float = AUDIO_IDLE_S,
    ) -> None:
        super().__init__(reader, writer)
        self.speech = speech
        self.app: App = speech.app
        self.principal = principal
        """What the connection's address proved; every conversation of this client is keyed by it."""
        self.services = services
        self.audio_idle_s = audio_idle_s
        self._own_id = f"wyoming-{uuid.uuid4().hex[:12]}"
        self._conversations: set[str] = set()
        self._audio: AudioIn | None = None
        self._pcm: list[np.ndarray] = []
        self._samples = 0
        self._partial = ""
        self._streaming: Recognizer | None = None
        """A streaming engine's recognizer, lent to this connection for the utterance being heard."""

    # -- the read loop, with limits -------------------------------------------------------------
    async def run(self) -> None:
        peer = self.writer.get_extra_info("peername")
        try:
            while True:
                try:
                    event = await asyncio.wait_for(read_event(self.reader), self.audio_idle_s)
                except TimeoutError:
                    if self._audio is not None:
                        text = f"no audio and no audio-stop for {self.audio_idle_s:.0f} s: the utterance is dropped"
                        await self._error(text, "audio-timeout")
                    else:
                        await self._error(f"nothing sent for {self.audio_idle_s:.0f} s: closing", "idle-timeout")
                    break
                except WireError as exc:
                    log.warning("wyoming client %s: %s", peer, exc)
                    await self._error(str(exc), "bad-event")
                    break
                if event is None or not await self.handle_event(event):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            log.info("wyoming client %s went away", peer)
        finally:
            await self.disconnect()
            self.writer.close()

    async def disconnect(self) -> None:
        self._drop_audio()
        for conv_id in self._conversations:
            # a client's own conversation ends with its connection, and so does every one of an
            # unnamed client (its principal is this connection)
            if conv_id == self._own_id or not self.principal.allowed:
                await asyncio.to_thread(self.app.end_conversation, self.principal, conv_id)  # a store write

    async def _error(self, text: str, code: str) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.write_event(Error(text=text, code=code).event())

    # -- events ---------------------------------------------------------------------------------
    async def handle_event(self, event: Event) -> bool:
        try:
            return await self._dispatch(event)
        except (KeyError, TypeError, ValueError) as exc:  # a known event with missing or wrong fields
            await self._error(f"event '{event.type}' is malformed ({type(exc).__name__}: {exc})", "bad-event")
            return True
        except AssistantError as exc:
            log.warning("wyoming %s: %s", event.type, exc)
            await self._error(str(exc), event.type)
            return True

    async def _dispatch(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(describe(self.speech, self.services).event())
        elif Ping.is_type(event.type):
            await self.write_event(Pong(text=Ping.from_event(event).text).event())
        elif Transcribe.is_type(event.type):
            self._require("asr")
            self._start_audio()
        elif AudioStart.is_type(event.type):
            self._require("asr")
            start = AudioStart.from_event(event)
            check_format(start.rate, start.width, start.channels)
            self._start_audio()
        elif AudioChunk.is_type(event.type):
            await self._chunk(AudioChunk.from_event(event))
        elif AudioStop.is_type(event.type):
            await self._transcript()
        elif Transcript.is_type(event.type):
            self._require("handle")
            await self._handle(Transcript.from_event(event))
        elif Recognize.is_type(event.type):
            self._require("intent")
            await self._recognize(Recognize.from_event(event))
        elif Synthesize.is_type(event.type):
            self._require("tts")
            await self._synthesize(Synthesize.from_event(event))
        else:
            log.debug("wyoming: ignored event %s", event.type)  # Wyoming peers drop what they don't know
        return True

    def _require(self, service: str) -> None:
        if service not in self.services:
            raise AssistantError(f"this server does not offer '{service}' (it offers: {', '.join(self.services)})")

    # -- speech to text -------------------------------------------------------------------------
    def _start_audio(self) -> None:
        if self._audio is None or self._samples:
            self._drop_audio()
            self._audio, self._pcm, self._samples, self._partial = AudioIn(), [], 0, ""
            if self.speech.streaming:
                self._streaming = self.speech.borrow(wait=False)

    def _drop_audio(self) -> None:
        self._audio, self._pcm, self._samples = None, [], 0
        if self._streaming is not None:
            self._streaming.final()  # forget the half-heard utterance before the next borrower
            self.speech.give_back(self._streaming)
            self._streaming = None

    async def _chunk(self, chunk: AudioChunk) -> None:
        if self._audio is None:
            self._require("asr")
            self._start_audio()
        assert self._audio is not None
        try:
            pcm = self._audio.convert(chunk)
        except AudioError:
            self._drop_audio()  # the rest of this utterance is refused too
            raise
        self._samples += len(pcm)
        if self._samples > MAX_UTTERANCE_S * SAMPLE_RATE:
            self._drop_audio()
            raise AudioError(f"an utterance longer than {MAX_UTTERANCE_S:.0f} s: send audio-stop after each command")
        if self._streaming is not None:
            await self._stream_partial(self._streaming, pcm)
        else:
            self._pcm.append(pcm)

    async def _stream_partial(self, rec: Recognizer, pcm: np.ndarray) -> None:
        """Streaming engines (Vosk) hear as audio comes; what they have so far goes out as transcript chunks."""
        partial = await asyncio.to_thread(rec.accept, pcm)
        if partial and partial != self._partial and partial.startswith(self._partial):
            if not self._partial:
                await self.write_event(TranscriptStart(language="en").event())
            await self.write_event(TranscriptChunk(text=partial[len(self._partial) :]).event())
            self._partial = partial

    async def _transcript(self) -> None:
        if self._audio is None:
            raise AudioError("audio-stop without audio: send transcribe, audio-start and audio-chunks first")
        pcm = np.concatenate(self._pcm) if self._pcm else np.zeros(0, np.int16)
        streaming, self._streaming = self._streaming, None
        self._drop_audio()
        began = time.monotonic()
        voice = self._voice(await asyncio.to_thread(self.conversation))
        if streaming is not None:
            try:
                heard: Heard = await asyncio.to_thread(streaming.final)
            finally:
                self.speech.give_back(streaming)
        else:
            with self.speech.recognizer() as rec:
                heard = await asyncio.to_thread(transcribe, rec, pcm)
        text = (await asyncio.to_thread(voice.choose, heard)).text.strip()
        log.info("wyoming: heard a command in %.2f s", time.monotonic() - began)
        log.debug("wyoming: heard %r", text)  # what people say is logged at DEBUG only
        if self._partial:
            await self.write_event(TranscriptStop().event())
            self._partial = ""
        await self.write_event(Transcript(text=text, language="en").event())

    # -- the conversation -----------------------------------------------------------------------
    def conversation(self, context: dict | None = None) -> Conversation:
        """The client's conversation: Home Assistant's conversation_id when it sends one (it opens a
        connection per sentence), else this connection's own. The id is only looked up among this
        principal's conversations; device_id and satellite_id are Home Assistant's own names and are
        never looked up among the hub's devices or satellites."""
        context = context or {}
        conv_id = str(context.get("conversation_id") or self._own_id)[:128]
        self._conversations.add(conv_id)
        return self.app.conversation(self.principal, conv_id)

    def _voice(self, conversation: Conversation) -> Voice:
        return Voice(self.app, conversation, recognizer=self.speech.primary, synthesizer=self.speech)

    async def _handle(self, transcript: Transcript) -> None:
        conversation = await asyncio.to_thread(self.conversation, transcript.context)
        voice = self._voice(conversation)
        turn = await asyncio.to_thread(voice.answer, voice.strip_wake(transcript.text))
        log.info("wyoming: a turn -> %s", turn.intent)
        log.debug("wyoming: %r -> %r", transcript.text, turn.reply)
        await self.write_event(Handled(text=turn.reply, context={"conversation_id": conversation.client_id}).event())

    async def _recognize(self, recognize: Recognize) -> None:
        parse = await asyncio.to_thread(self.app.parse, recognize.text)
        if parse.intent.name == "out_of_scope":
            await self.write_event(NotRecognized(text="That's not something I can help with in the shop.").event())
            return
        entities = [Entity(name=e.entity, value=e.value) for e in parse.entities]
        await self.write_event(Intent(name=parse.intent.name, entities=entities, context=recognize.context).event())

    # -- text to speech -------------------------------------------------------------------------
    async def _synthesize(self, request: Synthesize) -> None:
        """Sentence by sentence: the first is on its way while the next is synthesized."""
        name = request.voice.name if request.voice else None
        self.speech.voice(name)  # an unknown voice is an error before any audio starts
        started = False
        for sentence in sentences(request.text) or ["."]:
            audio, rate = await asyncio.to_thread(self.speech.synthesize, sentence, name)
            if not started:
                await self.write_event(AudioStart(rate=rate, width=2, channels=1).event())
                started = True
            for chunk in audio_chunks(audio, rate):
                await self.write_event(chunk.event())
        await self.write_event(AudioStop().event())
