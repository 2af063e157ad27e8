"""The `clef` command: the GUI with no arguments, headless subcommands otherwise.

Each subcommand is a module of `clef_app/commands/` providing `add_arguments(parser)` and
`run(args) -> int`; this module only parses and dispatches. A command module is imported only
when its subcommand runs, and imports the layers' heavy code (torch) only inside `run`, so
`clef --version` and `clef X --help` stay instant.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from clef_app import __version__
from clef_app.errors import ClefError, one_line

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "transcribe": ("clef_app.commands.transcribe",
                   "transcribe audio to MusicXML, MIDI, PDF, MEI or TSV"),
    "export": ("clef_app.commands.export", "convert notes (.mid/.tsv) to a score file"),
    "benchmark": ("clef_app.commands.benchmark", "measure the model's real-time factor"),
    "live-benchmark": ("clef_app.commands.live_benchmark", "live-input latency on a file"),
    "open-benchmark": ("clef_app.commands.open_benchmark",
                       "how fast the app opens a recording and at what memory cost"),
    "build-data": ("clef_app.commands.build_data", "render synthetic training data"),
    "cache": ("clef_app.commands.cache", "compute frozen encoder features for rendered data"),
    "train": ("clef_app.commands.train", "train the Clef model"),
    "eval": ("clef_app.commands.eval", "evaluate on a folder of audio + ground truth"),
    "peer-benchmark": ("clef_app.commands.peer_benchmark",
                       "wall time of `clef transcribe` against `basic-pitch`, file by file"),
    "ablate": ("clef_app.commands.ablate", "train and score each encoder kind the same way"),
    "score-eval": ("clef_app.commands.score_eval",
                   "measure score building on held-out corpus pieces"),
    "why": ("clef_app.commands.why", "PNG of where the model looked to write a note"),
    "adapt": ("clef_app.commands.adapt",
              "fine-tune the model on your corrected projects into a personal checkpoint"),
    "correction-eval": ("clef_app.commands.correction_eval",
                        "corrections Transcribe Again saves a simulated user"),
    "reread": ("clef_app.commands.reread",
               "transcribe a passage of a project again, keeping the notes you fixed"),
}


REPORT_OPTIONS = ("json", "markdown")  # options naming a file written after the work


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clef", description="Clef: recordings to sheet music")
    parser.add_argument("--version", action="version", version=f"clef {__version__}")
    parser.add_argument("audio", nargs="?", help="(GUI) a recording or project to open")
    return parser


def check_report_paths(args: argparse.Namespace) -> None:
    """Refuse unwritable report files (`--json`, `--markdown`) before the work, not after."""
    from clef_app.atomic import check_output

    for option in REPORT_OPTIONS:
        value = getattr(args, option, None)
        if value is not None:
            check_output(value)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        name = argv.pop(0)
        module_name, help_text = COMMANDS[name]
        sub = argparse.ArgumentParser(prog=f"clef {name}", description=help_text)
        module = importlib.import_module(module_name)
        module.add_arguments(sub)
        args = sub.parse_args(argv)
        try:
            check_report_paths(args)
            return int(module.run(args) or 0)
        except ClefError as exc:  # a file, an option or the machine: named in one line
            print(one_line(f"clef {name}: error: {exc}"), file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"clef {name}: interrupted", file=sys.stderr)
            return 130
        except Exception as exc:  # an unforeseen failure is still one line, not a traceback
            if os.environ.get("CLEF_DEBUG"):
                raise
            detail = one_line(f"{type(exc).__name__}: {exc}", 200)
            print(f"clef {name}: internal error: {detail} (CLEF_DEBUG=1 shows the traceback)",
                  file=sys.stderr)
            return 1
    parser = build_parser()
    parser.epilog = "subcommands:\n" + "\n".join(f"  {k:<12} {v[1]}" for k, v in COMMANDS.items())
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    args = parser.parse_args(argv)
    from clef_app.gui.app import run_gui

    return run_gui(args.audio)


if __name__ == "__main__":
    sys.exit(main())
