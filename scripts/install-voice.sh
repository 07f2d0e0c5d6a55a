#!/usr/bin/env bash
# Installs what speech needs, idempotently: Debian's espeak-ng (speech synthesis) and PortAudio
# (sound devices), then the Python speech packages into ./.venv. Works with no stdin (CI).
# With --test, also a user-mode PulseAudio and its ALSA plugin: the tests' virtual microphone and
# speaker for the live listening loop (no sound card needed).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '==> %s\n' "$*" >&2; }

APT_PACKAGES=(espeak-ng libespeak-ng1 libportaudio2 libatomic1)  # libatomic1: vosk's arm64 library needs it
[ "${1:-}" = "--test" ] && APT_PACKAGES+=(pulseaudio pulseaudio-utils libasound2-plugins pocketsphinx-testdata)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  step "Installing Debian packages: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  step "Debian speech packages are installed"
fi

stamp=".venv/.voice-$(sha256sum scripts/voice-requirements.txt | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  step "Installing speech packages into ./.venv (Whisper tiny.en, Vosk, PocketSphinx, microWakeWord, pyttsx3, sounddevice)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/voice-requirements.txt
  rm -f .venv/.voice-*
  touch "$stamp"
else
  step "Speech packages are up to date"
fi
