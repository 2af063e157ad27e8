"""`clef eval`: Clef (and optionally Basic Pitch) on a folder of audio with ground truth.

Ground truth for `NAME.ext` is `NAME.notes.tsv` (onset offset pitch velocity) or `NAME.mid`.
Prints one table per system with per-file and mean scores, and can write JSON and Markdown.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from clef_app.audio.io import AudioError, load_audio
from clef_app.config import SAMPLE_RATE
from clef_app.errors import ClefError
from clef_app.model.errors import ModelError
from clef_app.notation.events import NoteEvent, read_notes_tsv
from clef_app.training.metrics import matched_estimates, note_scores, octave_recall

AUDIO_SUFFIXES = (".flac", ".wav", ".ogg", ".mp3")
ROLL_FLOOR = 0.05  # the lowest onset peak of a roll-only note `--calibrate` measures
COLUMNS = ("onset_f1", "onset_p", "onset_r", "onset100_f1", "onset100_r", "onset_offset_f1",
           "frame_f1", "onset_dev_ms")
REPORTED_OCTAVES = range(1, 8)  # A0-B0 (octave 0) has too few notes to report
# maps-dev's two groups (its README): the eight fast, dense pieces added later; the rest slow
FAST_PIECES = ("chpn-e01", "chpn_op25_e3", "liz_et_trans5", "mz_331_3", "deb_menu",
               "grieg_kobold", "pathetique_3", "schub_d760_3")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folders", nargs="+", type=Path, help="folders (or files) of audio")
    p.add_argument("--model", type=Path, default=None, help="checkpoint (default: bundled)")
    p.add_argument("--peer", action="store_true", help="also run Basic Pitch on the same files")
    p.add_argument("--no-clef", action="store_true", help="only the peer")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads for Clef (1: fastest on a busy 2-core machine; 0: "
                        "torch's default)")
    p.add_argument("--limit", type=_count, default=0, help="at most this many files")
    p.add_argument("--seconds", type=float, default=0.0,
                   help="score the first this many seconds of each file (0: whole files); "
                        "every system reads the same excerpt")
    p.add_argument("--json", type=Path, default=None, help="write all scores here")
    p.add_argument("--markdown", type=Path, default=None, help="write the table here")
    p.add_argument("--tune-confidence", action="store_true",
                   help="choose the note-confidence thresholds and readings with the best "
                        "mean onset F1 on these files, and the frame probability that holds "
                        "notes on with the best onset+offset F1; store them in the "
                        "checkpoint's config (use held-out synthetic data, never the test set)")
    p.add_argument("--one-pass", action="store_true",
                   help="Clef reads each file once, not as often as the checkpoint asks")
    p.add_argument("--calibrate", action="store_true",
                   help="measure how often notes of each confidence are right on these files "
                        "and store it in the checkpoint's config (the app draws confidence "
                        "from it); use recordings like the ones it will transcribe")


def _count(text: str) -> int:
    """A file count for `--limit`: a whole number, 0 meaning all."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value}: give 0 (all files) or a positive count")
    return value


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
        raise ClefError("no audio files with .notes.tsv or .mid ground truth found")
    return files[:limit] if limit else files


def excerpts(files: list[Path], seconds: float, folder: Path) -> list[Path]:
    """The first `seconds` of each file, written to `folder` under the same name (audio at
    its own rate, as FLAC) beside its ground truth cut to the excerpt (notes starting in it,
    ended at its end), so that every system, the peer's own file reader included, reads the
    same audio."""
    import soundfile as sf

    from clef_app.notation.events import write_notes_tsv

    out = []
    for f in files:
        try:
            with sf.SoundFile(f) as src:
                audio = src.read(int(seconds * src.samplerate), dtype="float32", always_2d=True)
                rate = src.samplerate
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise ClefError(f"{f.name}: cannot read ({exc})") from exc
        cut = folder / (f.stem + ".flac")
        sf.write(cut, audio, rate)
        notes = [replace(n, offset=min(n.offset, seconds)) for n in ground_truth(f) or []
                 if n.onset < seconds]
        write_notes_tsv(notes, cut.with_name(f.stem + ".notes.tsv"))
        out.append(cut)
    return out


def systems(args: argparse.Namespace) -> dict:
    """name -> function(path, samples) returning notes."""
    out = {}
    if not args.no_clef:
        from clef_app.model.pipeline import Pipeline

        try:
            t = Pipeline.load(args.model, device=args.device, threads=args.threads,
                              **({"passes": 1} if args.one_pass else {}))
        except ModelError as exc:
            raise ClefError(str(exc)) from exc
        out["Clef"] = lambda path, samples: t.transcribe_all(samples, SAMPLE_RATE)
    if args.peer:
        from clef_app.training.peer import basic_pitch_notes

        out["Basic Pitch"] = lambda path, samples: basic_pitch_notes(path)
    return out


