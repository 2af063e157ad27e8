#!/usr/bin/env bash
# Sets Clef up in this checkout: system packages, then a virtualenv `.venv` in the project
# root with `pip install -e .[test]`. Safe to run again: it does nothing slow when the venv
# already matches pyproject.toml (a stamp holds pyproject's hash, the Python and the path).
#
# Environment: PYTHON=/path/to/python3.11 picks the interpreter; CLEF_SKIP_SYSTEM_DEPS=1
# skips the apt step (for machines set up by other means).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.clef-setup-stamp"

if [ "${CLEF_SKIP_SYSTEM_DEPS:-0}" != "1" ]; then
  "$ROOT/packaging/install_system_deps.sh"
fi

find_python() {
  local py
  for py in "${PYTHON:-}" python3.11 python3; do
    [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import sys, ensurepip, venv; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      command -v "$py"
      return 0
    fi
  done
  return 1
}

if [ ! -x "$VENV/bin/python" ]; then
  PY="$(find_python)" || { echo "setup: Clef needs Python 3.11 (set PYTHON=...)" >&2; exit 1; }
  echo "setup: creating $VENV with $PY"
  "$PY" -m venv "$VENV"
fi

want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1) $("$VENV/bin/python" -V 2>&1) $ROOT"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && "$VENV/bin/python" -c "import clef_app" 2>/dev/null; then
  echo "setup: $VENV is up to date"
  exit 0
fi

echo "setup: installing Clef and its Python dependencies into $VENV"
"$VENV/bin/python" -m pip install -q -e "$ROOT[test]"
"$VENV/bin/python" -c "import clef_app, torch, timm, PySide6" \
  || { echo "setup: the installed packages do not import" >&2; exit 1; }
echo "$want" > "$STAMP"
echo "setup: done"
