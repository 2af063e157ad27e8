"""`clef score-eval`: score building (meter, quantisation, hands, key) and the readability
of its scores, measured on

- held-out corpus pieces, played (`--style`: gentle, rubato, drift, spread) with timing noise
  (`--oracle`) or rendered and transcribed: agreement with the original, and readability;
- `--maps DIR`: maps-dev's real recordings, from their ground-truth notes (real performance
  timing) or, with `--transcribe`, from Clef's transcription of the audio: readability and
  the issue's targets.

The measuring is `clef_app.notation.quality`'s, `maps_eval`'s and `readability`'s.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from clef_app.errors import CommandError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--oracle", action="store_true",
                   help="score the played notes with timing noise instead of transcribing audio")
    p.add_argument("--method", choices=("auto", "simple", "both"), default="both",
                   help="auto = Clef's score building; simple = the walking skeleton's baseline")
    from clef_app.notation.quality import PIECES, STYLES

    p.add_argument("--pieces", type=int, default=len(PIECES),
                   help="how many pieces to use (the first 8 are the original set)")
    p.add_argument("--style", choices=STYLES, default="gentle",
                   help="how corpus pieces are performed: gentle (the earlier benchmark), "
                        "rubato (4-bar phrases, +-12 %%), drift (rubato on a wandering tempo), "
                        "spread (rubato, spread chords, melody lead)")
    p.add_argument("--pedal", action="store_true",
                   help="(oracle) notes sound on under a sustain pedal changed at every bar line")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default=None, help="checkpoint (default: the bundled one)")
    p.add_argument("--maps", type=Path, default=None, metavar="DIR",
                   help="maps-dev folder: score its recordings' notes instead of corpus pieces")
    p.add_argument("--transcribe", action="store_true",
                   help="(--maps) build scores from Clef's transcriptions of the recordings")
    p.add_argument("--cache", type=Path, default=None, metavar="DIR",
                   help="(--maps --transcribe) keep transcriptions here as TSV and reuse them")
    p.add_argument("--seconds", type=float, default=None,
                   help="(--maps) only the first this many seconds of each recording")
    p.add_argument("--only", default="", metavar="TEXT",
                   help="(--maps) only recordings whose name contains TEXT (comma-separated)")


def run(args: argparse.Namespace) -> int:
    if args.maps is not None:
        return run_maps(args)
    from clef_app.notation.quality import PIECES, evaluate_piece, format_table

    transcriber = None if args.oracle else _transcriber(args, "use --oracle to measure the "
                                                              "score building alone")
    methods = ("simple", "auto") if args.method == "both" else (args.method,)
    rows = []
    for piece in PIECES[: args.pieces]:
        for method in methods:
            rows.append(evaluate_piece(piece, method, args.oracle, args.seed, transcriber,
                                       pedal=args.pedal, style=args.style))
    print(f"performance style: {args.style}")
    print(format_table(rows))
    return 0


def run_maps(args: argparse.Namespace) -> int:
    from clef_app.notation.maps_eval import evaluate_file, format_maps_table, maps_files

    try:
        files = maps_files(args.maps)
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from exc
    wanted = [w for w in args.only.split(",") if w]
    files = [f for f in files if not wanted or any(w in f.name for w in wanted)]
    transcribe = None
    if args.transcribe:
        transcriber = _transcriber(args, "score the ground truth without --transcribe")
        transcribe = _cached_transcription(transcriber, args.cache)
    rows = [evaluate_file(f, args.seconds, transcribe) for f in files]
    source = "transcribed" if args.transcribe else "ground truth"
    print(format_maps_table(rows, source))
    return 0


def _transcriber(args: argparse.Namespace, hint: str):
    try:
        from clef_app.model.errors import ModelError
        from clef_app.model.pipeline import Pipeline

        return Pipeline.load(args.model)
    except (ImportError, ModelError) as exc:
        raise CommandError(f"{exc} ({hint})") from exc


def _cached_transcription(transcriber, cache: Path | None):
    """(audio, seconds) -> Clef's notes of it, read from / written to `cache` as TSV."""
    from clef_app.audio.io import load_audio
    from clef_app.notation.events import read_notes_tsv, write_notes_tsv

    def transcribe(audio_path: Path, seconds: float | None):
        tag = f".{seconds:g}s" if seconds else ""
        kept = cache / f"{audio_path.stem}{tag}.clef.tsv" if cache else None
        if kept is not None and kept.is_file():
            return read_notes_tsv(kept)
        audio = load_audio(audio_path)
        samples = audio.samples
        if seconds:
            samples = samples[: int(seconds * audio.sample_rate)]
        notes = []
        for step in transcriber.transcribe(samples, audio.sample_rate):
            notes += step.notes
        if kept is not None:
            kept.parent.mkdir(parents=True, exist_ok=True)
            write_notes_tsv(notes, kept)
        return notes

    return transcribe
