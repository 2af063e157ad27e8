"""`clef peer-benchmark`: whole-process wall time of `clef transcribe` against Basic Pitch's
own `basic-pitch` command line, on the same files, as users run them.

One process per file and system, the two systems alternating (Clef first on odd rounds,
Basic Pitch first on even ones), both pinned to the same CPU cores (`taskset`) so that
neither gets more threads than the other. Medians over rounds, per file and in total.
Then where Clef's time goes, measured in this process: process start and imports,
checkpoint load, and per reading the front end, encoder, decoder and note assembly.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from clef_app.errors import ClefError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("audio", type=Path, nargs="+", help="recordings (each transcribed whole)")
    p.add_argument("--rounds", type=int, default=3, help="runs of each system per file")
    p.add_argument("--cores", default="0",
                   help="CPU cores both systems run on (taskset list, e.g. 0 or 0,1)")
    p.add_argument("--clef-args", default="",
                   help="extra arguments for `clef transcribe` (e.g. --one-pass)")


def _pinned(cmd: list[str], cores: str) -> list[str]:
    taskset = shutil.which("taskset")
    return [taskset, "-c", cores, *cmd] if taskset and cores else cmd


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:]
        raise ClefError(f"{' '.join(cmd[-3:])} failed: {tail[0] if tail else done.returncode}")
    return wall


def commands(audio: Path, work: Path, clef_args: str) -> dict[str, list[str]]:
    """The two command lines for one file, writing into `work`."""
    peer = shutil.which("basic-pitch") or str(Path(sys.executable).with_name("basic-pitch"))
    if not Path(peer).is_file():
        raise ClefError("basic-pitch is not installed (pip install -e .[peer] and "
                           "pip install --no-deps basic-pitch==0.4.0)")
    clef = [sys.executable, "-m", "clef_app", "transcribe", str(audio),
            "-o", str(work / f"{audio.stem}.tsv"), *clef_args.split()]
    return {"Clef": clef, "Basic Pitch": [peer, str(work), str(audio)]}


def race(files: list[Path], rounds: int, cores: str, clef_args: str) -> dict[str, dict]:
    """{system: {file name: [wall s per round]}}, alternating which system runs first."""
    n = str(max(1, len(cores.split(","))))
    env = {**os.environ, "OMP_NUM_THREADS": n, "PYTHONWARNINGS": "ignore"}
    walls: dict[str, dict] = {"Clef": {}, "Basic Pitch": {}}
    for k in range(rounds):
        for audio in files:
            with tempfile.TemporaryDirectory() as tmp:
                cmds = commands(audio, Path(tmp), clef_args)
                order = list(cmds) if k % 2 == 0 else list(cmds)[::-1]
                for name in order:
                    for old in Path(tmp).iterdir():
                        old.unlink()
                    wall = _timed(_pinned(cmds[name], cores), env)
                    walls[name].setdefault(audio.name, []).append(wall)
                    print(f"round {k + 1} {name:11s} {audio.name[:48]:48s} {wall:6.2f} s",
                          flush=True)
    return walls


def breakdown(files: list[Path], cores: str, clef_args: str = "") -> dict[str, float]:
    """Where `clef transcribe`'s time goes, summed over `files`: imports (a fresh process),
    checkpoint load, and the model's stages through the transcribe path (read once when
    `clef_args` asks for `--one-pass`)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    probe = "import clef_app.cli, clef_app.commands.transcribe, clef_app.model.pipeline"
    start_s = _timed(_pinned([sys.executable, "-c", probe], cores), env)
    from clef_app.model.pipeline import Pipeline

    started = time.perf_counter()
    t = Pipeline.load(None, **({"passes": 1} if "--one-pass" in clef_args.split() else {}))
    out = {"process start + imports": start_s, "checkpoint load": time.perf_counter() - started}
    for f in files:
        samples = t.read(f)
        spent: dict[str, float] = {}
        for _ in t.transcribe(samples, t.sample_rate, timings=spent):
            pass
        for stage, s in spent.items():
            out[stage] = out.get(stage, 0.0) + s
    out["readings"] = float(t.options.passes)
    return out


def run(args: argparse.Namespace) -> int:
    files = [f for f in args.audio if f.is_file()]
    if not files:
        raise ClefError("no audio files given")
    if args.cores:
        os.sched_setaffinity(0, {int(c) for c in args.cores.split(",")})
    walls = race(files, args.rounds, args.cores, args.clef_args)
    print(f"\nmedian wall time per file over {args.rounds} rounds, cores {args.cores}:")
    totals = {}
    for name, per_file in walls.items():
        medians = {f: statistics.median(w) for f, w in per_file.items()}
        totals[name] = sum(medians.values())
        for f, m in medians.items():
            print(f"  {name:11s} {f[:48]:48s} {m:6.2f} s")
    print("  total: " + ", ".join(f"{n} {s:.2f} s" for n, s in totals.items())
          + f"; Clef / Basic Pitch = {totals['Clef'] / totals['Basic Pitch']:.2f}")
    import torch

    torch.set_num_threads(max(1, len(args.cores.split(","))))
    print("\nwhere Clef's time goes (one process, all files):")
    for stage, s in breakdown(files, args.cores, args.clef_args).items():
        print(f"  {stage:24s} {s:7.2f}" + ("" if stage == "readings" else " s"))
    return 0
