"""The hub as a client of Wyoming satellites: it connects to each registered satellite as Home Assistant does.

For each satellite: describe, then run-satellite; the satellite answers with run-pipeline and streams
its microphone. The hub cuts the stream into utterances, listens for its wake phrase (or takes the
satellite's own wake word), transcribes, answers through that satellite's own conversation and
streams the spoken reply back. A satellite that drops is reconnected with backoff; its conversation,
and any question it was asked, outlive the connection.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from dataclasses import dataclass

import numpy as np
from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, async_write_event
from wyoming.info import Describe, Info
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.tts import Synthesize
from wyoming.wake import Detection

from assistant.app import App
from assistant.audio.vad import FRAME_MS, Segmenter
from assistant.errors import AssistantError
from assistant.household import NAME, Household
from assistant.notices import take_for, told
from assistant.principal import Door, Principal
from assistant.store import Database
from assistant.store.wyoming import SatelliteRows
from assistant.stt import transcribe
from assistant.voice import Voice
from assistant.wyoming.address import parse_uri
from assistant.wyoming.speech import AudioIn, Speech, audio_chunks, sentences
from assistant.wyoming.wire import MAX_HEADER, WireError, read_event

log = logging.getLogger(__name__)

BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0)
"""Waits between attempts to reach a satellite that is away: quick at first, then every 10 s."""
DESCRIBE_TIMEOUT_S = 5.0
RESCAN_S = 3.0
"""How often the hub looks for satellites added or removed while it runs."""
TRAILING_SILENCE_MS = 500
"""The end of a command: shorter than the live loop's 600 ms, as every 100 ms here is reply latency."""
PADDING_MS = 150
"""Silence kept around an utterance (the live loop keeps 210 ms); recognition starts once this much
of the pause has passed, so it is reply latency too."""
ANNOUNCE_EVERY_S = 1.0
"""How often the store is asked whether a member has a notification for the idle satellites."""


@dataclass(frozen=True)
class SatelliteEntry:
    name: str
    uri: str
    user: str | None
    """The household member it speaks for; None: the household (it asks who's ordering)."""

    def to_json(self) -> dict:
        return {"name": self.name, "uri": self.uri, "user": self.user}


class Satellites:
    """The registered satellites, in the assistant's store, each with the member it speaks for."""

    def __init__(self, db: Database, household: Household) -> None:
        self.db = db
        self.household = household
        self.rows = SatelliteRows(db)

    def add(self, name: str, uri: str, user: str | None = None) -> SatelliteEntry:
        if not NAME.match(name):
            raise AssistantError(f"'{name}' can't be a satellite name: use letters, digits, spaces, . ' - or _")
        if parse_uri(uri)[0] != "tcp":
            raise AssistantError(f"{uri}: a satellite is reached at tcp://HOST:PORT (wyoming-satellite --uri)")
        if user is not None:
            self.household.require(user)
        self.rows.put(name, uri, user)
        return SatelliteEntry(name, uri, user)

    def list(self) -> list[SatelliteEntry]:
        return [SatelliteEntry(*row) for row in self.rows.all()]

    def remove(self, name: str) -> None:
        if not self.rows.remove(name):
            raise AssistantError(f"no satellite named '{name}' (see: assistant satellites list)")


