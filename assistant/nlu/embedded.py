"""Engine `embedded`: an in-process intent classifier (scikit-learn) and entity tagger (CRF)."""

from __future__ import annotations

import logging
import pickle
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import sklearn_crfsuite
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline

from assistant.errors import TrainingDataError
from assistant.nlu.data import TrainingData
from assistant.nlu.parse import Entity, IntentScore, Parse
from assistant.nlu.values import normalise

log = logging.getLogger(__name__)

_NUMBER_WORDS = set(
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "hundred",
        "thousand",
        "dozen",
        "couple",
        "half",
        "fiver",
        "tenner",
        "pair",
        "few",
    ]
)
_ORDINAL_WORDS = set(
    ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "last", "final"]
)
_CURRENCY_WORDS = set(
    [
        "pound",
        "pounds",
        "quid",
        "dollar",
        "dollars",
        "buck",
        "bucks",
        "euro",
        "euros",
        "p",
        "pence",
        "cents",
        "£",
        "$",
        "€",
    ]
)
_TOKEN = re.compile(r"\d+(?:[.,]\d+)?p?|[^\W\d_]+(?:'[^\W\d_]+)?|[£$€%]")
MODEL_VERSION = 4
MAX_CHARS = 500
"""Longer texts are cut: nobody says more than this in one turn."""


def clean(text: str) -> str:
    """Lower-case, strip control characters and collapse spaces (as a recogniser would give it)."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(text.split())[:MAX_CHARS]


def tokenize(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _singular(word: str) -> str:
    """Crude plural folding for vocabulary look-ups: 'batteries' -> 'battery', 'eggs' -> 'egg'."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _phrase_index(phrases: dict[str, str]) -> dict[tuple[str, ...], str]:
    """Tokenised phrase -> feature name, for lookup tables and synonyms."""
    index: dict[tuple[str, ...], str] = {}
    for phrase, name in phrases.items():
        toks = tuple(t.lower() for t, _, _ in tokenize(phrase))
        if toks:
            index[toks] = name
    return index


@dataclass
class _Model:
    version: int
    fingerprint: str
    intents: object
    crf: sklearn_crfsuite.CRF | None
    phrases: dict[tuple[str, ...], str]
    max_phrase: int
    regexes: dict[str, list[re.Pattern[str]]]
    synonyms: dict[str, str]
    vocab: dict[str, set[str]]
    """Lookup name -> the single words of its phrases (singular), to recognise unseen products."""