def evaluate(files: list[Path], runners: dict) -> dict[str, list[dict]]:
    """Per system, one row of scores per file (with its real-time factor)."""
    results: dict[str, list[dict]] = {name: [] for name in runners}
    for f in files:
        samples = samples_of(f)
        duration = len(samples) / SAMPLE_RATE
        ref = ground_truth(f) or []
        for name, run_system in runners.items():
            started = time.perf_counter()
            est = run_system(f, samples)
            rtf = (time.perf_counter() - started) / duration
            row = {"file": f.name, "seconds": duration, "rtf": rtf, **note_scores(ref, est)}
            results[name].append(row)
            print(f"{name:12s} {f.name[:44]:44s} onset F1 {row['onset_f1']:.3f} "
                  f"(P {row['onset_p']:.3f} R {row['onset_r']:.3f})  RTF {rtf:.3f}", flush=True)
    return results


def group_of(file_name: str) -> str:
    """maps-dev's group of a file (`slow` or `fast`); `all` for files outside MAPS."""
    if not file_name.startswith("MAPS_"):
        return "all"
    return "fast" if any(f"-{p}_" in file_name for p in FAST_PIECES) else "slow"


def groups(rows: list[dict]) -> dict[str, list[dict]]:
    """Rows by group, and all of them together when there are several groups."""
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(group_of(r["file"]), []).append(r)
    if len(out) > 1:
        out["all"] = list(rows)
    return dict(sorted(out.items(), key=lambda kv: ("slow", "fast", "all").index(kv[0])))


def markdown_table(results: dict[str, list[dict]]) -> str:
    """Mean scores per system and group (maps-dev: slow, fast, all), then recall per octave
    (notes pooled over the group's files) at 50 and 100 ms."""
    head = "| group | system | files | " + " | ".join(COLUMNS) + " | RTF |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 4)]
    octs = ["| group | system | tolerance | " + " | ".join(f"oct {k}" for k in REPORTED_OCTAVES)
            + " |", "|" + "---|" * (len(REPORTED_OCTAVES) + 3)]
    by_group = {name: groups(rows) for name, rows in results.items()}
    names = list(results)
    for group in by_group[names[0]] if names else []:
        for name in names:
            rows = by_group[name].get(group, [])
            if not rows:
                continue
            means = [mean_of([r[c] for r in rows]) for c in COLUMNS]
            rtf = sum(r["rtf"] * r["seconds"] for r in rows) / sum(r["seconds"] for r in rows)
            lines.append(f"| {group} | {name} | {len(rows)} | "
                         + " | ".join(f"{m:.3f}" for m in means) + f" | {rtf:.3f} |")
            for ms in (50, 100):
                rec = octave_recall(rows, ms)
                octs.append(f"| {group} | {name} | {ms} ms | " + " | ".join(
                    f"{rec[k]:.2f}" for k in REPORTED_OCTAVES) + " |")
    return "\n".join(lines) + "\n\nRecall per octave (octave 4 = C4-B4):\n\n" + "\n".join(octs)