class SatelliteLink:
    """One satellite: connect, run its pipeline, reconnect when it drops.

    The conversation, the utterances heard and the turn being answered belong to the link, not to
    one connection: a satellite that drops mid-turn has its turn finished, and a reply it missed is
    spoken when it is back.
    """

    def __init__(self, speech: Speech, entry: SatelliteEntry) -> None:
        self.speech = speech
        self.app: App = speech.app
        self.entry = entry
        _, self.host, self.port = parse_uri(entry.uri)
        self.conversation = self.app.conversation(
            Principal(Door.SATELLITE, entry.name, entry.name, entry.user), "satellite"
        )
        self.voice = Voice(self.app, self.conversation, recognizer=speech.primary, synthesizer=speech)
        self.expecting = False
        """The assistant asked this satellite a question: the next utterance needs no wake phrase."""
        self.undelivered: str | None = None
        """A reply the satellite was not there to play; spoken when it is back."""
        self.connected = asyncio.Event()
        self.connections = 0
        self.utterances: asyncio.Queue[Utterance] = asyncio.Queue()
        self.answering = False
        self.pipeline: Pipeline | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._stopping = False

    @property
    def idle(self) -> bool:
        """Connected, and nobody is speaking to it, waiting for its answer, or hearing it speak."""
        hearing = self.pipeline is not None and self.pipeline.segmenter.in_speech
        busy = self.answering or self.expecting or not self.utterances.empty() or hearing
        return self.connected.is_set() and not busy

    async def run(self) -> None:
        worker = asyncio.create_task(self._answer_each(), name=f"satellite {self.entry.name}")
        try:
            await self._connect_forever()
        finally:
            worker.cancel()

    async def _connect_forever(self) -> None:
        attempt = 0
        while not self._stopping:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port, limit=MAX_HEADER)
            except OSError as exc:
                wait = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
                log.log(logging.WARNING if attempt == 0 else logging.DEBUG,
                        "satellite %s at %s: %s; trying again in %.1f s", self.entry.name, self.entry.uri,
                        exc.strerror or exc, wait)  # fmt: skip
                attempt += 1
                await asyncio.sleep(wait)
                continue
            attempt = 0
            try:
                await self._session(reader, writer)
            except (ConnectionError, WireError, asyncio.IncompleteReadError, TimeoutError) as exc:
                log.warning("satellite %s dropped: %s", self.entry.name, exc or type(exc).__name__)
            finally:
                self._writer = None
                self.connected.clear()
                writer.close()
            if not self._stopping:
                await asyncio.sleep(BACKOFF_S[0])

    def stop(self) -> None:
        self._stopping = True

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await async_write_event(Describe().event(), writer)
        while True:
            event = await asyncio.wait_for(read_event(reader), DESCRIBE_TIMEOUT_S)
            if event is None:
                raise ConnectionError("closed before describing itself")
            if Info.is_type(event.type):
                break
        await async_write_event(RunSatellite().event(), writer)
        self._writer = writer
        self.connections += 1
        self.connected.set()
        log.info("satellite %s connected (%s)", self.entry.name, self.entry.uri)
        if self.undelivered:
            reply, self.undelivered = self.undelivered, None
            await self.speak(reply)
        pipeline = self.pipeline = Pipeline(self)
        while True:
            event = await read_event(reader)
            if event is None:
                log.warning("satellite %s went away; reconnecting", self.entry.name)
                return
            try:
                await pipeline.on_event(event)
            except AssistantError as exc:  # e.g. audio it cannot convert: said once, the link stays
                log.warning("satellite %s: %s", self.entry.name, exc)
                await self.send(Error(text=str(exc)).event())
                pipeline = self.pipeline = Pipeline(self)

    async def send(self, event: Event) -> bool:
        """Write to the satellite if it is there; False if it is not (the caller keeps what it missed)."""
        writer = self._writer
        if writer is None:
            return False
        try:
            await async_write_event(event, writer)
            return True
        except (ConnectionError, RuntimeError):
            return False

    async def speak(self, reply: str) -> float:
        """The reply, sentence by sentence: the first plays while the next is synthesized.
        Returns the seconds until its first audio was sent."""
        began = time.monotonic()
        first_audio_s = 0.0
        delivered = await self.send(Synthesize(text=reply).event())
        started = False
        for sentence in sentences(reply):
            audio, rate = await asyncio.to_thread(self.speech.synthesize, sentence)
            if not started:
                delivered = delivered and await self.send(AudioStart(rate=rate, width=2, channels=1).event())
                first_audio_s = time.monotonic() - began
                started = True
            for chunk in audio_chunks(audio, rate):
                delivered = delivered and await self.send(chunk.event())
        if started:
            delivered = delivered and await self.send(AudioStop().event())
        if not delivered:
            self.undelivered = reply
        return first_audio_s

    async def _answer_each(self) -> None:
        while True:
            utterance = await self.utterances.get()
            self.answering = True
            try:
                await self._answer(utterance)
            except AssistantError as exc:
                log.warning("satellite %s: %s", self.entry.name, exc)
                await self.send(Error(text=str(exc)).event())
            except Exception:  # one bad turn must not end the satellite's link
                log.exception("satellite %s: the turn failed", self.entry.name)
            finally:
                self.answering = False

    async def announce(self, text: str) -> None:
        """Say a notification, as a reply is played; it counts as speaking, so nothing else cuts in."""
        self.answering = True
        try:
            await self.speak(text)
        finally:
            self.answering = False

    def hear(self, pcm: np.ndarray) -> Hearing:
        """What was said, worked out in a thread: the recognizer's n-best, picked by the NLU."""
        dropped = threading.Event()

        def work() -> str:
            with self.speech.recognizer() as rec:
                if dropped.is_set():  # given up while it waited for a recognizer: leave it to others
                    return ""
                return self.voice.choose(transcribe(rec, pcm)).text.strip()

        return Hearing(len(pcm), asyncio.ensure_future(asyncio.to_thread(work)), time.monotonic(), dropped)

    async def _answer(self, utterance: Utterance) -> None:
        voice, pipeline = self.voice, utterance.pipeline
        began = time.monotonic()
        hearing = utterance.heard or self.hear(utterance.pcm)
        text = await hearing.text
        heard_s = time.monotonic() - hearing.since
        began = time.monotonic()
        if not re.search(r"\w", text):
            return
        woke, request = voice.split_wake(text)
        needs_wake = pipeline.start == PipelineStage.WAKE and bool(voice.wake) and not self.expecting
        if needs_wake and not woke:
            log.debug("satellite %s heard %r without the wake phrase", self.entry.name, text)
            return
        if woke:
            await self.send(Detection(name=voice.wake).event())
        await self.send(Transcript(text=text).event())
        if not re.search(r"\w", request):  # the wake phrase alone: the request comes next
            self.expecting = True
            return
        if pipeline.end == PipelineStage.ASR:
            return
        turn = await asyncio.to_thread(voice.answer, request)
        self.expecting = turn.expecting
        answered_s = time.monotonic() - began
        log.info("satellite %s: a turn -> %s", self.entry.name, turn.intent)
        log.debug("satellite %s: %r -> %r", self.entry.name, request, turn.reply)
        if pipeline.end == PipelineStage.TTS and turn.reply:
            first_audio_s = await self.speak(turn.reply)
            log.info(
                "satellite %s timings: recognition %.3f s (started %s), turn %.3f s, first sentence spoken in %.3f s",
                self.entry.name, heard_s, "in the pause" if utterance.heard else "after the pause", answered_s,
                first_audio_s,
            )  # fmt: skip


