"""MuseScore 3's command line as the tests' independent reader of exported scores."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

MSCORE = shutil.which("mscore3")
needs_mscore = pytest.mark.skipif(MSCORE is None, reason="MuseScore 3 (mscore3) is not installed")


def assert_musescore_opens(src: Path, tmp_path: Path) -> None:
    """`mscore3 -o out.pdf src` succeeds, writes at least one PDF page and does not call
    the file invalid (it says "is not a valid MusicXML file" and exits 0 all the same)."""
    out = tmp_path / f"{src.stem}_{src.suffix.lstrip('.')}.pdf"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(tmp_path))
    proc = subprocess.run([MSCORE, "-o", str(out), str(src)], env=env, capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    said = proc.stdout + proc.stderr
    assert "not a valid" not in said, [line for line in said.splitlines() if "valid" in line]
    assert len(PdfReader(str(out)).pages) >= 1
