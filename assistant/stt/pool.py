"""Recognizers shared by every conversation of a process: the hub's WebSockets and Wyoming's clients.

A recognizer holds the audio of the utterance it is hearing, so it is lent to one utterance at a
time; more are made when several people speak at once, and kept for the next utterances.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator

from assistant.stt import Recognizer

log = logging.getLogger(__name__)


class RecognizerPool:
    def __init__(self, make: Callable[[], Recognizer], max_recognizers: int | None = None) -> None:
        self._make = make
        self.max_recognizers = max_recognizers or max(1, os.cpu_count() or 1)
        """Whole-utterance engines (Whisper) get no faster with more at once than there are cores, only
        bigger (about 100 MB each): past this, an utterance waits for a free one."""
        self._free: list[Recognizer] = []
        self._lock = threading.Lock()
        self._returned = threading.Condition(self._lock)
        self.made = 1
        self.primary = make()
        """The first one made: what the engine is (its name, whether it streams) is read from it."""
        self._free.append(self.primary)

    @property
    def streaming(self) -> bool:
        """The engine hears audio as it comes and has partial transcripts (Vosk, the first pass)."""
        return bool(getattr(self.primary, "streaming", False))

    def borrow(self, wait: bool = True) -> Recognizer:
        """A recognizer for one utterance; give it back with ``give_back`` when the utterance is heard.

        ``wait=False`` (a streaming engine, lent from an event loop for a whole utterance) makes one
        rather than wait."""
        with self._lock:
            while wait and not self._free and self.made >= self.max_recognizers:
                self._returned.wait()
            if self._free:
                return self._free.pop()
            self.made += 1
        log.info("speech: %d recognizers for utterances heard at once", self.made)
        return self._make()

    def give_back(self, rec: Recognizer) -> None:
        with self._lock:
            self._free.append(rec)
            self._returned.notify()

    @contextlib.contextmanager
    def recognizer(self) -> Iterator[Recognizer]:
        """Lent for one whole utterance, from a worker thread (it may wait for a free one)."""
        rec = self.borrow()
        try:
            yield rec
        finally:
            self.give_back(rec)
