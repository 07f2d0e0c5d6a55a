"""A room with a real `wyoming-satellite`: its microphone plays what the test says, its speaker writes what it hears.

The satellite runs from ./.venv-satellite (scripts/install-satellite.sh) with the small programs of
tests/wyoming/sound.py as its audio devices:
  mic:  raw 16 kHz s16le mono on stdout in real time: silence, or the next file dropped in the spool
        folder; it notes when each file's last sample went out (the end of speech, for the bench)
  snd:  one run per reply (the satellite starts it at audio-start): the audio it is sent goes to a
        file, and the time its first bytes came in (the reply starting to play) to played.jsonl
  heard: the satellite's transcript command: what the hub heard, to heard.jsonl
  spoken: its synthesize command: the text of each reply or announcement it is sent, to spoken.jsonl
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SATELLITE_PY = REPO / ".venv-satellite" / "bin" / "python"
HAVE_SATELLITE = SATELLITE_PY.exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Room:
    """One satellite process and its spool (what is said) and out (what is played) folders."""

    def __init__(self, folder: Path, name: str, port: int | None = None, *, spoken: bool = False) -> None:
        self.name = name
        self.spoken_too = spoken
        """Also note the text of what it is sent to play (one more program run per reply: off for the bench)."""
        self.port = port or free_port()
        self.spool = folder / name / "spool"
        self.out = folder / name / "out"
        self.spool.mkdir(parents=True, exist_ok=True)
        self.out.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None
        self._said = 0

    @property
    def uri(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def start(self) -> Room:
        me = [sys.executable, "-m", "tests.wyoming.sound"]
        cmd = [
            str(SATELLITE_PY), "-m", "wyoming_satellite", "--uri", self.uri, "--name", self.name, "--no-zeroconf",
            "--mic-command", " ".join([*me, "mic", str(self.spool)]),
            "--snd-command", " ".join([*me, "snd", str(self.out)]),
            "--transcript-command", " ".join([*me, "heard", str(self.out)]),
        ]  # fmt: skip
        if self.spoken_too:
            cmd += ["--synthesize-command", " ".join([*me, "spoken", str(self.out)])]
        log = (self.out.parent / "satellite.log").open("a")
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=env, start_new_session=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # listening once a connection is accepted
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"satellite {self.name} did not start")

    def kill(self) -> None:
        """Pull the plug: the satellite and its audio programs die at once."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def say(self, pcm: np.ndarray) -> None:
        self._said += 1
        tmp = self.spool / f"{self._said:04d}.tmp"
        tmp.write_bytes(np.asarray(pcm, "<i2").tobytes())
        tmp.rename(tmp.with_suffix(".raw"))

    def played(self) -> list[dict]:
        path = self.out / "played.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def heard(self) -> list[str]:
        path = self.out / "heard.jsonl"
        return [json.loads(line)["text"] for line in path.read_text().splitlines()] if path.exists() else []

    def spoken(self) -> list[str]:
        """The text of each reply or announcement the hub sent to be played."""
        path = self.out / "spoken.jsonl"
        return [json.loads(line)["text"] for line in path.read_text().splitlines()] if path.exists() else []

    def said(self) -> list[dict]:
        path = self.spool / "said.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def wait_played(self, count: int, timeout: float = 90) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            played = self.played()
            if len(played) >= count and all("end" in p for p in played[:count]):
                return played
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: {len(self.played())} replies played, expected {count}")

    def reply_audio(self, index: int) -> np.ndarray:
        return np.frombuffer((self.out / self.played()[index]["file"]).read_bytes(), "<i2")
