"""Engine `pocketsphinx`: the lightest fallback, en-us from the wheel, with a domain language model.

A language model built only from the shop's phrases makes it hear everything as shopping; on
free speech it is clearly worse than Whisper (see docs/benchmarks.md), so it is the last choice.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np

from assistant.config import SttSettings
from assistant.errors import EngineNotAvailable
from assistant.stt import Transcript, Word

log = logging.getLogger(__name__)


def build_lm(phrases: list[str], out: Path) -> Path:
    """An ARPA trigram model from the phrases (pocketsphinx's ArpaBoLM, with sentence markers)."""
    from pocketsphinx.lm import ArpaBoLM

    corpus = out.with_suffix(".txt")
    corpus.write_text("\n".join(" ".join(p.lower().split()) for p in phrases if p.strip()) + "\n")
    with corpus.open() as fh:
        lm = ArpaBoLM(fh, add_start=True)
    lm.compute()
    with out.open("w") as fh:
        lm.write(fh)
    return out


class PocketsphinxRecognizer:
    name = "pocketsphinx"

    def __init__(self, settings: SttSettings, phrases: list[str], **search: float | bool) -> None:
        """``search``: pocketsphinx settings (beams, passes) over its defaults."""
        try:
            from pocketsphinx import Config, Decoder
        except ImportError as exc:
            raise EngineNotAvailable("pocketsphinx is not installed") from exc
        config = Config(loglevel="FATAL", **search)
        if phrases:
            self._tmp = tempfile.TemporaryDirectory()
            config["lm"] = str(build_lm(phrases, Path(self._tmp.name) / "shop.lm"))
        self._decoder = Decoder(config)
        self._started = False

    def accept(self, pcm: np.ndarray) -> str | None:
        if not self._started:
            self._decoder.start_utt()
            self._started = True
        self._decoder.process_raw(np.asarray(pcm, np.int16).tobytes(), False, False)
        hyp = self._decoder.hyp()
        return hyp.hypstr if hyp else None

    def final(self) -> Transcript:
        if not self._started:
            return Transcript("", 0.0)
        self._decoder.end_utt()
        self._started = False
        hyp = self._decoder.hyp()
        if hyp is None:
            return Transcript("", 0.0)
        words = tuple(
            Word(seg.word, seg.start_frame / 100, seg.end_frame / 100, 1.0)
            for seg in self._decoder.seg()
            if seg.word not in ("<s>", "</s>", "<sil>") and not seg.word.startswith("[")
        )
        return Transcript(hyp.hypstr, self._confidence(hyp), words)

    def _confidence(self, hyp) -> float:
        return float(min(1.0, np.exp(hyp.prob / 1000))) if hyp.prob else 1.0
