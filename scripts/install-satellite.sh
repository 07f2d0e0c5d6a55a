#!/usr/bin/env bash
# Installs wyoming-satellite 1.0.0 (the program a Raspberry Pi runs in each room) into ./.venv-satellite,
# apart from the assistant's environment: it pins wyoming 1.4.1 (the same JSONL protocol as the
# assistant's 1.10). The Wyoming tests and bench/wyoming.py run it as a real satellite process.
# Re-running is a no-op once it is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=".venv-satellite"
VERSION="1.0.0"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
step() { printf '==> %s\n' "$*" >&2; }

if [ -f "$VENV/.installed" ] && [ "$(cat "$VENV/.installed")" = "$VERSION" ]; then
  step "wyoming-satellite $VERSION is installed in $VENV"
  exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
  step "Creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
step "Installing wyoming-satellite $VERSION into $VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "wyoming-satellite==$VERSION"
"$VENV/bin/python" -m wyoming_satellite --help >/dev/null || { echo "install-satellite: wyoming-satellite does not start in $VENV" >&2; exit 1; }
echo "$VERSION" > "$VENV/.installed"
step "wyoming-satellite $VERSION is ready in $VENV"