class EmbeddedEngine:
    """Trains in seconds from the same Rasa-format data as engine `rasa`; no server, no GPU."""

    name = "embedded"

    def __init__(self) -> None:
        self._model: _Model | None = None

    # -- training -----------------------------------------------------------------------------
    def train(self, data: TrainingData, cache_dir: Path) -> None:
        if len(data.intents) < 2:
            raise TrainingDataError(
                "training data needs at least two intents; found " + ", ".join(data.intents or ["none"])
            )
        fingerprint = data.fingerprint(extra=("embedded", MODEL_VERSION))
        path = Path(cache_dir) / "embedded" / f"{fingerprint}.pkl"
        if path.exists():
            try:
                with path.open("rb") as fh:
                    model = pickle.load(fh)  # noqa: S301 - our own cache file
                if isinstance(model, _Model) and model.version == MODEL_VERSION:
                    self._model = model
                    log.info("loaded cached NLU model %s", path)
                    return
            except Exception as exc:  # a corrupt cache is rebuilt, not fatal
                log.warning("ignoring unreadable NLU cache %s: %s", path, exc)
        self._model = self._fit(data, fingerprint)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(self._model, fh)
        tmp.replace(path)
        log.info("trained NLU model %s", path)

    def _fit(self, data: TrainingData, fingerprint: str) -> _Model:
        phrases: dict[str, str] = {}
        for name, values in data.lookups.items():
            for value in values:
                phrases[value] = f"lookup:{name}"
        for surface in data.synonyms:
            phrases.setdefault(surface, "synonym")
        index = _phrase_index(phrases)
        regexes = {name: [re.compile(p, re.I) for p in pats] for name, pats in data.regexes.items()}
        model = _Model(
            version=MODEL_VERSION,
            fingerprint=fingerprint,
            intents=None,
            crf=None,
            phrases=index,
            max_phrase=max((len(k) for k in index), default=0),
            regexes=regexes,
            synonyms={k.lower(): v for k, v in data.synonyms.items()},
            vocab={
                name: {_singular(w.lower()) for v in values for w, _, _ in tokenize(v) if len(w) > 2}
                for name, values in data.lookups.items()
            },
        )
        texts = [clean(e.text).lower() for e in data.examples]
        labels = [e.intent for e in data.examples]
        classifier = make_pipeline(
            FeatureUnion(
                [
                    (
                        "words",
                        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b"),
                    ),
                    (
                        "chars",
                        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
                    ),
                ]
            ),
            LogisticRegression(C=50.0, max_iter=3000, class_weight="balanced"),
        )
        classifier.fit(texts, labels)
        model.intents = classifier

        sequences, tags = [], []
        for example in data.examples:
            toks = tokenize(example.text)
            if not toks:
                continue
            sequences.append(self._features(example.text, toks, model))
            tags.append(self._bio(toks, example.entities))
        if any(t != "O" for seq in tags for t in seq):
            crf = sklearn_crfsuite.CRF(
                algorithm="lbfgs",
                c1=0.05,
                c2=0.05,
                max_iterations=150,
                all_possible_transitions=True,
            )
            crf.fit(sequences, tags)
            model.crf = crf
        return model

    @staticmethod
    def _bio(toks: list[tuple[str, int, int]], spans) -> list[str]:
        out = []
        for _, start, end in toks:
            label = "O"
            for span in spans:
                if start >= span.start and end <= span.end:
                    kind = span.entity + (f"#{span.role}" if span.role else "")
                    label = ("B-" if start == span.start or not out or not out[-1].endswith(kind) else "I-") + kind
                    break
            out.append(label)
        return out

    @staticmethod
    def _features(text: str, toks: list[tuple[str, int, int]], model: _Model) -> list[dict[str, object]]:
        words = [t.lower() for t, _, _ in toks]
        marks: list[set[str]] = [set() for _ in toks]
        # lookup-table and synonym phrases, longest match first
        i = 0
        while i < len(words):
            for size in range(min(model.max_phrase, len(words) - i), 0, -1):
                name = model.phrases.get(tuple(words[i : i + size]))
                if name:
                    for j in range(i, i + size):
                        marks[j].add(name + (":B" if j == i else ":I"))
                    i += size - 1
                    break
            i += 1
        for name, patterns in model.regexes.items():
            for pattern in patterns:
                for match in pattern.finditer(text):
                    for j, (_, start, end) in enumerate(toks):
                        if start >= match.start() and end <= match.end():
                            marks[j].add(f"regex:{name}")
        for j, word in enumerate(words):
            if word in _NUMBER_WORDS or word[:1].isdigit():
                marks[j].add("num")
            if word in _ORDINAL_WORDS or re.fullmatch(r"\d+(st|nd|rd|th)", word):
                marks[j].add("ord")
            if word in _CURRENCY_WORDS:
                marks[j].add("cur")
            for name, words_of in model.vocab.items():
                if _singular(word) in words_of:
                    marks[j].add(f"vocab:{name}")
        feats = []
        for j, word in enumerate(words):
            f: dict[str, object] = {
                "bias": 1.0,
                "w": word,
                "suf3": word[-3:],
                "suf2": word[-2:],
                "pre3": word[:3],
                "digit": word[:1].isdigit(),
                "cur": word in "£$€",
                "len": min(len(word), 8),
            }
            for mark in marks[j]:
                f[mark] = True
            for off in (-2, -1, 1, 2):
                k = j + off
                if 0 <= k < len(words):
                    f[f"{off}:w"] = words[k]
                    f[f"{off}:suf3"] = words[k][-3:]
                    for mark in marks[k]:
                        f[f"{off}:{mark}"] = True
                else:
                    f[f"{off}:edge"] = True
            feats.append(f)
        return feats

    # -- parsing ------------------------------------------------------------------------------
    def parse(self, text: str) -> Parse:
        model = self._model
        if model is None:
            raise RuntimeError("parse() before train()")
        text = clean(text)
        low = text.lower()
        if not any(ch.isalnum() for ch in low):
            return Parse(text=text, intent=IntentScore("out_of_scope", 0.0))
        probs = model.intents.predict_proba([low])[0]
        classes = model.intents.classes_
        ranking = sorted(
            (IntentScore(str(c), float(p)) for c, p in zip(classes, probs, strict=True)),
            key=lambda s: -s.confidence,
        )
        entities = self._entities(text, model)
        return Parse(text=text, intent=ranking[0], ranking=ranking[:10], entities=entities)

    def _entities(self, text: str, model: _Model) -> list[Entity]:
        toks = tokenize(text)
        if not toks or model.crf is None:
            return []
        feats = self._features(text, toks, model)
        labels = model.crf.predict_single(feats)
        marginals = model.crf.predict_marginals_single(feats)
        found: list[Entity] = []
        current: list[int] = []
        kind = ""

        def flush() -> None:
            if not current:
                return
            start, end = toks[current[0]][1], toks[current[-1]][2]
            literal = text[start:end]
            entity, _, role = kind.partition("#")
            conf = min(marginals[i].get(labels[i], 0.0) for i in current)
            value = model.synonyms.get(literal.lower()) or normalise(entity, literal)
            found.append(Entity(entity, value, start, end, conf, role or None, literal))

        for i, label in enumerate(labels):
            if label == "O":
                flush()
                current, kind = [], ""
                continue
            prefix, _, this = label.partition("-")
            if prefix == "B" or this != kind:
                flush()
                current, kind = [i], this
            else:
                current.append(i)
        flush()
        return found

    def close(self) -> None:
        self._model = None
