#!/usr/bin/env bash
# Sets up everything the assistant needs, idempotently: ./.venv, the voice packages, the Rasa
# environment, and a trained language model. Re-running it only does what is missing.
#
#   scripts/setup.sh [--no-rasa] [--no-voice] [--test]
#     --no-rasa   skip the Rasa environment (~1.5 GB; e.g. on a small Raspberry Pi)
#     --no-voice  skip speech packages (text chat only)
#     --test      also install the test tools (pytest, hypothesis, ruff)
set -euo pipefail
cd "$(dirname "$0")/.."

WANT_RASA=1 WANT_VOICE=1 WANT_TEST=0
for arg in "$@"; do
  case "$arg" in
    --no-rasa) WANT_RASA=0 ;;
    --no-voice) WANT_VOICE=0 ;;
    --test) WANT_TEST=1 ;;
    *) echo "setup: unknown option $arg (use --no-rasa, --no-voice, --test)" >&2; exit 2 ;;
  esac
done

step() { printf '==> %s\n' "$*" >&2; }

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      PYTHON="$candidate"; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  echo "setup: Python 3.11 is needed (apt-get install python3.11 python3.11-venv), or set PYTHON=/path/to/python3.11" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  # Debian splits venv's ensurepip into python3-venv, which a minimal Debian or Raspberry Pi OS may lack
  if ! "$PYTHON" -c 'import ensurepip' 2>/dev/null && command -v apt-get >/dev/null; then
    step "Installing Debian's python3-venv (venv needs it to put pip in ./.venv)"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null 2>&1 \
      || { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
           && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null; }
  fi
  step "Creating ./.venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi

extras="test"
[ "$WANT_TEST" = 1 ] || extras=""
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)-${extras:-base}"
if [ ! -f "$stamp" ]; then
  step "Installing the assistant into ./.venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
  rm -f .venv/.installed-*
  touch "$stamp"
else
  step "./.venv is up to date"
fi

scripts/install-sandbox.sh

if [ "$WANT_VOICE" = 1 ]; then
  if [ -x scripts/install-voice.sh ]; then
    if [ "$WANT_TEST" = 1 ]; then scripts/install-voice.sh --test; else scripts/install-voice.sh; fi
  fi
fi

if [ "$WANT_TEST" = 1 ] && [ -x scripts/install-satellite.sh ]; then
  scripts/install-satellite.sh   # the real wyoming-satellite program the Wyoming tests drive
fi

if [ "$WANT_RASA" = 1 ]; then
  if [ -x scripts/install-rasa.sh ]; then
    scripts/install-rasa.sh
  fi
else
  step "Skipping Rasa (--no-rasa): engine 'embedded' is used; run scripts/install-rasa.sh later to add it"
fi

if [ "$WANT_TEST" = 1 ] && ! command -v chromium >/dev/null; then
  step "Installing Debian's Chromium (the companion page's browser tests)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get install -y chromium >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y chromium >/dev/null; }
fi

if [ "$WANT_TEST" = 1 ] && { ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v haproxy >/dev/null; }; then
  step "Installing Debian's PostgreSQL and HAProxy (the store's tests run on PostgreSQL too, the hub's replicas behind HAProxy; no server is left running)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  # the package would start a cluster of its own; the tests start throwaway ones instead
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    $SUDO sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'; made_policy=1
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql haproxy >/dev/null 2>&1 \
    || { $SUDO apt-get update -qq >/dev/null && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql haproxy >/dev/null; }
  if [ "$made_policy" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
fi

step "Training the language model (cached after the first time)"
.venv/bin/assistant nlu train --engine embedded >&2
step "Set-up complete"