@dataclass
class Hearing:
    """Recognition of some audio, under way in a thread."""

    samples: int
    text: asyncio.Future[str]
    since: float
    """When it started (time.monotonic)."""
    dropped: threading.Event

    def cancel(self) -> None:
        self.dropped.set()  # a thread cannot be stopped, but one still waiting for a recognizer gives up
        self.text.cancel()


@dataclass
class Utterance:
    pipeline: Pipeline
    pcm: np.ndarray
    heard: Hearing | None = None
    """Its recognition, already under way when it was started during the end-of-speech pause."""


class Pipeline:
    """One connection's pipeline run: the satellite's audio, cut into utterances for its link to answer.

    The segmenter waits TRAILING_SILENCE_MS to be sure a command has ended, but the utterance it
    then returns keeps only its first PADDING_MS of that silence. So once that much silence has
    passed, the utterance's audio is already known: recognition starts then, during the rest of
    the pause, and its result is used if the speaker did not go on (measured: bench/wyoming.py).
    """

    def __init__(self, link: SatelliteLink) -> None:
        self.link = link
        self.start = PipelineStage.WAKE
        self.end = PipelineStage.TTS
        self._reset()

    def _reset(self) -> None:
        self.audio = AudioIn()
        self.segmenter = Segmenter(trailing_silence_ms=TRAILING_SILENCE_MS, padding_ms=PADDING_MS)
        self._ahead: Hearing | None = None
        self.guesses_dropped = 0

    async def on_event(self, event: Event) -> None:
        if RunPipeline.is_type(event.type):
            run = RunPipeline.from_event(event)
            self.start, self.end = run.start_stage, run.end_stage
            self._reset()
        elif AudioChunk.is_type(event.type):
            pcm = self.audio.convert(AudioChunk.from_event(event))
            for utterance in self.segmenter.feed(pcm):
                self._done(utterance)
            self._hear_ahead()
        elif AudioStop.is_type(event.type):
            tail = self.segmenter.flush()  # the satellite's own VAD ended the stream
            if tail is not None:
                self._done(tail)

    def _hear_ahead(self) -> None:
        seg = self.segmenter
        silence_ms = seg._silence * FRAME_MS  # noqa: SLF001 - the segmenter's own count of the pause so far
        if not seg.in_speech:
            self._ahead = None
        elif silence_ms < seg.padding_ms:
            if self._ahead is not None:  # the speaker went on: that guess is for audio that is not the utterance
                self._ahead.cancel()
                self._ahead = None
                self.guesses_dropped += 1
                log.info("satellite %s: went on after a pause (%d early recognitions dropped)",
                         self.link.entry.name, self.guesses_dropped)  # fmt: skip
        elif self._ahead is None:
            # the utterance as the segmenter will return it: with `padding_ms` of the pause, no more
            extra = (silence_ms - seg.padding_ms) // FRAME_MS
            frames = seg.speech_so_far[: len(seg.speech_so_far) - extra]
            self._ahead = self.link.hear(np.concatenate(frames))

    def _done(self, pcm: np.ndarray) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead.samples == len(pcm):
            self.link.utterances.put_nowait(Utterance(self, pcm, ahead))
            return
        if ahead is not None:
            ahead.cancel()
        self.link.utterances.put_nowait(Utterance(self, pcm))


