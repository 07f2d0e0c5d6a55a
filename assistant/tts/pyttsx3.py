"""pyttsx3 on espeak-ng, synthesized to WAV in a helper process and read back as PCM.

pyttsx3's espeak driver keeps one global C callback and weak references to its engine; in a
process that also runs CTranslate2 and the dialogue it loses them and writes no audio. So the
engine lives in a small process of its own, started once, used only with save_to_file (its say()
needs aplay and breaks after a save).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from assistant.config import TtsSettings
from assistant.errors import EngineNotAvailable

log = logging.getLogger(__name__)


class Pyttsx3Synthesizer:
    def __init__(self, settings: TtsSettings) -> None:
        try:
            import pyttsx3  # noqa: F401 - checked here, used in the helper process
        except ImportError as exc:
            raise EngineNotAvailable("pyttsx3 is not installed: run scripts/install-voice.sh") from exc
        self.settings = settings
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="tts-")
        self._count = 0
        self._start()

    def _start(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.tts.pyttsx3", json.dumps(self.settings.model_dump())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
        )  # fmt: skip
        ready = self._proc.stdout.readline().strip()
        if ready != "ready":
            err = (
                (self._proc.stderr.read() or "").strip().splitlines()[-1:] if self._proc.poll() is not None else [ready]
            )
            self._proc = None
            raise EngineNotAvailable(
                f"pyttsx3 could not start espeak-ng ({' '.join(err)}): apt-get install espeak-ng libespeak-ng1"
            )

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        from assistant.audio.wav import read_native

        text = " ".join(text.split()) or "."
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()
            assert self._proc is not None
            self._count += 1
            path = Path(self._tmp.name) / f"reply-{self._count}.wav"
            self._proc.stdin.write(json.dumps({"text": text, "path": str(path)}) + "\n")
            self._proc.stdin.flush()
            answer = self._proc.stdout.readline().strip()
        if answer != "ok" or not path.exists():
            raise EngineNotAvailable(f"espeak-ng produced no audio ({answer or 'the speech process stopped'})")
        try:
            return read_native(path)
        finally:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.stdin.close()
            self._proc.wait(5)
        self._proc = None


def _wait_for(path: Path, timeout: float) -> bool:
    """runAndWait can return before espeak-ng's callback has written the file: wait until it is whole."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        size = path.stat().st_size if path.exists() else -1
        if size > 44 and size == last:
            return True
        last = size
        time.sleep(0.03)
    return path.exists()


def _serve(settings: dict) -> None:
    """The helper process: one pyttsx3 engine, one WAV per request line."""
    import pyttsx3

    engine = pyttsx3.init("espeak")
    engine.setProperty("rate", settings.get("rate", 175))
    engine.setProperty("volume", settings.get("volume", 1.0))
    if settings.get("voice"):
        engine.setProperty("voice", settings["voice"])
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the driver prints "Audio saved to"
                engine.save_to_file(request["text"], request["path"])
                engine.runAndWait()
                ok = _wait_for(Path(request["path"]), timeout=5 + len(request["text"]) / 20)
            out.write("ok\n" if ok else "no audio\n")
        except Exception as exc:  # noqa: BLE001 - reported to the assistant as one line
            out.write(f"{type(exc).__name__}: {exc}\n".replace("\n", " ").strip() + "\n")
        out.flush()


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]))
