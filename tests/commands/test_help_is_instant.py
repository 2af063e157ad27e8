"""`clef X --help` answers without loading the model stack (torch took 7-8 s to import
before the arguments were parsed)."""

import subprocess
import sys
from pathlib import Path

from clef_app.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]


def test_every_subcommands_help_imports_no_torch():
    code = (
        "import contextlib, io, sys\n"
        "from clef_app.cli import main\n"
        "for name in sys.argv[1:]:\n"
        "    with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "        try:\n"
        "            main([name, '--help'])\n"
        "        except SystemExit as done:\n"
        "            assert done.code == 0, name\n"
        "    assert 'usage: clef ' + name in out.getvalue(), name\n"
        "print(sorted(m for m in ('torch', 'timm', 'torchaudio') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code, *COMMANDS], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
