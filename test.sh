#!/usr/bin/env bash
# Set up everything (idempotent, including voice packages and Rasa) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --test
echo "==> Running the tests (the store on SQLite)" >&2
.venv/bin/python -m pytest -q "$@"
if [ $# -eq 0 ]; then
  # the store, conversation and hub tests again with every store a database of a throwaway PostgreSQL
  echo "==> Running the store, conversation and hub tests on PostgreSQL" >&2
  .venv/bin/python -m pytest -q --store postgresql tests/store tests/dialogue tests/hub tests/test_purchase.py tests/test_app.py \
    tests/skills/test_access_log.py tests/wyoming/test_registry.py
fi
