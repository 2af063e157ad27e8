"""Imports run downward: `cli` parses and dispatches to `commands/`, commands call the layers
(audio, model, notation, training, project), and no layer reaches back up; `clef X --help`
parses without importing torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "clef_app"
LAYERS = ("audio", "model", "notation", "training", "project")
UPPER = ("clef_app.cli", "clef_app.commands", "clef_app.gui")
KNOWN_UPWARD: set[str] = set()  # layer modules allowed to import upward: none


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_layer_imports_the_cli_the_commands_or_the_gui():
    upward = []
    for layer in LAYERS:
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            name = str(path.relative_to(PACKAGE))
            bad = {m for m in imports_of(path) if m.startswith(UPPER)}
            if bad and name not in KNOWN_UPWARD:
                upward.append(f"{name} imports {', '.join(sorted(bad))}")
    assert not upward, "\n".join(upward)


def test_only_the_cli_dispatches_to_commands_and_every_subcommand_is_one():
    from clef_app.cli import COMMANDS

    for path in sorted(PACKAGE.rglob("*.py")):
        name = str(path.relative_to(PACKAGE))
        if name.startswith("commands/") or name in ("cli.py", "__main__.py"):
            continue
        assert not {m for m in imports_of(path) if m.startswith("clef_app.commands")}, name
    assert all(module.startswith("clef_app.commands.") for module, _ in COMMANDS.values()), \
        COMMANDS


def test_help_of_every_subcommand_parses_without_torch():
    """Measured before: 7-8 s for benchmark, cache, train and ablate --help on a busy CPU."""
    code = ("import sys\n"
            "from clef_app.cli import COMMANDS, main\n"
            "for name in COMMANDS:\n"
            "    try:\n"
            "        main([name, '--help'])\n"
            "    except SystemExit:\n"
            "        pass\n"
            "    if 'torch' in sys.modules:\n"
            "        print('TORCH', name, file=sys.stderr)\n"
            "        break\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "TORCH" not in done.stderr, done.stderr.strip().splitlines()[-1]
