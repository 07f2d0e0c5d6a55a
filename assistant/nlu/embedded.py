"""Engine `embedded`: an in-process intent classifier (scikit-learn) and entity tagger (CRF)."""

from __future__ import annotations

import logging
import pickle
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycrfsuite
import regex
import sklearn_crfsuite
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline

from assistant.errors import TrainingDataError
from assistant.nlu.cache import remove_stale_temporaries, write_atomically
from assistant.nlu.data import Span, TrainingData
from assistant.nlu.parse import Entity, IntentScore, Parse
from assistant.nlu.text import Token, clean, singular, tokenize
from assistant.nlu.values import normalise

__all__ = ["EmbeddedEngine", "clean"]  # clean stays importable from here for older callers

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
MODEL_VERSION = 7
REGEX_BUDGET_S = 0.05
"""All of a text's regexes together get this long: the data's regexes run with the ``regex``
package's time limit, so no pattern anyone writes can stall a turn or training (a 45-letter word
once hung start-up in the stdlib's ``re`` on ``(\\w+){16}#``)."""
EXTRACTOR = "EmbeddedCRFEntityExtractor"


def _intent_text(text: str) -> str:
    """What the intent classifier reads: case, control characters and spacing do not matter to it."""
    return clean(text).lower()


def _phrase_index(phrases: dict[str, str]) -> dict[tuple[str, ...], str]:
    """Tokenised phrase -> feature name, for lookup tables and synonyms."""
    index: dict[tuple[str, ...], str] = {}
    for phrase, name in phrases.items():
        toks = tuple(t.norm for t in tokenize(phrase))
        if toks:
            index[toks] = name
    return index


def _phrase_marks(text: str, toks: list[Token], model: _Model) -> list[set[str]]:
    """Per token: the lookup tables, synonyms (longest match first) and regexes it is part of."""
    words = [t.norm for t in toks]
    marks: list[set[str]] = [set() for _ in toks]
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
    deadline = time.monotonic() + REGEX_BUDGET_S
    for name, patterns in model.regexes.items():
        for pattern in patterns:
            try:
                matches = list(pattern.finditer(text, timeout=max(0.001, deadline - time.monotonic())))
            except TimeoutError:
                log.warning(
                    "regex %r of entity '%s' ran out of time on a %d-character text",
                    pattern.pattern[:80],
                    name,
                    len(text),
                )
                continue
            for match in matches:
                for j, tok in enumerate(toks):
                    if tok.start >= match.start() and tok.end <= match.end():
                        marks[j].add(f"regex:{name}")
    return marks


@dataclass
class _Model:
    version: int
    fingerprint: str
    intents: Any
    """The intent classifier (a scikit-learn pipeline with predict_proba)."""
    crf: sklearn_crfsuite.CRF | None
    phrases: dict[tuple[str, ...], str]
    max_phrase: int
    regexes: dict[str, list[regex.Pattern[str]]]
    synonyms: dict[str, str]
    vocab: dict[str, set[str]]
    """Lookup name -> the single words of its phrases (singular), to recognise unseen products."""
    selector: Any = None
    """Retrieval intents: a classifier over the full keys (``faq/ask_price``), or the one key there is."""
    retrieval_intents: tuple[str, ...] = ()
    roles: dict[str, Any] | None = None
    """Entity type -> a classifier of its role from the words around it (or the one role it has)."""


def _classifier() -> Any:
    return make_pipeline(
        FeatureUnion(
            [
                ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")),
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
            ]
        ),
        LogisticRegression(C=50.0, max_iter=3000, class_weight="balanced"),
    )


def _label(span: Span) -> str:
    """The tagger's label for an entity: its type and group (roles are told apart afterwards)."""
    return span.entity + (f"@{span.group}" if span.group else "")


def _unlabel(label: str) -> tuple[str, str | None]:
    entity, _, group = label.partition("@")
    return entity, group or None


NO_ROLE = "-"


def _role_context(text: str, start: int, end: int) -> str:
    """What tells a role apart ("from savings" / "to checking", "under £5" / "over £5"): the words
    just before the entity, marked by position, and the entity's own words."""
    before = [t.norm for t in tokenize(text[:start])][-3:]
    inside = [t.norm for t in tokenize(text[start:end])]
    after = [t.norm for t in tokenize(text[end:])][:2]
    return " ".join(
        [f"b{len(before) - i}_{w}" for i, w in enumerate(before)]
        + [f"in_{w}" for w in inside]
        + [f"a{i + 1}_{w}" for i, w in enumerate(after)]
    )