class Hub:
    """Every registered satellite, linked; satellites added or removed while it runs are picked up."""

    def __init__(self, speech: Speech) -> None:
        self.speech = speech
        self.registry = Satellites(speech.app.db, speech.app.household)
        self.links: dict[str, tuple[SatelliteLink, asyncio.Task]] = {}
        self._task: asyncio.Task | None = None
        self._announcer: asyncio.Task | None = None
        self._announcing: set[asyncio.Task] = set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="satellite hub")
        self._announcer = asyncio.create_task(self._announce_forever(), name="satellite announcements")

    async def _announce_forever(self) -> None:
        while True:
            await asyncio.sleep(ANNOUNCE_EVERY_S)
            try:
                await self.announce_once()
            except AssistantError as exc:  # the store is busy: the notifications wait for the next look
                log.warning("satellites: could not announce notifications: %s", exc)

    async def announce_once(self) -> int:
        """Each member's untold notifications on the idle satellites of the household: the member's own
        and the shared ones (which name whom it is for). Outside the quiet hours, once; returns how many
        members were told."""
        app = self.speech.app
        idle = [link for link, _ in self.links.values() if link.idle]
        if not idle or app.config.notifications.quiet():
            return 0
        waiting = await asyncio.to_thread(app.notifications.waiting)
        if not waiting:
            return 0
        members = {m.id: m for m in await asyncio.to_thread(app.household.members)}
        told_members = 0
        for member_id in sorted(waiting):
            member = members.get(member_id)
            rooms = [link for link in idle if member is not None and link.entry.user in (None, member.name)]
            if member is None or not rooms:
                continue
            news = await asyncio.to_thread(take_for, app, member, "satellite")
            if not news:
                continue
            for link in rooms:
                idle.remove(link)  # one announcement at a time in a room
                shared = link.entry.user is None
                task = asyncio.create_task(link.announce(told(news, member.name if shared else None)))
                self._announcing.add(task)  # held until done: the loop keeps only weak references
                task.add_done_callback(self._announcing.discard)
            told_members += 1
        return told_members

    async def _watch(self) -> None:
        while True:
            try:
                wanted = {e.name: e for e in await asyncio.to_thread(self.registry.list)}
            except AssistantError as exc:
                log.warning("satellites: %s", exc)
                wanted = {name: link.entry for name, (link, _) in self.links.items()}
            for name in list(self.links):
                if name not in wanted or wanted[name] != self.links[name][0].entry:
                    self._unlink(name)
            for name, entry in wanted.items():
                if name not in self.links:
                    link = await asyncio.to_thread(SatelliteLink, self.speech, entry)  # opens its conversation
                    self.links[name] = (link, asyncio.create_task(link.run(), name=f"satellite link {name}"))
            await asyncio.sleep(RESCAN_S)

    def _unlink(self, name: str) -> None:
        link, task = self.links.pop(name)
        link.stop()
        task.cancel()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._announcer is not None:
            self._announcer.cancel()
        tasks = [task for _, task in self.links.values()]
        for name in list(self.links):
            self._unlink(name)
        await asyncio.gather(*tasks, return_exceptions=True)
