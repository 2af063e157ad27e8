"""The installed `clef` entry point."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from clef_app import __version__


def _clef() -> str:
    beside = Path(sys.executable).parent / "clef"
    found = str(beside) if beside.exists() else shutil.which("clef")
    assert found, "the `clef` entry point is not installed (pip install -e .)"
    return found


def test_version_prints_and_exits_zero():
    done = subprocess.run([_clef(), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"clef {__version__}"


def test_version_does_not_load_the_model_or_gui_stack():
    code = (
        "import sys; from clef_app.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'torch', 'PySide6', 'timm', 'music21'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_unknown_option_fails_with_usage():
    done = subprocess.run([_clef(), "--no-such-option"], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "usage: clef" in done.stderr