def mean_of(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def calibration(pairs: list[tuple[list[NoteEvent], list[NoteEvent]]], bins: int = 12
                ) -> dict[str, list[float]]:
    """Per confidence bin (equal counts), the bin's median confidence and the share of its
    notes that are right (a true note of that pitch with an onset within 50 ms)."""
    conf, right = [], []
    for ref, est in pairs:
        hit = matched_estimates(ref, est)
        conf += [n.confidence for n in est]
        right += [i in hit for i in range(len(est))]
    order = np.argsort(conf, kind="stable")
    if not len(order):
        return {"confidence": [], "precision": []}
    groups = [g for g in np.array_split(order, min(bins, len(order))) if len(g)]
    c = [round(float(np.median(np.asarray(conf)[g])), 4) for g in groups]
    p = [round(float(np.mean(np.asarray(right)[g])), 4) for g in groups]
    keep = [0] + [i for i in range(1, len(c)) if c[i] > c[i - 1]]  # strictly increasing
    return {"confidence": [c[i] for i in keep], "precision": [p[i] for i in keep]}


def calibrate(args: argparse.Namespace, files: list[Path]) -> int:
    """Measure the checkpoint's confidence calibration on `files`; store it in its config.

    First, in one pass, decoder notes and roll-only notes are measured apart:
    `roll_confidence` maps a roll-only note's onset peak to the decoder-note confidence
    that is right as often, so every note is on one scale. Then the notes the app shows
    (read as often as the checkpoint asks, roll-only notes so mapped) are measured: that is
    the stored `calibration` the app's shading reads.
    """
    from clef_app.model.inference import roll_scale
    from clef_app.notation.confidence import bands_from_calibration

    path, shown = model_to_update(args, "calibrate")
    audio = [(samples_of(f), ground_truth(f) or []) for f in files]
    decoded, rolled = [], []
    for samples, ref in audio:
        # the mapping is measured even when the checkpoint asks for no roll-only notes
        mine, roll_only = by_source(shown, samples, shown.options.roll_onset or ROLL_FLOOR)
        decoded.append((ref, shown.keep(mine)))
        rolled.append((ref, roll_only))
    one_pass = calibration(decoded)
    if len(one_pass["confidence"]) < 2:
        raise ClefError("too few notes to calibrate on")
    values: dict = {}
    roll = calibration(rolled, bins=6)
    if len(roll["confidence"]) >= 2:
        values["roll_confidence"] = {"roll": roll["confidence"],
                                     "decoder": equally_right(one_pass, roll["precision"])}
    shown = shown.with_options(roll_confidence=roll_scale(values.get("roll_confidence")))
    cal = calibration([(ref, shown.transcribe_all(samples, SAMPLE_RATE)) for samples, ref in audio])
    if len(cal["confidence"]) < 2:
        raise ClefError("too few notes to calibrate on")
    bands = bands_from_calibration(cal["confidence"], cal["precision"])
    measured_on = ", ".join(sorted({f.parent.name for f in files}))
    values["calibration"] = {**cal, "measured_on": measured_on}
    stored = store_in_config(path, values)
    for c, p in zip(roll["confidence"], roll["precision"], strict=True):
        print(f"roll-only notes, onset peak {c:.3f}: {p:.0%} right")
    for c, p in zip(cal["confidence"], cal["precision"], strict=True):
        print(f"notes shown, confidence {c:.3f}: {p:.0%} right")
    print(f"stored the calibration in {stored}: doubtful below "
          f"{bands.doubtful_below:.3f}, confident from {bands.confident_from:.3f}")
    return 0


def by_source(t, samples: np.ndarray, roll_onset: float) -> tuple[list, list]:
    """One reading's decoder notes and roll-only notes (at their raw onset peak, from
    `roll_onset` up; none when it is 0), unfiltered by confidence."""
    raw = t.with_options(min_confidence=0.0, roll_onset=0.0, roll_confidence=(), passes=1)
    decoded = raw.transcribe_all(samples, SAMPLE_RATE)
    if roll_onset <= 0:
        return decoded, []
    raw = raw.with_options(roll_onset=roll_onset)
    known = {(n.onset, n.offset, n.pitch) for n in decoded}
    return decoded, [n for n in raw.transcribe_all(samples, SAMPLE_RATE)
                     if (n.onset, n.offset, n.pitch) not in known]


def equally_right(cal: dict[str, list[float]], precision: list[float]) -> list[float]:
    """For each precision, the confidence at which `cal` (a decoder calibration) is right
    that often: interpolated on its non-decreasing curve; below its lowest precision, scaled
    down towards 0 in proportion; above its highest, its highest confidence."""
    c = np.asarray(cal["confidence"], dtype=float)
    p = np.maximum.accumulate(np.asarray(cal["precision"], dtype=float))
    out = []
    for target in precision:
        if target < p[0]:
            out.append(c[0] * max(target, 0.0) / max(p[0], 1e-9))
        else:
            rising = np.concatenate([[True], np.diff(p) > 0])  # np.interp needs increasing x
            out.append(float(np.interp(target, p[rising], c[rising])))
    return [round(float(x), 4) for x in np.maximum.accumulate(out)]


def model_to_update(args: argparse.Namespace, what: str):
    """The checkpoint `--tune-confidence`/`--calibrate` write to, and its loaded model."""
    from clef_app.model.location import find_checkpoint
    from clef_app.model.pipeline import Pipeline

    path = args.model or find_checkpoint()
    if path is None:
        raise ClefError(f"no checkpoint to {what}")
    try:
        return path, Pipeline.load(path, device=args.device, threads=args.threads)
    except ModelError as exc:
        raise ClefError(str(exc)) from exc


def store_in_config(path: Path, values: dict) -> Path:
    """Set `values` in the checkpoint's JSON config (written atomically); returns its path."""
    from clef_app.atomic import atomic_write_text
    from clef_app.model.location import config_path

    target = config_path(path)
    meta = json.loads(target.read_text(encoding="utf-8"))
    atomic_write_text(target, json.dumps({**meta, **values}, indent=2) + "\n")
    return target


def samples_of(path: Path) -> np.ndarray:
    """A file's mono samples at the model's rate; a bad file is a ClefError."""
    try:
        return load_audio(path, SAMPLE_RATE).samples
    except AudioError as exc:
        raise ClefError(str(exc)) from exc


def run(args: argparse.Namespace) -> int:
    from clef_app.atomic import atomic_write_text, check_output

    for target in (args.json, args.markdown):
        if target is not None:
            check_output(target)  # before minutes of transcribing, not after
    files = find_files(args.folders, args.limit)
    with tempfile.TemporaryDirectory(prefix="clef-eval-") as tmp:
        if args.seconds > 0:
            files = excerpts(files, args.seconds, Path(tmp))
        if args.tune_confidence:
            from clef_app.training.tune import tune_confidence

            return tune_confidence(args, files)
        if args.calibrate:
            return calibrate(args, files)
        results = evaluate(files, systems(args))
    table = markdown_table(results)
    print(table)
    if args.json:
        atomic_write_text(args.json, json.dumps(results, indent=2) + "\n")
    if args.markdown:
        atomic_write_text(args.markdown, table + "\n")
    return 0
