"""Loading a class named "module:Class": the one loader for engines chosen by name in config."""

from __future__ import annotations

import importlib
from typing import Any

from assistant.errors import EngineNotAvailable


def load_target(spec: str, what: str) -> Any:
    """The object ``spec`` ("package.module:Name") names; EngineNotAvailable naming ``what`` if it can't load."""
    module, _, name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise EngineNotAvailable(f"{what} cannot be loaded ({exc})") from exc
