"""Spoken conversations end to end: WAV in, understood, answered, reply audio out."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.wav import read_wav, write_wav
from tests.voice_helpers import HAVE_ESPEAK, conversation_wav, speak

REPO = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is installed by scripts/install-voice.sh"),
]


def listen(wav: Path, data: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "assistant.cli",
        "listen",
        "--wav",
        str(wav),
        "--json",
        "--data-dir",
        str(data),
        *extra,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=dict(os.environ), timeout=600)


def test_do_you_have_coffee_answers_with_coffee_and_writes_the_reply(tmp_path):
    wav = speak("do you have coffee", tmp_path / "coffee.wav")
    proc = listen(wav, tmp_path / "data", "--reply-wav", str(tmp_path / "reply.wav"))
    assert proc.returncode == 0, proc.stderr
    (turn,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert set(turn) == {"transcript", "intent", "confidence", "entities", "skill", "reply"}
    assert "coffee" in turn["transcript"].lower()
    assert turn["intent"] == "search_product" and "Coffee" in turn["reply"]
    reply = read_wav(tmp_path / "reply.wav")
    assert len(reply) > 16000 * 3 and np.abs(reply).max() > 1000


def test_a_spoken_order_is_placed_once(tmp_path):
    lines = ["add oat milk to my basket", "check out", "yes", "yes"]
    wav = conversation_wav(lines, tmp_path / "order.wav", voice="en-gb")
    data = tmp_path / "data"
    proc = listen(wav, data)
    assert proc.returncode == 0, proc.stderr
    turns = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [t["intent"] for t in turns] == ["add_to_cart", "checkout", "affirm", "affirm"], turns
    assert "is placed" in turns[2]["reply"] and "already placed" in turns[3]["reply"]
    orders = json.loads(
        subprocess.run(
            [sys.executable, "-m", "assistant.cli", "orders", "--json", "--data-dir", str(data)],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=True,
        ).stdout
    )
    assert len([o for o in orders if o["status"] == "placed"]) == 1


@pytest.mark.parametrize("kind", ["silence", "noise", "clipping", "long"])
def test_garbage_audio_buys_nothing(tmp_path, kind):
    rng = np.random.default_rng(7)
    n = 16000 * 4
    audio = {
        "silence": np.zeros(n, np.int16),
        "noise": rng.normal(0, 4000, n).astype(np.int16),
        "clipping": np.clip(
            read_wav(speak("yes check out yes", tmp_path / "y.wav")).astype(np.int32) * 40, -32768, 32767
        ).astype(np.int16),
        "long": np.concatenate([np.zeros(16000 * 600, np.int16)]),  # ten minutes of nothing
    }[kind]
    write_wav(tmp_path / "garbage.wav", audio)
    proc = listen(tmp_path / "garbage.wav", tmp_path / "data")
    assert proc.returncode == 0, proc.stderr
    orders = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "orders", "--json", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    ).stdout
    assert not [o for o in json.loads(orders) if o["status"] == "placed"]


def test_not_audio_is_a_clear_error(tmp_path):
    bad = tmp_path / "list.wav"
    bad.write_text("milk, eggs")
    proc = listen(bad, tmp_path / "data")
    assert proc.returncode == 2 and "list.wav: not a WAV audio file" in proc.stderr


@pytest.mark.parametrize(
    ("heard", "woke", "rest"),
    [
        ("Hey shopper, do you have coffee?", True, "do you have coffee?"),
        ("Hey Sharper, add milk", True, "add milk"),  # how Whisper often spells it
        ("Hi shopper. Check out", True, "Check out"),
        ("heyshopper the usual", True, "the usual"),
        ("hey shopper", True, ""),
        ("Hey, do you have tea?", False, "Hey, do you have tea?"),
        ("Do you have coffee?", False, "Do you have coffee?"),
    ],
)
def test_the_wake_phrase_is_heard_as_recognizers_spell_it(heard, woke, rest):
    from assistant.voice import Voice

    voice = Voice.__new__(Voice)  # only the wake phrase matters here: no models loaded
    voice.wake = "hey shopper"
    assert voice.split_wake(heard) == (woke, rest)
