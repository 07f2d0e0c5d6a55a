"""Score an NLU engine on Rasa-format examples: accuracy, per-intent F1, entity F1, confusions, Rasa's reports."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklearn.metrics import classification_report, confusion_matrix, f1_score

from assistant.nlu.data import Example, Span, TrainingData
from assistant.nlu.parse import Entity, Parse
from assistant.nlu.text import tokenize

NO_ENTITY = "no_entity"
"""Rasa's label for a token outside every entity."""


@dataclass(frozen=True)
class Prediction:
    """One example and what the engine made of it."""

    example: Example
    parse: Parse
    latency_ms: float


@dataclass
class Report:
    examples: int
    intent_accuracy: float
    intent_macro_f1: float
    entity_f1: float
    entity_precision: float
    entity_recall: float
    confusions: list[tuple[str, str, int]] = field(default_factory=list)
    """(expected, predicted, count), worst first."""
    errors: list[dict] = field(default_factory=list)
    latency_ms_p50: float = 0.0
    latency_ms_p95: float = 0.0
    per_intent: dict[str, dict[str, float]] = field(default_factory=dict)
    """intent -> precision, recall, f1-score, support (sklearn's classification_report)."""

    def as_dict(self) -> dict:
        return {
            "examples": self.examples,
            "intent_accuracy": round(self.intent_accuracy, 4),
            "intent_macro_f1": round(self.intent_macro_f1, 4),
            "entity_f1": round(self.entity_f1, 4),
            "entity_precision": round(self.entity_precision, 4),
            "entity_recall": round(self.entity_recall, 4),
            "per_intent": {k: {m: round(v, 4) for m, v in row.items()} for k, row in self.per_intent.items()},
            "confusions": [{"expected": a, "predicted": b, "count": n} for a, b, n in self.confusions],
            "latency_ms_p50": round(self.latency_ms_p50, 2),
            "latency_ms_p95": round(self.latency_ms_p95, 2),
            "errors": self.errors,
        }

    def table(self, per_intent: bool = False) -> str:
        rows = [
            ("examples", str(self.examples)),
            ("intent accuracy", f"{self.intent_accuracy:.3f}"),
            ("intent macro F1", f"{self.intent_macro_f1:.3f}"),
            (
                "entity F1",
                f"{self.entity_f1:.3f} (P {self.entity_precision:.3f}, R {self.entity_recall:.3f})",
            ),
            ("parse latency p50/p95", f"{self.latency_ms_p50:.1f} / {self.latency_ms_p95:.1f} ms"),
        ]
        out = [f"{k:<24} {v}" for k, v in rows]
        if per_intent and self.per_intent:
            width = max(len(k) for k in self.per_intent) + 2
            out.append(f"{'intent':<{width}} precision  recall  f1     support")
            for name, row in sorted(self.per_intent.items()):
                out.append(
                    f"{name:<{width}} {row['precision']:.3f}      {row['recall']:.3f}   "
                    f"{row['f1-score']:.3f}  {int(row['support'])}"
                )
        if self.confusions:
            out.append("worst confusions (expected -> predicted: count):")
            out += [f"  {a} -> {b}: {n}" for a, b, n in self.confusions]
        if per_intent and self.errors:
            out.append(f"misses ({len(self.errors)}):")
            for err in self.errors[:20]:
                what = f"{err['expected']} -> {err['predicted']}" if err["expected"] != err["predicted"] else "entities"
                out.append(f"  {err['text']!r}: {what}")
        return "\n".join(out)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def predict(parse: Callable[[str], Parse], examples: Iterable[Example]) -> list[Prediction]:
    out = []
    for example in examples:
        start = time.perf_counter()
        result = parse(example.text)
        out.append(Prediction(example, result, (time.perf_counter() - start) * 1000))
    return out


def report(predictions: list[Prediction], top_confusions: int = 8) -> Report:
    """The summary: intent accuracy and F1, exact-span entity F1, worst confusions, every miss."""
    expected = [p.example.intent for p in predictions]
    predicted = [p.parse.intent.name for p in predictions]
    tp = fp = fn = 0
    errors = []
    for p in predictions:
        gold = {(s.entity, s.start, s.end) for s in p.example.entities}
        got = {(e.entity, e.start, e.end) for e in p.parse.entities}
        tp += len(gold & got)
        fp += len(got - gold)
        fn += len(gold - got)
        if p.example.intent != p.parse.intent.name or gold != got:
            errors.append(
                {
                    "text": p.example.text,
                    "expected": p.example.intent,
                    "predicted": p.parse.intent.name,
                    "confidence": round(p.parse.intent.confidence, 3),
                    "missed_entities": sorted(gold - got),
                    "extra_entities": sorted(got - gold),
                }
            )
    n = len(expected)
    accuracy = sum(a == b for a, b in zip(expected, predicted, strict=True)) / n if n else 0.0
    labels = sorted(set(expected))
    macro = f1_score(expected, predicted, labels=labels, average="macro", zero_division=0) if n else 0.0
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    confusions = Counter((a, b) for a, b in zip(expected, predicted, strict=True) if a != b)
    per_intent = (
        {k: v for k, v in intent_report(predictions).items() if k in labels and isinstance(v, dict)} if n else {}
    )
    latencies = [p.latency_ms for p in predictions]
    return Report(
        n, accuracy, float(macro), f1, precision, recall,
        [(a, b, c) for (a, b), c in confusions.most_common(top_confusions)],
        errors, _percentile(latencies, 0.5), _percentile(latencies, 0.95),
        {k: {m: float(x) for m, x in row.items() if m != "confused_with"} for k, row in per_intent.items()},
    )  # fmt: skip


