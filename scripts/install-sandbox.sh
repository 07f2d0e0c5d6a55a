#!/usr/bin/env bash
# Installs bubblewrap, the OS sandbox every third-party skill runs in, idempotently (Debian,
# Raspberry Pi OS). Without it third-party skills are refused unless config.yml says
# `skills_unsandboxed: true` (see docs/skills.md).
set -euo pipefail
step() { printf '==> %s\n' "$*" >&2; }

if command -v bwrap >/dev/null; then
  step "The skill sandbox (bubblewrap) is installed"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  step "No apt-get here: install bubblewrap with your package manager, or third-party skills stay off"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
step "Installing the skill sandbox (Debian package bubblewrap)"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null \
  || { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
       && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null; }
