"""`clef export NOTES -o OUT`: notes (.mid or .tsv) to a score (.musicxml, .mid, .pdf, .mei)."""

from __future__ import annotations

import argparse
from pathlib import Path

from clef_app.cli import CommandError

IN_SUFFIXES = (".mid", ".midi", ".tsv", ".txt")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("notes", type=Path, help="notes: a MIDI file or onset/offset/pitch TSV")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="score file: .musicxml, .mid, .pdf or .mei")
    p.add_argument("--tempo", type=float, default=None, help="quarter notes per minute")
    p.add_argument("--meter", default=None, help="time signature, e.g. 3/4")
    p.add_argument("--key", default=None, help='key, e.g. "D major" or "F# minor"')
    p.add_argument("--grid", default="auto", help="auto, 1/8, 1/16, 1/32, 1/12 or 1/24")
    p.add_argument("--split", default="auto", help="auto or a MIDI pitch splitting the hands")
    p.add_argument("--title", default="", help="title printed on the score")


def settings_from_args(args: argparse.Namespace) -> dict:
    settings: dict = {"grid": args.grid, "title": args.title}
    if args.tempo:
        settings["tempo"] = [(1, args.tempo)]
    if args.meter:
        settings["meter"] = [(1, args.meter)]
    if args.key:
        settings["key"] = [(1, args.key)]
    if args.split != "auto":
        settings["split"] = int(args.split)
    return settings


def read_notes(path: Path) -> list:
    from clef_app.notation.events import read_notes_tsv
    from clef_app.notation.midi_io import MidiError, read_midi_notes

    suffix = path.suffix.lower()
    if suffix not in IN_SUFFIXES:
        raise CommandError(f"cannot read notes from {path.name}: use .mid or .tsv")
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    try:
        return read_midi_notes(path) if suffix in (".mid", ".midi") else read_notes_tsv(path)
    except MidiError as exc:
        raise CommandError(str(exc)) from exc
    except (ValueError, IndexError) as exc:
        raise CommandError(f"{path.name}: not a notes table ({exc})") from exc


def run(args: argparse.Namespace) -> int:
    from clef_app.notation.export import ExportError, export

    notes = read_notes(args.notes)
    if not notes:
        raise CommandError(f"{args.notes.name}: no notes")
    try:
        export(notes, settings_from_args(args), args.output)
    except (ExportError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    print(f"{len(notes)} notes -> {args.output}")
    return 0
