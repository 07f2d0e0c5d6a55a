#!/usr/bin/env bash
# Set up (idempotent) and start the assistant: the voice loop where a microphone is present,
# otherwise text chat. Options are passed to scripts/setup.sh (e.g. --no-rasa, --no-voice).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh "$@"
if .venv/bin/assistant --help 2>/dev/null | grep -q "listen" && .venv/bin/python -c 'import sys
from assistant.audio.devices import has_microphone
sys.exit(0 if has_microphone() else 1)' 2>/dev/null; then
  exec .venv/bin/assistant listen
fi
echo "==> No microphone found: starting text chat instead (type what you would say)." >&2
exec .venv/bin/assistant chat
