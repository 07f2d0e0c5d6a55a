#!/usr/bin/env bash
# Set up everything (idempotent, including voice packages and Rasa) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --test
echo "==> Running the tests" >&2
exec .venv/bin/python -m pytest -q "$@"
