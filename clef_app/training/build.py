"""`clef build-data`: render the synthetic training set (see `clips` for one clip).

Output (read by the feature cache and the trainer):
    OUT/clips/<split>/<id>.flac        16 kHz mono, 16-bit PCM
    OUT/clips/<split>/<id>.notes.tsv   onset_s offset_s midi_pitch velocity (offsets with pedal)
    OUT/manifest.jsonl                 one JSON object per clip (id, split, source, piece,
                                       soundfont, program, seconds, augment)
Splits: `train`; `val` = held-out corpus works and procedural seeds rendered with the
held-out soundfont; `val_seen` = the same clips rendered with a training soundfont.
The plan is a pure function of the seed, the options and the corpus cache; a rerun skips
clips already in the manifest.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from clef_app.atomic import LineLog, atomic_write_text, output_folder, whole_lines
from clef_app.errors import ClefError
from clef_app.training.clips import ClipSpec, render_clip

READY = "READY"  # written when every planned clip has been tried
# s between two writes of the manifest (each rewrites it whole, atomically): a crash costs
# at most the clips rendered in the last few seconds, rendered again by the next run
MANIFEST_EVERY_S = 5.0

TRAIN_SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf3/MuseScore_General.sf3",
    "/usr/share/sounds/sf3/MuseScore_General_Full.sf3",
    "/usr/share/sounds/sf2/sf_GMbank.sf2",  # Debian csound-soundfont: a third timbre
)
VAL_SOUNDFONT = "/usr/share/sounds/sf2/TimGM6mb.sf2"  # never used for training
CLIP_SECONDS = (20.0, 30.0)  # s: clip length range
# GM programs: pianos 0-7 (acoustic, bright, electric grand, honky-tonk, e-pianos,
# harpsichord, clavinet), and rarely other pitched sustained or decaying instruments
PIANO_WEIGHTS = {0: 0.36, 1: 0.14, 2: 0.08, 3: 0.05, 4: 0.08, 5: 0.07, 6: 0.06, 7: 0.04}
OTHER_PROGRAMS = (8, 10, 11, 12, 15, 16, 19, 21, 24, 46, 48, 88)
OTHER_SHARE = 0.12
SPLIT_CODE = {"train": 0, "val": 1}


def default_out() -> Path:
    return Path(os.environ.get("CLEF_DATA") or Path.home() / ".cache" / "clef" / "data")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: $CLEF_DATA or ~/.cache/clef/data)",
    )
    parser.add_argument("--hours", type=float, default=1.0, help="hours of training audio")
    parser.add_argument(
        "--val-minutes", type=float, default=25.0, help="minutes each of val and val_seen"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="rendering processes")
    parser.add_argument(
        "--procedural-share",
        type=float,
        default=0.4,
        help="fraction of procedural clips (all if no corpus cache)",
    )
    parser.add_argument(
        "--corpus-cache",
        type=Path,
        default=None,
        help="parsed corpus (default: OUT/../corpus-cache); filled by `--parse-corpus`",
    )
    parser.add_argument(
        "--parse-corpus", action="store_true", help="parse music21's corpus into the cache first"
    )
    parser.add_argument("--no-corpus", action="store_true", help="procedural clips only")
    parser.add_argument(
        "--figuration-share",
        type=float,
        default=0.0,
        help="fraction of clips of fast keyboard figuration over the whole keyboard "
        "(training/figuration.py), drawn before the procedural/corpus choice",
    )
    parser.add_argument(
        "--other-share",
        type=float,
        default=OTHER_SHARE,
        help="fraction of training clips played by a non-piano GM program",
    )


def soundfonts() -> tuple[list[str], str]:
    """Installed training soundfonts (distinct files) and the held-out one."""
    train, seen = [], set()
    for path in TRAIN_SOUNDFONTS:
        p = Path(path)
        if p.is_file() and p.resolve() not in seen:
            seen.add(p.resolve())
            train.append(path)
    if not train or not Path(VAL_SOUNDFONT).is_file():
        raise ClefError(
            "install fluid-soundfont-gm, musescore-general-soundfont, timgm6mb-soundfont"
        )
    return train, VAL_SOUNDFONT


def draw_program(
    rng: np.random.Generator, pianos_only: bool = False, other_share: float = OTHER_SHARE
) -> int:
    """Mostly GM pianos (0-7); with `other_share` some other instrument."""
    if not pianos_only and rng.random() < other_share:
        return int(rng.choice(OTHER_PROGRAMS))
    programs = np.array(list(PIANO_WEIGHTS))
    weights = np.array(list(PIANO_WEIGHTS.values()))
    return int(rng.choice(programs, p=weights / weights.sum()))


class PiecePicker:
    """Corpus works for one split, drawn with per-work weights (composers balanced)."""

    def __init__(self, names: list[str], weights: list[float]) -> None:
        self.names = names
        self.p = np.array(weights, dtype=float) / max(sum(weights), 1e-9)

    def pick(self, rng: np.random.Generator) -> str:
        return str(self.names[int(rng.choice(len(self.names), p=self.p))])


def plan_split(
    split: str,
    seconds_total: float,
    seed: int,
    share: float,
    picker: PiecePicker | None,
    sfs: list[str],
    figuration: float = 0.0,
    other_share: float = OTHER_SHARE,
) -> list[ClipSpec]:
    """Clip specs until `seconds_total` s; one planning and one content seed per clip."""
    specs: list[ClipSpec] = []
    total, i = 0.0, 0
    while total < seconds_total:
        rng = np.random.default_rng([seed, 100 + SPLIT_CODE[split], i])
        procedural = picker is None or rng.random() < share
        piece = "" if procedural else picker.pick(rng)
        seconds = round(float(rng.uniform(*CLIP_SECONDS)), 2)
        source = "procedural" if procedural else "corpus"
        if figuration and np.random.default_rng([seed, 300 + SPLIT_CODE[split], i]).random() \
                < figuration:  # its own stream: the other clips' plan is unchanged
            source, piece = "figuration", ""
        specs.append(ClipSpec(
            id=f"{split}_{i:06d}", split=split, source=source,
            piece=piece, content_seed=(seed, SPLIT_CODE[split], i),
            soundfont=str(rng.choice(sfs)),
            program=draw_program(rng, split != "train", other_share),
            seconds=seconds,
        ))  # fmt: skip
        total += seconds
        i += 1
    return specs


def plan(args: argparse.Namespace, pickers: dict[str, PiecePicker | None]) -> list[ClipSpec]:
    """val, val_seen (same content, a training soundfont), then train."""
    train_sfs, val_sf = soundfonts()
    share, fig, other = args.procedural_share, args.figuration_share, args.other_share
    val = plan_split("val", args.val_minutes * 60, args.seed, share, pickers["val"], [val_sf],
                     fig, other)
    seen = []
    for spec in val:
        rng = np.random.default_rng([args.seed, 200, int(spec.id.split("_")[1])])
        sf = str(rng.choice(train_sfs))
        seen.append(
            replace(spec, id=spec.id.replace("val", "val_seen"), split="val_seen", soundfont=sf)
        )
    train = plan_split("train", args.hours * 3600, args.seed, share, pickers["train"], train_sfs,
                       fig, other)
    return val + seen + train


# --- workers: each process keeps its soundfonts and a few parsed works loaded ---------------
_WORKER: dict = {}


def _init_worker(out: str, cache: str | None) -> None:
    _WORKER.update(out=Path(out), cache=Path(cache) if cache else None, pieces={})


def _work(spec: ClipSpec) -> tuple[dict | None, str, float]:
    """Render one clip; returns (manifest row or None, error text, wall seconds)."""
    start = time.perf_counter()
    try:
        piece = None
        if spec.source == "corpus":
            from clef_app.training import corpus

            pieces = _WORKER["pieces"]
            if spec.piece not in pieces:
                if len(pieces) > 64:
                    pieces.clear()
                pieces[spec.piece] = corpus.load_piece(_WORKER["cache"], spec.piece)
            piece = pieces[spec.piece]
        return render_clip(spec, _WORKER["out"], piece), "", time.perf_counter() - start
    except Exception as exc:  # a clip that fails is reported and skipped, not fatal
        return None, f"{spec.id}: {type(exc).__name__}: {exc}", time.perf_counter() - start


def pickers_for(args: argparse.Namespace, cache: Path) -> dict[str, PiecePicker | None]:
    """Train and held-out corpus pickers from the cache (None where it has no works)."""
    if args.no_corpus:
        return {"train": None, "val": None}
    from clef_app.training import corpus

    if args.parse_corpus:
        corpus.parse_all(cache, workers=args.workers)
    names = corpus.cached_names(cache)
    corpus.load_counts(cache)
    if not names:
        print(f"no parsed corpus in {cache}: procedural clips only (add --parse-corpus)")
    out: dict[str, PiecePicker | None] = {}
    for split, held in (("train", False), ("val", True)):
        chosen = [n for n in names if corpus.held_out(n) == held]
        out[split] = PiecePicker(chosen, [corpus.weight(n) for n in chosen]) if chosen else None
    return out


def _manifest_rows(manifest: Path) -> list[dict]:
    """The rows already in the manifest; a line cut short by an interrupted run (an old
    in-place append) is dropped."""
    rows = []
    for line in whole_lines(manifest):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def render_all(specs: list[ClipSpec], out: Path, cache: Path, workers: int) -> list[str]:
    """Render pending specs in order with a process pool, adding each to the manifest
    (rewritten whole every MANIFEST_EVERY_S and at the end: never a line cut short)."""
    rows = _manifest_rows(out / "manifest.jsonl")
    done = {r["id"] for r in rows}
    todo = [s for s in specs if s.id not in done]
    print(
        f"{len(specs)} clips planned, {len(done)} already rendered, {len(todo)} to render",
        flush=True,
    )
    errors: list[str] = []
    audio_s, busy_s, t0 = 0.0, 0.0, time.perf_counter()
    ctx = get_context("spawn")  # FluidSynth deadlocks in a child forked after it was used
    with (ctx.Pool(workers, _init_worker, (str(out), str(cache))) as pool,
          LineLog(out / "manifest.jsonl", map(json.dumps, rows), MANIFEST_EVERY_S) as log):
        for k, (row, err, wall) in enumerate(pool.imap(_work, todo, chunksize=1), 1):
            busy_s += wall
            if row is None:
                errors.append(err)
                print("skipped", err, flush=True)
                continue
            log.append(json.dumps(row))
            audio_s += row["seconds"]
            if k % 25 == 0 or k == len(todo):
                _progress(k, len(todo), audio_s, busy_s, time.perf_counter() - t0)
    return errors


def _progress(k: int, n: int, audio_s: float, busy_s: float, wall_s: float) -> None:
    eta = wall_s / k * (n - k)
    print(
        f"{k}/{n} clips, {audio_s / 3600:.2f} h audio, {audio_s / max(busy_s, 1e-9):.1f}x real time"
        f" per worker, {audio_s / max(wall_s, 1e-9):.1f}x overall, ETA {eta / 60:.1f} min",
        flush=True,
    )


def summary(manifest: Path) -> str:
    """Hours per split and source, and per training soundfont."""
    hours: dict[tuple[str, str], float] = defaultdict(float)
    with open(manifest, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            hours[(row["split"], row["source"])] += row["seconds"] / 3600
            hours[(row["split"], row["soundfont"])] += row["seconds"] / 3600
    lines = [f"  {split:<9} {what:<24} {h:7.2f} h" for (split, what), h in sorted(hours.items())]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    out = (args.out or default_out()).expanduser().resolve()
    repo = Path(__file__).resolve().parents[2]
    if (repo / ".git").exists() and out.is_relative_to(repo):
        raise ClefError(f"{out}: data never goes inside the repository")
    cache = (args.corpus_cache or out.parent / "corpus-cache").expanduser().resolve()
    output_folder(out)
    specs = plan(args, pickers_for(args, cache))
    (out / READY).unlink(missing_ok=True)  # a build that grows again is not finished
    errors = render_all(specs, out, cache, max(1, args.workers))
    # `clef cache --part-clips` caches a last, short part only once this says the build is
    # complete (it waited forever before: nothing wrote it)
    atomic_write_text(out / READY, f"{len(specs)} clips planned, {len(errors)} failed\n")
    print(f"done: {out}\n{summary(out / 'manifest.jsonl')}")
    if errors:
        print(f"{len(errors)} clips failed (see above)")
    return 0
