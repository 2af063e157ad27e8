"""`clef export NOTES -o OUT`: notes (.mid or .tsv) to a score (.musicxml, .mid, .pdf, .mei).

A .mid output holds the notes in the recording's time unless `--midi score` asks for the
quantised score's MIDI (the app's two choices, "MIDI (recording's time)" and "MIDI (score)").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clef_app.errors import CommandError

IN_SUFFIXES = (".mid", ".midi", ".tsv", ".txt")
MIDI_KINDS = ("recording", "score")  # --midi: the app's "MIDI (recording's time)", "MIDI (score)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("notes", type=Path, help="notes: a MIDI file or onset/offset/pitch TSV")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="score file: .musicxml, .mid, .pdf or .mei")
    p.add_argument("--tempo", type=float, default=None, help="quarter notes per minute")
    p.add_argument("--meter", default=None, help="time signature, e.g. 3/4")
    p.add_argument("--key", default=None, help='key, e.g. "D major" or "F# minor"')
    p.add_argument("--grid", default="auto", help="auto, 1/8, 1/16, 1/32, 1/12 or 1/24")
    p.add_argument("--split", default="auto", help="auto or a MIDI pitch splitting the hands")
    p.add_argument("--midi", choices=MIDI_KINDS, default="recording",
                   help="what a .mid output holds: 'recording' (default), the notes at their "
                        "times in the recording; 'score', the quantised score, its first "
                        "downbeat at the recording's and a tempo event at every tracked beat")
    add_title_arguments(p)


def add_title_arguments(p: argparse.ArgumentParser) -> None:
    """--title, --composer and --page-size: what the score's title block and pages say."""
    p.add_argument("--title", default="", help="title of the score (MusicXML, MEI, PDF)")
    p.add_argument("--composer", default="", help="composer named on the score")
    p.add_argument("--page-size", default="", metavar="SIZE",
                   help="PDF pages: A4 or Letter (default: the locale's, from LC_PAPER/LANG)")


def title_settings(args: argparse.Namespace) -> dict:
    """The score settings of --title, --composer and --page-size (CommandError if bad)."""
    from clef_app.notation.settings import check_page_size

    try:
        size = check_page_size(args.page_size)
    except ValueError as exc:
        raise CommandError(f"--page-size {args.page_size}: {exc}") from exc
    return {"title": args.title, "composer": args.composer, "page_size": size}


def settings_from_args(args: argparse.Namespace) -> dict:
    """The score settings the options give, each checked (CommandError naming the option)."""
    from clef_app.notation.settings import ScoreSettings

    settings: dict = {"grid": args.grid, **title_settings(args)}
    given = {"--tempo": ("tempo", args.tempo), "--meter": ("meter", args.meter),
             "--key": ("key", args.key), "--split": ("split", args.split),
             "--grid": ("grid", args.grid)}
    for option, (key, value) in given.items():
        if value is None or (key == "split" and value == "auto"):
            continue
        one = {key: value} if key in ("split", "grid") else {key: [(1, value)]}
        try:
            ScoreSettings.from_dict(one)
        except (ValueError, TypeError) as exc:
            raise CommandError(f"{option} {value}: {exc}") from exc
        settings.update(one)
    return settings


def midi_kind(choice: str, output: Path) -> str | None:
    """The exporter's kind for `--midi` ("midi_score" or None); CommandError when `score` is
    asked of an output that is not MIDI."""
    if choice != "score":
        return None
    if output.suffix.lower() not in (".mid", ".midi"):
        raise CommandError(f"--midi score: {output.name} is not a .mid file")
    return "midi_score"


def read_notes(path: Path) -> list:
    from clef_app.notation.events import read_notes_tsv
    from clef_app.notation.midi_io import read_midi_notes

    suffix = path.suffix.lower()
    if suffix not in IN_SUFFIXES:
        raise CommandError(f"cannot read notes from {path.name}: use .mid or .tsv")
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    return read_midi_notes(path) if suffix in (".mid", ".midi") else read_notes_tsv(path)


def run(args: argparse.Namespace) -> int:
    from clef_app.atomic import check_output
    from clef_app.notation.export import SUFFIXES, ExportError, export_steps
    from clef_app.notation.steps import run_to_end

    check_output(args.output, SUFFIXES)
    kind = midi_kind(args.midi, args.output)
    settings = settings_from_args(args)
    notes = read_notes(args.notes)
    if not notes:
        raise CommandError(f"{args.notes.name}: no notes")
    show = sys.stderr.isatty()  # progress for a person watching, not for a log
    try:
        run_to_end(export_steps(notes, settings, args.output, kind=kind),
                   _progress if show else None)
    except (ExportError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    finally:
        if show:
            print(file=sys.stderr)
    print(f"{len(notes)} notes -> {args.output}")
    return 0


def _progress(fraction: float) -> None:
    print(f"\rexporting: {100 * fraction:3.0f} %", end="", file=sys.stderr, flush=True)
