"""Speech benchmark: per engine and voice, WER, real-time factor, spoken-command intent accuracy,
and end of speech to the first reply audio. Speech is synthesized with espeak-ng voices.

    .venv/bin/python bench/voice.py

Prints a table and writes bench/results/voice.json.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.core import machine, percentile  # noqa: E402
from tests.voice_helpers import speak, wer  # noqa: E402

COMMANDS = [
    ("do you have coffee", "search_product"), ("add oat milk to my basket", "add_to_cart"),
    ("add the second one", "add_to_cart"), ("check out", "checkout"), ("yes please", "affirm"),
    ("no thanks", "deny"), ("what's in my basket", "view_cart"), ("take the bananas out", "remove_from_cart"),
    ("order the usual", "reorder"), ("where is my order", "order_status"), ("what did i buy last time", "order_history"),
    ("what do you recommend", "recommend"), ("why that one", "explain_recommendation"), ("surprise me", "discover"),
    ("do you have batteries under ten pounds", "search_product"), ("never mind", "cancel"),
    ("say that again", "repeat"), ("what can you do", "help"), ("delete my data", "delete_my_data"),
    ("what's the weather like", "out_of_scope"),
]  # fmt: skip
VOICES = ["en-us", "en-gb", "en+f3"]


def main() -> int:
    from assistant.audio.wav import read_wav
    from assistant.config import SttSettings, load_config
    from assistant.dialogue import Dialogue
    from assistant.stt import transcribe
    from assistant.stt.pocketsphinx import PocketsphinxRecognizer
    from assistant.stt.whisper import WhisperRecognizer
    from assistant.tts import create_synthesizer
    from assistant.voice import shop_phrases

    results: dict[str, object] = {"machine": machine(), "utterances_per_voice": len(COMMANDS)}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ASSISTANT_MODEL_CACHE"] = str(Path(tmp) / "models")
        config = load_config(REPO / "config.yml")
        synth = create_synthesizer(config.voice.tts)
        dialogue = Dialogue(config, Path(tmp) / "data")
        phrases = shop_phrases(dialogue)
        audio = {(text, v): read_wav(speak(text, Path(tmp) / f"{i}-{v}.wav", v)) for i, (text, _) in enumerate(COMMANDS) for v in VOICES}
        engines = {"whisper": WhisperRecognizer(SttSettings(), phrases), "pocketsphinx": PocketsphinxRecognizer(SttSettings(), phrases)}
        table = {}
        for name, recognizer in engines.items():
            for voice in VOICES:
                wers, rtfs, hits, replies = [], [], 0, []
                for text, intent in COMMANDS:
                    pcm = audio[(text, voice)]
                    t0 = time.perf_counter()
                    heard = transcribe(recognizer, pcm).text
                    t1 = time.perf_counter()
                    dialogue.session.clear_pending()
                    turn = dialogue.parse(heard) if heard.strip() else None
                    reply = dialogue.handle(heard) if heard.strip() else None
                    if reply is not None:
                        synth.synthesize(reply.reply)
                    t2 = time.perf_counter()
                    wers.append(wer(text, heard))
                    rtfs.append((t1 - t0) / (len(pcm) / 16000))
                    hits += int(turn is not None and turn.intent.name == intent)
                    replies.append((t2 - t0) * 1000)
                    dialogue.orders.clear_cart()
                table[f"{name}/{voice}"] = {
                    "wer": round(sum(wers) / len(wers), 3),
                    "rtf": round(sum(rtfs) / len(rtfs), 3),
                    "intent_accuracy": round(hits / len(COMMANDS), 3),
                    "speech_end_to_reply_audio_ms_p50": round(percentile(replies, 0.5)),
                    "speech_end_to_reply_audio_ms_p95": round(percentile(replies, 0.95)),
                }
        dialogue.close()
    results["runs"] = table
    results["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    cols = list(next(iter(table.values())))
    print(f"{'engine/voice':22}" + "".join(f"{c[:22]:>24}" for c in cols))
    for key, row in table.items():
        print(f"{key:22}" + "".join(f"{row[c]:>24}" for c in cols))
    print(f"rss_mb {results['rss_mb']}   machine: {results['machine']}")
    out = REPO / "bench" / "results" / "voice.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
