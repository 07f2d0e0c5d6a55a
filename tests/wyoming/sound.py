"""The audio devices of a test satellite (see rooms.py): standard library only, so each starts in milliseconds.

A satellite starts its speaker program for every reply: one that imported numpy would add its own
start-up to every latency the bench measures.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path

RATE = 16000
BLOCK = 1024
"""Samples per write: the satellite reads 1024-sample chunks."""


def _mic(spool: Path) -> None:
    out = sys.stdout.buffer
    silence = bytes(BLOCK * 2)
    pending, current = b"", None
    period = BLOCK / RATE
    next_at = time.monotonic()
    while True:
        if not pending:
            if current is not None:  # its last sample has just gone out: the end of speech
                with (spool / "said.jsonl").open("a") as log:
                    log.write(json.dumps({"file": current, "end": time.time()}) + "\n")
                current = None
            files = sorted(spool.glob("*.raw"))
            if files:
                pending, current = files[0].read_bytes(), files[0].name
                files[0].rename(files[0].with_suffix(".said"))
        block, pending = (pending[: BLOCK * 2], pending[BLOCK * 2 :]) if pending else (silence, b"")
        out.write(block.ljust(BLOCK * 2, b"\0"))
        out.flush()
        next_at += period
        time.sleep(max(0.0, next_at - time.monotonic()))


def _snd(out_dir: Path) -> None:
    started = time.time()
    first = None
    name = f"reply-{time.time_ns()}.raw"
    with (out_dir / name).open("wb") as sink:
        while True:
            data = sys.stdin.buffer.read1(65536)
            if not data:
                break
            first = first or time.time()
            sink.write(data)
    with (out_dir / "played.jsonl").open("a") as log:
        log.write(json.dumps({"file": name, "started": started, "first": first, "end": time.time()}) + "\n")


def _heard(out_dir: Path) -> None:
    with (out_dir / "heard.jsonl").open("a") as log:
        log.write(json.dumps({"text": sys.stdin.read(), "at": time.time()}) + "\n")


def _spoken(out_dir: Path) -> None:
    with (out_dir / "spoken.jsonl").open("a") as log:
        log.write(json.dumps({"text": sys.stdin.read(), "at": time.time()}) + "\n")


if __name__ == "__main__":
    role, folder = sys.argv[1], Path(sys.argv[2])
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        {"mic": _mic, "snd": _snd, "heard": _heard, "spoken": _spoken}[role](folder)
