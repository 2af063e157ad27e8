"""`clef transcribe AUDIO... -o OUT`: the app's transcription, headless, one file or many.

One recording and `-o FILE` (.musicxml, .mid, .pdf, .mei or .tsv): that file. Several
recordings or folders (the recordings directly inside them) and `-o FOLDER`: one output per
recording in FOLDER, named after it, as `--format`. Every output path is checked before any
transcribing; the model is loaded once, after the first recording has been read (so a bad
file alone never loads torch). With several recordings, one that cannot be read or written
is reported on one line and the rest go on; the exit status is then 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from clef_app.errors import CommandError

SUFFIXES = (".musicxml", ".mid", ".pdf", ".mei", ".tsv")
RECORDINGS = (".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("audio", type=Path, nargs="+",
                   help="recordings (WAV, FLAC, OGG, MP3) or folders of them")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="for one recording, the output file (" + ", ".join(SUFFIXES) + "); "
                        "otherwise a folder (made if missing) for one output per recording")
    p.add_argument("--format", default="musicxml", choices=[s[1:] for s in SUFFIXES],
                   help="what each output in -o FOLDER is (default: musicxml)")
    p.add_argument("--model", type=Path, default=None, help="checkpoint (default: bundled)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--one-pass", action="store_true",
                   help="read each recording once, not as often as the model asks (faster, "
                        "a little less accurate; see the model card)")
    p.add_argument("--quiet", action="store_true", help="no running progress on stderr")
    from clef_app.commands.export import add_title_arguments

    add_title_arguments(p)


def run(args: argparse.Namespace) -> int:
    from clef_app.commands.export import title_settings

    settings = title_settings(args)
    jobs, missing = plan(args.audio, args.output, "." + args.format)
    if len(jobs) + len(missing) == 1 and missing:
        raise CommandError(missing[0])
    for why in missing:
        _report(why)
    failed = len(missing)
    pipeline = None
    for i, (source, target) in enumerate(jobs, 1):
        label = "" if len(jobs) + len(missing) == 1 else f"[{i}/{len(jobs)}] {source.name}: "
        started = time.perf_counter()
        try:
            audio = _read(source)
            pipeline = pipeline or _load(args)  # a ModelError ends the run: every file needs it
            count = transcribe_one(pipeline, audio, source.name, target, args.quiet, settings)
        except _FileFailed as exc:
            if len(jobs) + len(missing) == 1:
                raise CommandError(str(exc)) from exc
            _report(str(exc))
            failed += 1
            continue
        seconds = time.perf_counter() - started
        print(f"{label}{count} notes -> {target}" + (f" ({seconds:.1f} s)" if label else ""),
              flush=True)
    if failed and len(jobs) + len(missing) > 1:
        print(f"{failed} of {len(jobs) + len(missing)} recordings failed", file=sys.stderr)
    return 2 if failed else 0


def plan(inputs: list[Path], output: Path, suffix: str) -> tuple[list[tuple[Path, Path]],
                                                                   list[str]]:
    """(recording, output) pairs, and why some inputs give nothing (missing, empty folder).

    Raises:
        CommandError: an output that cannot be written, or two recordings that would write
            the same output.
    """
    from clef_app.atomic import WriteError, check_output

    sources, missing = _recordings(inputs)
    single = len(inputs) == 1 and not inputs[0].is_dir() and not output.is_dir()
    try:
        if single and output.suffix:
            return [(s, check_output(output, SUFFIXES)) for s in sources], missing
        if output.exists() and not output.is_dir():
            raise CommandError(f"{output}: with several recordings, -o names a folder")
        check_output(output / f"x{suffix}" if output.is_dir() else output)
        targets = [output / (s.stem + suffix) for s in sources]
    except WriteError as exc:
        raise CommandError(str(exc)) from exc
    clash = _first_clash(sources, targets)
    if clash:
        raise CommandError(clash)
    return list(zip(sources, targets, strict=True)), missing


def _recordings(inputs: list[Path]) -> tuple[list[Path], list[str]]:
    """The recordings named or inside the folders named; a line for each that gives none."""
    found: list[Path] = []
    missing: list[str] = []
    for p in inputs:
        if p.is_dir():
            inside = sorted(f for f in p.iterdir() if f.is_file()
                            and f.suffix.lower() in RECORDINGS)
            found += inside
            if not inside:
                missing.append(f"{p}: no recordings in this folder")
        elif p.is_file():
            found.append(p)
        else:
            missing.append(f"{p}: no such file")
    return found, missing


def _first_clash(sources: list[Path], targets: list[Path]) -> str:
    seen: dict[Path, Path] = {}
    for s, t in zip(sources, targets, strict=True):
        if t in seen:
            return f"{seen[t]} and {s} would both write {t.name}"
        seen[t] = s
    return ""


class _FileFailed(Exception):
    """One recording that could not be read or its output written (the message says)."""


def _load(args: argparse.Namespace):
    from clef_app.model.errors import ModelError
    from clef_app.model.pipeline import Pipeline

    overrides = {"passes": 1} if args.one_pass else {}
    try:
        return Pipeline.load(args.model, device=args.device, threads=args.threads, **overrides)
    except ModelError as exc:
        raise CommandError(str(exc)) from exc


def _read(source: Path):
    """The recording at its own rate (the pipeline resamples it). Raises _FileFailed."""
    from clef_app.audio.io import AudioError, load_audio

    try:
        audio = load_audio(source)
    except AudioError as exc:
        raise _FileFailed(str(exc)) from exc
    if audio.warning:  # damaged part-way: what decodes is transcribed, and the user told
        from clef_app.errors import one_line

        print(one_line(f"clef transcribe: warning: {audio.warning}"), file=sys.stderr,
              flush=True)
    return audio


def transcribe_one(pipeline, audio, name: str, target: Path, quiet: bool,
                   settings: dict | None = None) -> int:
    """Transcribe `audio` (an `Audio`) into `target` (a score with `settings`: title,
    composer, page size); the number of notes written.

    Raises:
        _FileFailed: the output cannot be written.
    """
    notes = []
    for step in pipeline.transcribe(audio.samples, audio.sample_rate):
        notes += step.notes
        if not quiet:
            print(f"\r{name}: {step.done_seconds:6.1f} / {step.total_seconds:.1f} s, "
                  f"{len(notes)} notes", end="", file=sys.stderr, flush=True)
    if not quiet:
        print(file=sys.stderr)
    notes.sort(key=lambda n: (n.onset, n.pitch))
    write_output(notes, target, settings)
    return len(notes)


def write_output(notes: list, path: Path, settings: dict | None = None) -> None:
    """Write notes as TSV, or as a score through the notation layer's exporter.

    Raises:
        _FileFailed: it cannot be written (nothing is left behind).
    """
    from clef_app.errors import ClefError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".tsv":
            from clef_app.notation.events import write_notes_tsv

            write_notes_tsv(notes, path)
        else:
            from clef_app.notation.export import export

            export(notes, settings or {}, path)
    except ClefError as exc:
        raise _FileFailed(str(exc)) from exc
    except OSError as exc:
        raise _FileFailed(f"cannot write {path}: {exc.strerror or exc}") from exc


def _report(message: str) -> None:
    """One recording's failure, as the CLI reports a command's (one escaped line)."""
    from clef_app.errors import one_line

    print(one_line(f"clef transcribe: error: {message}"), file=sys.stderr, flush=True)
