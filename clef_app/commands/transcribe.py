"""`clef transcribe AUDIO -o OUT`: the GUI's transcription, headless."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from clef_app.audio.io import AudioError, load_audio, resample
from clef_app.cli import CommandError
from clef_app.config import SAMPLE_RATE
from clef_app.model.errors import ModelError
from clef_app.notation.events import write_notes_tsv

SUFFIXES = (".musicxml", ".mid", ".pdf", ".mei", ".tsv")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("audio", type=Path, help="WAV, FLAC, OGG or MP3")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="output file: " + ", ".join(SUFFIXES))
    p.add_argument("--model", type=Path, default=None, help="checkpoint (default: bundled)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    p.add_argument("--one-pass", action="store_true",
                   help="read the recording once, not as often as the model asks (faster, "
                        "a little less accurate; see the model card)")
    p.add_argument("--quiet", action="store_true")


def run(args: argparse.Namespace) -> int:
    suffix = args.output.suffix.lower()
    if suffix not in SUFFIXES:
        raise CommandError(f"cannot write {args.output.name}: use one of {', '.join(SUFFIXES)}")
    try:
        audio = load_audio(args.audio, SAMPLE_RATE)  # a bad file fails before torch loads
        from clef_app.model.inference import Transcriber

        transcriber = Transcriber.load(args.model, device=args.device)
        if args.one_pass:
            transcriber.options = replace(transcriber.options, passes=1)
    except (ModelError, AudioError) as exc:
        raise CommandError(str(exc)) from exc
    samples = resample(audio.samples, SAMPLE_RATE, transcriber.fe.sample_rate)
    notes = []
    for progress in transcriber.transcribe(samples):
        notes += progress.notes
        if not args.quiet:
            print(f"\r{progress.done_seconds:6.1f} / {progress.total_seconds:.1f} s, "
                  f"{len(notes)} notes", end="", file=sys.stderr, flush=True)
    if not args.quiet:
        print(file=sys.stderr)
    notes.sort(key=lambda n: (n.onset, n.pitch))
    write_output(notes, args.output)
    print(f"{len(notes)} notes -> {args.output}")
    return 0


def write_output(notes: list, path: Path) -> None:
    """Write notes as TSV, or as a score through the notation layer's exporter."""
    try:
        if path.suffix.lower() == ".tsv":
            write_notes_tsv(notes, path)
        else:
            from clef_app.notation.export import export

            export(notes, {}, path)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from exc
