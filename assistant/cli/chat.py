"""`assistant chat`: the text conversation."""

from __future__ import annotations

import argparse
import logging
import sys

from assistant.cli.common import _app, _emit, _texts

log = logging.getLogger("assistant")


def cmd_chat(args: argparse.Namespace) -> int:
    interactive = sys.stdin.isatty() and not args.json
    if interactive:
        print("Starting the assistant (the first start trains the language model)...", file=sys.stderr)
    app = _app(args)
    conversation = app.conversation(user=getattr(args, "user", None))
    try:
        if interactive:
            print("Type what you would say; Ctrl-D or 'goodbye' to leave.\n")
            while True:
                try:
                    text = input("you> ")
                except (EOFError, KeyboardInterrupt):
                    print()
                    break
                turn = conversation.handle(text)
                print(f"assistant> {turn.reply}\n")
                if turn.end:
                    break
            return 0
        for text in _texts(args):
            turn = conversation.handle(text)
            if args.json:
                _emit(turn.to_json())
            else:
                print(turn.reply, flush=True)
    finally:
        app.close()
    return 0
