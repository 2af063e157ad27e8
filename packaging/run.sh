#!/usr/bin/env bash
# Sets Clef up (see setup.sh) and launches the app; with no argument it opens the bundled demo.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/packaging/setup.sh"
if [ $# -eq 0 ]; then
  set -- "$ROOT/resources/demo/demo.flac"  # the demo, whatever earlier runs left in QSettings
fi
exec "$ROOT/.venv/bin/clef" "$@"
