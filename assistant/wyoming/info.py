"""What the assistant tells a Wyoming client it offers: speech in (asr), voices (tts), the shop as an agent (handle), intents."""

from __future__ import annotations

from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    IntentModel,
    IntentProgram,
    TtsProgram,
    TtsVoice,
)

from assistant import __version__
from assistant.wyoming.speech import Speech

SERVICES = ("asr", "tts", "handle", "intent")
LANGUAGES = ["en"]
_BY = Attribution(name="shopper-assistant", url="")


def describe(speech: Speech, services: tuple[str, ...] = SERVICES) -> Info:
    app = speech.app
    info = Info()
    if "asr" in services:
        recognizer = speech.primary.name
        info.asr = [
            AsrProgram(
                name="shopper-asr",
                description=f"Shop-aware speech recognition ({recognizer}, biased to the catalogue's words)",
                attribution=_BY, installed=True, version=__version__,
                models=[AsrModel(name=recognizer, description=f"{recognizer} with the shop's phrases",
                                 attribution=_BY, installed=True, version=None, languages=LANGUAGES)],
                supports_transcript_streaming=speech.streaming,
            )
        ]  # fmt: skip
    if "tts" in services and speech.voices:
        info.tts = [
            TtsProgram(
                name="shopper-tts", description="The assistant's voices", attribution=_BY, installed=True,
                version=__version__,
                voices=[TtsVoice(name=v.name, description=v.description, attribution=_BY, installed=True,
                                 version=None, languages=list(v.languages)) for v in speech.voices],
            )
        ]  # fmt: skip
    if "handle" in services:
        info.handle = [
            HandleProgram(
                name="shopper", description="Shopping conversation: search, basket, orders, recommendations",
                attribution=_BY, installed=True, version=__version__,
                models=[HandleModel(name="shopper", description=f"skills: {', '.join(s.name for s in app.dispatcher.skills)}",
                                    attribution=_BY, installed=True, version=None, languages=LANGUAGES)],
            )
        ]  # fmt: skip
    if "intent" in services:
        info.intent = [
            IntentProgram(
                name="shopper-intent", description=f"Shopping intents and entities (NLU engine {app.engine_name})",
                attribution=_BY, installed=True, version=__version__,
                models=[IntentModel(name=app.engine_name, description="Rasa-format training data of every skill",
                                    attribution=_BY, installed=True, version=None, languages=LANGUAGES)],
            )
        ]  # fmt: skip
    return info