def _role_models(data: TrainingData) -> dict[str, Any]:
    """One role classifier per entity type that has roles; the tagger then learns each type once.

    Splitting a type by role left the tagger 12 examples of "price#max" and 3 of "price#min"
    instead of 18 of "price", and it missed "under sixty pounds" altogether.
    """
    samples: dict[str, list[tuple[str, str]]] = {}
    for example in data.examples:
        for span in example.entities:
            samples.setdefault(span.entity, []).append(
                (_role_context(example.text, span.start, span.end), span.role or NO_ROLE)
            )
    out: dict[str, Any] = {}
    for entity, pairs in samples.items():
        roles = {r for _, r in pairs}
        if roles == {NO_ROLE}:
            continue
        if len(roles) == 1:
            out[entity] = next(iter(roles))
            continue
        out[entity] = make_pipeline(
            TfidfVectorizer(token_pattern=r"\S+"), LogisticRegression(C=10.0, max_iter=2000)
        ).fit([c for c, _ in pairs], [r for _, r in pairs])
    return out


class EmbeddedEngine:
    """Trains in seconds from the same Rasa-format data as engine `rasa`; no server, no GPU."""

    name = "embedded"

    def __init__(self) -> None:
        self._model: _Model | None = None
        self._taggers = threading.local()
        """Each thread's own CRF tagger: one tagger keeps the sequence between tagging and marginals,
        so two parses at once on a shared one mixed ("The position, 4 is out of range of 2", and one
        user's entity confidences computed on another's sentence; 42 in 936 parses on 4 threads)."""

    # -- training -----------------------------------------------------------------------------
    def train(self, data: TrainingData, cache_dir: Path) -> None:
        if len(data.intents) < 2:
            raise TrainingDataError(
                "training data needs at least two intents; found " + ", ".join(data.intents or ["none"])
            )
        fingerprint = data.fingerprint(extra=("embedded", MODEL_VERSION))
        folder = Path(cache_dir) / "embedded"
        path = folder / f"{fingerprint}.pkl"
        remove_stale_temporaries(folder)
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
        write_atomically(path, pickle.dumps(self._model))
        log.info("trained NLU model %s", path)

    def _fit(self, data: TrainingData, fingerprint: str) -> _Model:
        """Train from scratch: intents, retrieval keys, entity tags and roles."""
        phrases: dict[str, str] = {}
        for name, values in data.lookups.items():
            for value in values:
                phrases[value] = f"lookup:{name}"
        for surface in data.synonyms:
            phrases.setdefault(surface, "synonym")
        index = _phrase_index(phrases)
        model = _Model(
            version=MODEL_VERSION,
            fingerprint=fingerprint,
            intents=None,
            crf=None,
            phrases=index,
            max_phrase=max((len(k) for k in index), default=0),
            regexes={name: [regex.compile(p, regex.I) for p in pats] for name, pats in data.regexes.items()},
            synonyms={k.lower(): v for k, v in data.synonyms.items()},
            vocab={
                name: {singular(t.norm) for v in values for t in tokenize(v) if len(t.text) > 2}
                for name, values in data.lookups.items()
            },
            retrieval_intents=tuple(data.retrieval_intents),
            roles=_role_models(data),
        )
        model.intents = _classifier().fit(
            [_intent_text(e.text) for e in data.examples], [e.intent for e in data.examples]
        )
        retrieval = [e for e in data.examples if e.response_key]
        keys = sorted({e.response_key for e in retrieval if e.response_key})
        if len(keys) == 1:
            model.selector = keys[0]
        elif keys:
            model.selector = _classifier().fit(
                [_intent_text(e.text) for e in retrieval], [e.response_key for e in retrieval]
            )

        sequences, tags = [], []
        for example in data.examples:
            edges = frozenset(b for s in example.entities for b in (s.start, s.end))
            toks = tokenize(example.text, edges)
            if not toks:
                continue
            sequences.append(self._features(example.text, toks, model, example.intent))
            tags.append(self._bio(toks, example.entities))
        if any(t != "O" for seq in tags for t in seq):
            crf = sklearn_crfsuite.CRF(
                algorithm="lbfgs", c1=0.05, c2=0.05, max_iterations=150, all_possible_transitions=True
            )
            crf.fit(sequences, tags)
            model.crf = crf
        return model

    @staticmethod
    def _bio(toks: list[Token], spans: tuple[Span, ...]) -> list[str]:
        out: list[str] = []
        for tok in toks:
            label = "O"
            for span in spans:
                if tok.start >= span.start and tok.end <= span.end:
                    kind = _label(span)
                    first = tok.start == span.start or not out or out[-1][2:] != kind
                    label = ("B-" if first else "I-") + kind
                    break
            out.append(label)
        return out

    @staticmethod
    def _features(text: str, toks: list[Token], model: _Model, intent: str) -> list[dict[str, object]]:
        words = [t.norm for t in toks]
        marks = _phrase_marks(text, toks, model)
        for j, word in enumerate(words):
            if word in _NUMBER_WORDS or word[:1].isdigit():
                marks[j].add("num")
            if word in _ORDINAL_WORDS or re.fullmatch(r"\d+(st|nd|rd|th)", word):
                marks[j].add("ord")
            if word in _CURRENCY_WORDS:
                marks[j].add("cur")
            for name, words_of in model.vocab.items():
                if singular(word) in words_of:
                    marks[j].add(f"vocab:{name}")
        feats = []
        for j, word in enumerate(words):
            raw = toks[j].text
            f: dict[str, object] = {
                "bias": 1.0,
                "w": word,
                "suf3": word[-3:],
                "suf2": word[-2:],
                "pre3": word[:3],
                "digit": word[:1].isdigit(),
                "cur": word in "£$€",
                "len": min(len(word), 8),
                "title": raw[:1].isupper(),
                "upper": raw.isupper() and len(raw) > 1,
                "glued": j > 0 and toks[j - 1].end == toks[j].start,
                # the sentence's intent: no product in "what commands do you understand" (help)
                f"intent={intent}": True,
                # an amount said with its currency is a price ("forty quid", "£10"), not a quantity
                "money": ("num" in marks[j] and j + 1 < len(words) and "cur" in marks[j + 1])
                or ("cur" in marks[j] and j + 1 < len(words) and "num" in marks[j + 1])
                or ("num" in marks[j] and j > 0 and "cur" in marks[j - 1]),
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
        """Rasa's /model/parse: ``text`` echoed as given, entity offsets into it, values as written."""
        model = self._model
        if model is None:
            raise RuntimeError("parse() before train()")
        selector = self._select(text, model) if model.retrieval_intents else None
        low = _intent_text(text)
        if not any(ch.isalnum() for ch in low):
            return Parse(text=text, intent=IntentScore("out_of_scope", 0.0), response_selector=selector)
        probs = model.intents.predict_proba([low])[0]
        classes = model.intents.classes_
        ranking = sorted(
            (IntentScore(str(c), float(p)) for c, p in zip(classes, probs, strict=True)),
            key=lambda s: -s.confidence,
        )
        entities = self._entities(text, model, ranking[0].name)
        return Parse(text=text, intent=ranking[0], ranking=ranking[:10], entities=entities, response_selector=selector)

    @staticmethod
    def _select(text: str, model: _Model) -> dict[str, Any]:
        """Rasa's ResponseSelector output (its "default" selector over every retrieval intent)."""
        if isinstance(model.selector, str):
            ranking = [(model.selector, 1.0)]
        else:
            probs = model.selector.predict_proba([_intent_text(text)])[0]
            ranking = sorted(zip(model.selector.classes_, probs, strict=True), key=lambda kv: -kv[1])[:10]
        key, confidence = ranking[0]
        return {
            "all_retrieval_intents": list(model.retrieval_intents),
            "default": {
                "response": {
                    # the answer texts live in the dialogue's responses, which NLU data does not
                    # carry; Rasa answers with the key itself in that case, and so do we
                    "responses": [{"text": str(key)}],
                    "confidence": round(float(confidence), 4),
                    "intent_response_key": str(key),
                    "utter_action": f"utter_{key}",
                },
                "ranking": [{"confidence": round(float(p), 4), "intent_response_key": str(k)} for k, p in ranking],
            },
        }

    def _entities(self, text: str, model: _Model, intent: str) -> list[Entity]:
        toks = tokenize(text)
        if not toks or model.crf is None:
            return []
        feats = self._features(text, toks, model, intent)
        tagger = self._tagger(model.crf)
        tagger.set(feats)
        labels = tagger.tag()
        confidences = [tagger.marginal(label, i) for i, label in enumerate(labels)]
        found: list[Entity] = []
        current: list[int] = []
        kind = ""

        def flush() -> None:
            if not current:
                return
            start, end = toks[current[0]].start, toks[current[-1]].end
            literal = text[start:end]
            entity, group = _unlabel(kind)
            role = self._role(model, entity, text, start, end)
            conf = min(confidences[i] for i in current)
            value = model.synonyms.get(literal.lower()) or normalise(entity, literal)
            found.append(Entity(entity, value, start, end, conf, role, literal, group, EXTRACTOR))

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

    def _tagger(self, crf: sklearn_crfsuite.CRF) -> pycrfsuite.Tagger:
        """This thread's tagger for ``crf``, opened from the model's file on first use."""
        local = self._taggers
        if getattr(local, "crf", None) is not crf:
            tagger = pycrfsuite.Tagger()
            tagger.open(crf.modelfile.name)
            local.crf, local.tagger = crf, tagger
        return local.tagger

    @staticmethod
    def _role(model: _Model, entity: str, text: str, start: int, end: int) -> str | None:
        found = (model.roles or {}).get(entity)
        if found is None:
            return None
        if not isinstance(found, str):
            found = str(found.predict([_role_context(text, start, end)])[0])
        return None if found == NO_ROLE else found

    def close(self) -> None:
        self._model = None
