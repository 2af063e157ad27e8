"""`clef eval`: Clef (and optionally Basic Pitch) on a folder of audio with ground truth.

Ground truth for `NAME.ext` is `NAME.notes.tsv` (onset offset pitch velocity) or `NAME.mid`.
Prints one table per system with per-file and mean scores, and can write JSON and Markdown.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from clef_app.audio.io import AudioError, load_audio
from clef_app.cli import CommandError
from clef_app.config import SAMPLE_RATE
from clef_app.model.errors import ModelError
from clef_app.notation.events import NoteEvent, read_notes_tsv
from clef_app.training.metrics import note_scores

AUDIO_SUFFIXES = (".flac", ".wav", ".ogg", ".mp3")
COLUMNS = ("onset_f1", "onset_p", "onset_r", "onset_offset_f1", "frame_f1", "onset_dev_ms")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folders", nargs="+", type=Path, help="folders (or files) of audio")
    p.add_argument("--model", type=Path, default=None, help="checkpoint (default: bundled)")
    p.add_argument("--peer", action="store_true", help="also run Basic Pitch on the same files")
    p.add_argument("--no-clef", action="store_true", help="only the peer")
    p.add_argument("--device", default="auto")
    p.add_argument("--limit", type=int, default=0, help="at most this many files")
    p.add_argument("--json", type=Path, default=None, help="write all scores here")
    p.add_argument("--markdown", type=Path, default=None, help="write the table here")
    p.add_argument("--tune-confidence", action="store_true",
                   help="choose the note-confidence threshold with the best mean onset F1 on "
                        "these files and store it in the checkpoint's config (use held-out "
                        "synthetic data, never the test set)")


def ground_truth(audio: Path) -> list[NoteEvent] | None:
    tsv = audio.with_name(audio.stem + ".notes.tsv")
    if tsv.is_file():
        return read_notes_tsv(tsv)
    mid = audio.with_suffix(".mid")
    if mid.is_file():
        from clef_app.notation.midi_io import read_midi_notes

        return read_midi_notes(mid)
    return None


def find_files(paths: list[Path], limit: int = 0) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        found = sorted(p.iterdir()) if p.is_dir() else [p]
        files += [f for f in found
                  if f.suffix.lower() in AUDIO_SUFFIXES and ground_truth(f) is not None]
    if not files:
        raise CommandError("no audio files with .notes.tsv or .mid ground truth found")
    return files[:limit] if limit else files


def systems(args: argparse.Namespace) -> dict:
    """name -> function(path, samples) returning notes."""
    out = {}
    if not args.no_clef:
        from clef_app.model.inference import Transcriber

        try:
            t = Transcriber.load(args.model, device=args.device)
        except ModelError as exc:
            raise CommandError(str(exc)) from exc
        out["Clef"] = lambda path, samples: t.transcribe_all(samples)
    if args.peer:
        from clef_app.training.peer import basic_pitch_notes

        out["Basic Pitch"] = lambda path, samples: basic_pitch_notes(path)
    return out


def evaluate(files: list[Path], runners: dict) -> dict[str, list[dict]]:
    """Per system, one row of scores per file (with its real-time factor)."""
    results: dict[str, list[dict]] = {name: [] for name in runners}
    for f in files:
        try:
            audio = load_audio(f, SAMPLE_RATE)
        except AudioError as exc:
            raise CommandError(str(exc)) from exc
        ref = ground_truth(f) or []
        for name, run_system in runners.items():
            started = time.perf_counter()
            est = run_system(f, audio.samples)
            rtf = (time.perf_counter() - started) / audio.duration
            row = {"file": f.name, "seconds": audio.duration, "rtf": rtf, **note_scores(ref, est)}
            results[name].append(row)
            print(f"{name:12s} {f.name[:44]:44s} onset F1 {row['onset_f1']:.3f} "
                  f"(P {row['onset_p']:.3f} R {row['onset_r']:.3f})  RTF {rtf:.3f}", flush=True)
    return results


def markdown_table(results: dict[str, list[dict]]) -> str:
    head = "| system | files | " + " | ".join(COLUMNS) + " | RTF |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 3)]
    for name, rows in results.items():
        means = [_mean([r[c] for r in rows]) for c in COLUMNS]
        rtf = sum(r["rtf"] * r["seconds"] for r in rows) / sum(r["seconds"] for r in rows)
        lines.append(f"| {name} | {len(rows)} | " + " | ".join(f"{m:.3f}" for m in means)
                     + f" | {rtf:.3f} |")
    return "\n".join(lines)


def _mean(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def tune_confidence(args: argparse.Namespace, files: list[Path]) -> int:
    """Mean onset F1 per threshold on raw (unfiltered) notes; store the best."""
    from dataclasses import replace

    from clef_app.model.checkpoint import config_path, find_checkpoint
    from clef_app.model.inference import Transcriber

    path = args.model or find_checkpoint()
    if path is None:
        raise CommandError("no checkpoint to tune")
    t = Transcriber.load(path, device=args.device)
    t.options = replace(t.options, min_confidence=0.0)
    pairs = [(ground_truth(f) or [], t.transcribe_all(load_audio(f, SAMPLE_RATE).samples))
             for f in files]
    scores = {}
    for thr in np.round(np.arange(0.0, 0.51, 0.025), 3):
        kept = [(r, [n for n in e if n.confidence >= thr]) for r, e in pairs]
        scores[float(thr)] = _mean([note_scores(r, e)["onset_f1"] for r, e in kept])
        print(f"confidence >= {thr:.3f}: onset F1 {scores[float(thr)]:.3f}")
    best = max(scores, key=scores.get)
    meta = json.loads(config_path(path).read_text())
    meta["min_confidence"] = best
    config_path(path).write_text(json.dumps(meta, indent=2) + "\n")
    print(f"stored min_confidence {best} (onset F1 {scores[best]:.3f}) in {config_path(path)}")
    return 0


def run(args: argparse.Namespace) -> int:
    files = find_files(args.folders, args.limit)
    if args.tune_confidence:
        return tune_confidence(args, files)
    results = evaluate(files, systems(args))
    table = markdown_table(results)
    print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if args.markdown:
        args.markdown.write_text(table + "\n")
    return 0
