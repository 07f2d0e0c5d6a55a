"""`rasa test nlu --cross-validation` for any engine: stratified folds, every example scored once."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sklearn.model_selection import StratifiedKFold

from assistant.errors import TrainingDataError
from assistant.nlu.data import TrainingData
from assistant.nlu.evaluate import Prediction, Report, predict, report
from assistant.nlu.parse import NluEngine

log = logging.getLogger(__name__)


@dataclass
class CrossValidation:
    """What K folds found, pooled: every example was held out exactly once."""

    folds: int
    predictions: list[Prediction]
    report: Report
    train_seconds: list[float]
    """Training time of each fold's model."""


def folds(data: TrainingData, k: int, seed: int = 1) -> list[tuple[TrainingData, TrainingData]]:
    """K (train, test) pairs stratified on the full intent (retrieval intents too), as Rasa splits."""
    labels = [e.full_intent for e in data.examples]
    smallest = min((labels.count(x) for x in set(labels)), default=0)
    if k < 2 or len(labels) < k:
        raise TrainingDataError(f"cross-validation needs at least 2 folds and {k} examples; got {len(labels)}")
    if smallest < k:
        log.warning("some intent has only %d example(s), fewer than the %d folds", smallest, k)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [
        (data.subset([data.examples[i] for i in train]), data.subset([data.examples[i] for i in test]))
        for train, test in splitter.split(labels, labels)
    ]


def cross_validate(
    data: TrainingData,
    make_engine: Callable[[], NluEngine],
    k: int = 5,
    cache_dir: Path | None = None,
    seed: int = 1,
    progress: Callable[[str], None] | None = None,
) -> CrossValidation:
    """Train a fresh engine on each fold's training part and parse its held-out part."""
    predictions: list[Prediction] = []
    seconds: list[float] = []
    with tempfile.TemporaryDirectory(prefix="crossval-") as scratch:
        base = Path(cache_dir) if cache_dir else Path(scratch)
        for i, (train, test) in enumerate(folds(data, k, seed), start=1):
            if progress:
                progress(f"fold {i}/{k}: training on {len(train.examples)}, testing on {len(test.examples)}")
            engine = make_engine()
            try:
                started = time.perf_counter()
                engine.train(train, base / f"fold-{i}")
                seconds.append(time.perf_counter() - started - getattr(engine, "startup_seconds", 0.0))
                predictions += predict(engine.parse, test.examples)
            finally:
                engine.close()
    return CrossValidation(k, predictions, report(predictions), seconds)
