"""A stand-in assistant for attacks that could take the test run down with it: one call to one skill, in a process of its own.

    python tests/skills/run_host.py SITE DATA_DIR SKILL INTENT PARAMS_JSON [--exit-without-stop]

Prints one JSON line: the reply's speech or the error, and "alive" (this process outlived the call).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main() -> int:
    site, data_dir, name, intent, params = sys.argv[1:6]
    sys.path.insert(0, site)
    from assistant.errors import SkillError
    from assistant.sdk import Conversation, Request, ShopInfo
    from assistant.skills.isolation import SkillWorker
    from assistant.skills.registry import discover

    loaded = next(s for s in discover()[0] if s.name == name)
    worker = SkillWorker(loaded, Path(data_dir))
    shop = ShopInfo("GBP", True, None, "Home", 1, 10, 3)
    try:
        reply = worker.call(loaded.intents[intent], Request(intent, params), None, Conversation(), shop, [], {}, 10.0)
        result = {"speech": reply.speech}
    except SkillError as exc:
        result = {"error": str(exc)}
    print(json.dumps({**result, "alive": True}), flush=True)
    if "--exit-without-stop" in sys.argv:
        os._exit(0)  # as a crashed assistant would: no clean-up at all
    worker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
