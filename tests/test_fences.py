"""The layer fences of style.md: the GUI never imports the model stack, the model stack never Qt.

Imports are read with `ast` (including imports inside functions and string arguments of
`importlib.import_module`/`__import__`), so a lazy import cannot slip past.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "clef_app"

TORCH_STACK = {"torch", "torchaudio", "torchvision", "timm"}
QT_STACK = {"PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph"}

# layer -> top-level modules it must never import
FENCES: dict[str, set[str]] = {
    "gui": TORCH_STACK,
    "audio": QT_STACK,
    "model": QT_STACK,
    "notation": QT_STACK,
    "training": QT_STACK,
    "project": QT_STACK,
}


def imported_modules(source: str) -> set[str]:
    """Top-level names of every module a Python source imports, wherever the import is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value.split(".")[0])
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def test_import_parser_sees_every_form():
    source = (
        "import torch.nn as nn\n"
        "from timm import create_model\n"
        "def f():\n"
        "    import PySide6.QtCore\n"
        "    importlib.import_module('pyqtgraph.exporters')\n"
        "    __import__('torchaudio')\n"
        "from . import sibling\n"
    )
    assert imported_modules(source) == {"torch", "timm", "PySide6", "pyqtgraph", "torchaudio"}


@pytest.mark.parametrize("layer", sorted(FENCES))
def test_layer_respects_its_fence(layer):
    violations = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        bad = imported_modules(path.read_text(encoding="utf-8")) & FENCES[layer]
        violations += [f"{path.relative_to(PACKAGE.parent)} imports {name}" for name in sorted(bad)]
    assert not violations, "\n".join(violations)


def test_the_main_window_opens_without_loading_the_model_stack(tmp_path):
    """The model stack (torch, timm, torchvision, the checkpoint code) loads when a
    transcription runs, not when the window opens, opens a recording, draws its spectrogram,
    plays it or draws live input: torch alone costs a second and half a gigabyte."""
    import subprocess
    import sys

    code = ("import sys, time\n"
            "import numpy as np\n"
            "from clef_app.gui.app import make_application\n"
            "app = make_application()\n"
            "from clef_app.gui.main_window import MainWindow\n"
            "w = MainWindow(); w.show(); app.processEvents()\n"
            "from clef_app.gui.transcribe import find_model\n"
            "assert find_model()[0] is not None\n"
            "assert w.controller.open('resources/demo/demo.flac')\n"
            "deadline = time.monotonic() + 30\n"
            "while w.spectrogram.image.computing and time.monotonic() < deadline:\n"
            "    app.processEvents(); time.sleep(0.005)\n"
            "assert w.spectrogram.image.tiles, 'the spectrogram was not shown'\n"
            "w.playback.play(); app.processEvents(); w.playback.pause()\n"
            "from clef_app.audio.live import LiveSpectrogram\n"
            "assert LiveSpectrogram().push(np.zeros(4000, np.float32)).shape[0] > 0\n"
            "from clef_app.gui import workers\n"
            "while workers._RUNNING and time.monotonic() < deadline + 60:  # no job's thread\n"
            "    app.processEvents(); time.sleep(0.005)  # may outlive the script\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:])\n"
            "             | set(sys.modules) & {'clef_app.model.checkpoint',\n"
            "                'clef_app.model.clef_model', 'clef_app.model.frontend'}))\n")
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen",  # settings: not the user's
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "CLEF_RECOVERY_DIR": str(tmp_path / "rec")}
    out = subprocess.run([sys.executable, "-c", code, *sorted(TORCH_STACK)], capture_output=True,
                         text=True, env=env, timeout=120, cwd=PACKAGE.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