def evaluate(parse: Callable[[str], Parse], data: TrainingData, top_confusions: int = 8) -> Report:
    """Parse every example of ``data`` and score the answers."""
    return report(predict(parse, data.examples), top_confusions)


# -- Rasa's report files ------------------------------------------------------------------------
def _complete(found: dict[str, Any], accuracy: float) -> dict[str, Any]:
    """As Rasa does: a report without "micro avg" gets one equal to the accuracy."""
    if "accuracy" in found and "micro avg" not in found:
        found["micro avg"] = {
            "precision": accuracy,
            "recall": accuracy,
            "f1-score": accuracy,
            "support": found["macro avg"]["support"],
        }
    return found


def _classification_report(targets: list[str], predictions: list[str], exclude: str | None = None) -> dict:
    labels = sorted({t for t in targets if t != exclude})
    if not labels:
        return {}
    found = classification_report(targets, predictions, labels=labels, output_dict=True, zero_division=0)
    accuracy = sum(a == b for a, b in zip(targets, predictions, strict=True)) / len(targets)
    return _complete(found, accuracy)


def intent_report(predictions: list[Prediction]) -> dict[str, Any]:
    """Rasa's ``intent_report.json``: sklearn's classification report, each intent with ``confused_with``."""
    targets = [p.example.intent for p in predictions]
    predicted = [p.parse.intent.name for p in predictions]
    found = _classification_report(targets, predicted)
    labels = sorted(set(targets) | set(predicted))
    matrix = confusion_matrix(targets, predicted, labels=labels)
    for i, label in enumerate(labels):
        if label not in found:
            continue
        # as Rasa picks them: of the three largest cells in the row, those that are mistakes
        row = sorted(((int(matrix[i, j]), labels[j]) for j in range(len(labels))), reverse=True)[:3]
        found[label]["confused_with"] = {name: count for count, name in row if count > 0 and name != label}
    return found


def _token_label(start: int, end: int, entities: Iterable[Span | Entity]) -> str:
    """Rasa's token label: ``entity[.group][.role]`` of the entity overlapping the token most."""
    best, overlap = None, 0
    for e in entities:
        common = min(end, e.end) - max(start, e.start)
        if common > overlap:
            best, overlap = e, common
    if best is None:
        return NO_ENTITY
    return ".".join(x for x in (best.entity, best.group, best.role) if x)


def entity_reports(predictions: list[Prediction], extractor: str = "") -> dict[str, dict[str, Any]]:
    """Rasa's ``<extractor>_report.json`` per extractor: token-level labels, ``no_entity`` left out."""
    extractors = sorted({e.extractor or extractor for p in predictions for e in p.parse.entities}) or [extractor]
    out = {}
    for name in extractors:
        targets, predicted = [], []
        for p in predictions:
            mine = [e for e in p.parse.entities if (e.extractor or extractor) == name]
            for tok in tokenize(p.example.text):
                targets.append(_token_label(tok.start, tok.end, p.example.entities))
                predicted.append(_token_label(tok.start, tok.end, mine))
        out[name] = _classification_report(targets, predicted, exclude=NO_ENTITY)
    return out


def write_reports(predictions: list[Prediction], directory: Path, extractor: str) -> list[Path]:
    """Write ``intent_report.json``, one ``<extractor>_report.json`` each, and ``intent_errors.json``."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {"intent_report.json": intent_report(predictions)}
    for name, found in entity_reports(predictions, extractor).items():
        files[f"{name}_report.json"] = found
    files["intent_errors.json"] = [
        {
            "text": p.example.text,
            "intent": p.example.intent,
            "intent_prediction": {"name": p.parse.intent.name, "confidence": p.parse.intent.confidence},
        }
        for p in predictions
        if p.example.intent != p.parse.intent.name
    ]
    written = []
    for filename, content in files.items():
        path = directory / filename
        path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
