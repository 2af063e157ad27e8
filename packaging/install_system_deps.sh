#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Clef and its tests need, without any prompt.
#
# What and why:
#   libportaudio2, libsndfile1             audio playback/recording (sounddevice), file reading (soundfile)
#   fluidsynth + three General MIDI fonts  rendering the demo, training data and score playback
#   musescore3                             a second engraver used to cross-check exports
#   xvfb, xauth                            a virtual display for running the GUI headless
#   pulseaudio, pulseaudio-utils,
#   libasound2-plugins                     a sound server (a null sink works on machines without sound cards)
#   libxkbcommon-x11-0 libxcb-* libgl1
#   libegl1 libfontconfig1 libdbus-1-3     what Qt's xcb platform plugin loads at start
#   imagemagick, poppler-utils             screenshots and reading PDFs back in tests
#   libcairo2, fonts-dejavu-core           score PDF export (cairosvg) and the tempo-mark note glyph
#   python3.11, python3.11-venv            only when no Python 3.11 with venv is found
#
# Skips apt entirely when everything is already installed. Uses sudo only when not root.
set -euo pipefail

PACKAGES=(
  libportaudio2 libsndfile1
  fluidsynth fluid-soundfont-gm timgm6mb-soundfont musescore-general-soundfont csound-soundfont
  musescore3
  xvfb xauth
  pulseaudio pulseaudio-utils libasound2-plugins
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
  libgl1 libegl1 libfontconfig1 libdbus-1-3
  imagemagick poppler-utils
  libcairo2 fonts-dejavu-core
)

python311_ok() {
  local py
  for py in "${PYTHON:-}" python3.11 python3; do
    [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import sys, ensurepip, venv; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      return 0
    fi
  done
  return 1
}

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "install_system_deps: not a Debian/Ubuntu system (no apt-get); install these by hand:" >&2
  echo "  ${PACKAGES[*]}" >&2
  exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done
if ! python311_ok; then
  missing+=(python3.11 python3.11-venv)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_system_deps: all ${#PACKAGES[@]} system packages already installed"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install_system_deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install_system_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q || echo "install_system_deps: apt-get update failed; trying the cached lists" >&2
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
echo "install_system_deps: done"
