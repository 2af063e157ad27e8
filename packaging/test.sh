#!/usr/bin/env bash
# Sets Clef up (see setup.sh) and runs the test suite headless (Qt offscreen).
# Extra arguments go to pytest, e.g. `./packaging/test.sh tests/audio -x`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/packaging/setup.sh"
cd "$ROOT"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
exec "$ROOT/.venv/bin/python" -m pytest "$@"
