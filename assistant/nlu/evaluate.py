"""Score an NLU engine on a Rasa-format test file: intent accuracy, macro F1, entity F1, confusions."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sklearn.metrics import f1_score

from assistant.nlu.data import TrainingData
from assistant.nlu.parse import Parse


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

    def as_dict(self) -> dict:
        return {
            "examples": self.examples,
            "intent_accuracy": round(self.intent_accuracy, 4),
            "intent_macro_f1": round(self.intent_macro_f1, 4),
            "entity_f1": round(self.entity_f1, 4),
            "entity_precision": round(self.entity_precision, 4),
            "entity_recall": round(self.entity_recall, 4),
            "confusions": [{"expected": a, "predicted": b, "count": n} for a, b, n in self.confusions],
            "latency_ms_p50": round(self.latency_ms_p50, 2),
            "latency_ms_p95": round(self.latency_ms_p95, 2),
            "errors": self.errors,
        }

    def table(self) -> str:
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
        if self.confusions:
            out.append("worst confusions (expected -> predicted: count):")
            out += [f"  {a} -> {b}: {n}" for a, b, n in self.confusions]
        return "\n".join(out)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def evaluate(parse: Callable[[str], Parse], data: TrainingData, top_confusions: int = 8) -> Report:
    expected, predicted, latencies = [], [], []
    tp = fp = fn = 0
    errors = []
    for example in data.examples:
        start = time.perf_counter()
        result = parse(example.text)
        latencies.append((time.perf_counter() - start) * 1000)
        expected.append(example.intent)
        predicted.append(result.intent.name)
        gold = {(s.entity, s.start, s.end) for s in example.entities}
        got = {(e.entity, e.start, e.end) for e in result.entities}
        tp += len(gold & got)
        fp += len(got - gold)
        fn += len(gold - got)
        if example.intent != result.intent.name or gold != got:
            errors.append(
                {
                    "text": example.text,
                    "expected": example.intent,
                    "predicted": result.intent.name,
                    "confidence": round(result.intent.confidence, 3),
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
    return Report(
        n, accuracy, float(macro), f1, precision, recall,
        [(a, b, c) for (a, b), c in confusions.most_common(top_confusions)],
        errors, _percentile(latencies, 0.5), _percentile(latencies, 0.95),
    )  # fmt: skip
