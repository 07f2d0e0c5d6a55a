#!/usr/bin/env bash
# Installs Rasa 3.6.21 (the last open-source release) into ./.venv-rasa, apart from the assistant's
# own environment: Rasa pins pydantic 1, numpy 1.23 and TensorFlow 2.12.
#
# Rasa's metadata says Python < 3.11, but it runs on 3.11: install rasa and rasa-sdk without their
# dependencies, then install those dependencies (their requirements evaluated as for Python 3.10)
# from scripts/rasa-lock.txt, the fully resolved set, so every machine gets the same environment.
# Re-running is a no-op once the lock's hash is recorded in .venv-rasa/.installed.
#
# Raspberry Pi (arm64): Rasa's metadata asks for tensorflow-cpu-aws there; replace the
# tensorflow / tensorflow-io-gcs-filesystem lines of the lock with tensorflow-cpu-aws==2.12.0, or
# run without Rasa (./run.sh --no-rasa): the default engine 'embedded' is built for the Pi.
#
#   scripts/install-rasa.sh            install (idempotent)
#   scripts/install-rasa.sh --relock   resolve afresh and rewrite scripts/rasa-lock.txt
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=".venv-rasa"
LOCK="scripts/rasa-lock.txt"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
step() { printf '==> %s\n' "$*" >&2; }

lock_hash="$(sha256sum "$LOCK" 2>/dev/null | cut -c1-16 || echo none)"
if [ "${1:-}" != "--relock" ] && [ -f "$VENV/.installed" ] && [ "$(cat "$VENV/.installed")" = "$lock_hash" ]; then
  step "Rasa is installed in $VENV"
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  step "Creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check "$@"; }
pip install --quiet --upgrade "pip<25" "setuptools<70" wheel

if [ "${1:-}" = "--relock" ] || [ ! -f "$LOCK" ]; then
  step "Resolving Rasa 3.6.21's dependencies for Python 3.11 (a few minutes)"
  pip install --quiet --no-deps --ignore-requires-python rasa==3.6.21 rasa-sdk==3.6.2
  reqs="$(mktemp)"
  "$VENV/bin/python" - "$reqs" <<'PY'
import sys
from importlib.metadata import requires
from packaging.requirements import Requirement
env = {"python_version": "3.10", "python_full_version": "3.10.13", "extra": ""}
out = []
for dist in ("rasa", "rasa-sdk"):
    for raw in requires(dist) or []:
        req = Requirement(raw)
        if req.marker and not req.marker.evaluate(env):
            continue
        req.marker = None
        if req.name.lower() == "matplotlib":
            req = Requirement("matplotlib>=3.6,<3.8")  # <3.6 has no cp311 wheel
        out.append(str(req))
out += ["numpy==1.23.5", "scipy==1.10.1", "scikit-learn==1.1.3", "dask==2022.10.2"]
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
  pip install --quiet -r "$reqs"
  rm -f "$reqs"
  pip freeze --exclude-editable | grep -v -E '^(rasa|rasa-sdk)==' > "$LOCK"
  lock_hash="$(sha256sum "$LOCK" | cut -c1-16)"
  step "Wrote $LOCK ($(wc -l < "$LOCK") packages)"
else
  step "Installing Rasa 3.6.21 into $VENV from $LOCK (about 4 minutes the first time)"
  pip install --quiet --no-deps -r "$LOCK"
  pip install --quiet --no-deps --ignore-requires-python rasa==3.6.21 rasa-sdk==3.6.2
fi

"$VENV/bin/rasa" --version >/dev/null 2>&1 || { echo "install-rasa: rasa does not start in $VENV; see the messages above" >&2; exit 1; }
echo "$lock_hash" > "$VENV/.installed"
step "Rasa $("$VENV/bin/python" -c 'import rasa; print(rasa.__version__)') is ready in $VENV"
