"""`assistant models ...`: Vosk speech models."""

from __future__ import annotations

import argparse
import logging

from assistant.cli.common import _data_dir

log = logging.getLogger("assistant")


def cmd_models_install(args: argparse.Namespace) -> int:
    from assistant.stt.models import install

    folder = install(args.source, _data_dir(args), progress=not args.quiet)
    print(f"Installed {folder.name} in {folder}.")
    print("It is used when voice.stt.engine is vosk (an English model also when the engine is not set).")
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    from assistant.stt.models import installed, model_list

    if args.available:
        for m in model_list():
            size = f"{m.size / 1e6:.0f} MB" if m.size else "?"
            print(f"{m.name}  ({m.lang}, {size})")
        return 0
    models = installed(_data_dir(args))
    if not models:
        print("No Vosk models installed. See them with: assistant models list --available")
    for name, folder, lang in models:
        print(f"{name}  ({lang})  {folder}")
    return 0
