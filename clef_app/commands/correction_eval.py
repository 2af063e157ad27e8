"""`clef correction-eval FILES...`: corrections Transcribe Again saves a simulated user.

See `clef_app/training/correction_eval.py`. Each file needs its ground truth beside it
(`NAME.notes.tsv` or `NAME.mid`); only its first `--seconds` are used.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", type=Path, nargs="+", help="recordings (or folders of them)")
    p.add_argument("--seconds", type=float, default=60.0, help="excerpt per file, s (60)")
    p.add_argument("--passage", type=float, default=10.0, help="passage length, s (10)")
    p.add_argument("--limit", type=int, default=0, help="at most this many files")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--json", type=Path, default=None, help="write every row here")


def run(args: argparse.Namespace) -> int:
    from clef_app.atomic import atomic_write_text, check_output
    from clef_app.model.pipeline import Pipeline
    from clef_app.training.correction_eval import simulate, summary
    from clef_app.training.evaluate import find_files, ground_truth

    if args.json is not None:
        check_output(args.json)  # before minutes of transcribing, not after
    pipeline = Pipeline.load(threads=args.threads)
    rows, minutes = [], 0.0
    for path in find_files(args.paths, args.limit):
        samples = pipeline.read(path)[:int(args.seconds * pipeline.sample_rate)]
        seconds = len(samples) / pipeline.sample_rate
        ref = [n for n in ground_truth(path) if n.onset < seconds]
        est = pipeline.transcribe_all(samples, pipeline.sample_rate)
        mine = simulate(pipeline, samples, pipeline.sample_rate, ref, est, args.passage)
        rows += [{"file": path.name, **r} for r in mine]
        minutes += seconds / 60
        one = summary(mine, seconds / 60)
        print(f"{path.name}: {seconds:.0f} s, {one[0]['errors_per_min']:.1f} errors/min; "
              + ", ".join(f"k={k} saves {s['saved_per_min']:+.1f}/min (replacing: "
                          f"{s['replaced_saved_per_min']:+.1f})" for k, s in one.items()),
              file=sys.stderr, flush=True)
    table = summary(rows, minutes)
    print(markdown(table, minutes, len({r["file"] for r in rows})))
    if args.json is not None:
        atomic_write_text(args.json, json.dumps({"rows": rows, "summary": table}, indent=1))
    return 0


def markdown(table: dict, minutes: float, files: int) -> str:
    lines = [f"{files} files, {minutes:.1f} min of audio",
             "", "| k fixed by hand | errors/min before | left by hand | left after re-read "
             "| corrections saved/min | replacing the passage: saved/min | its right notes "
             "lost/min | its wrong notes written/min |", "|---|---|---|---|---|---|---|---|"]
    for k, s in table.items():
        lines.append(f"| {k} | {s['errors_per_min']:.1f} | {s['hand_left_per_min']:.1f} | "
                     f"{s['reread_left_per_min']:.1f} | {s['saved_per_min']:+.1f} | "
                     f"{s['replaced_saved_per_min']:+.1f} | {s['lost_per_min']:.1f} | "
                     f"{s['new_wrong_per_min']:.1f} |")
    return "\n".join(lines)
