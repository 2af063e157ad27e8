"""`clef benchmark`: real-time factor of the model on this machine, split by stage.

Real-time factor = processing seconds / audio seconds (0.1 = ten times faster than real time).
The measuring is `clef_app.model.benchmark.measure`, through the pipeline `clef transcribe` uses.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from clef_app.config import DecodingConfig
from clef_app.errors import CommandError

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "demo.flac"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("audio", type=Path, nargs="?", default=None,
                   help="recording (default: the bundled demo, looped to --seconds)")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--model", type=Path, default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--batch", type=int, default=DecodingConfig.batch_size,
                   help="windows decoded together, all readings' counted")
    p.add_argument("--threads", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from clef_app.audio.io import AudioError
    from clef_app.model.benchmark import measure
    from clef_app.model.errors import ModelError
    from clef_app.model.pipeline import Pipeline

    try:
        t = Pipeline.load(args.model, device=args.device, batch_size=args.batch,
                          threads=args.threads)
        path = args.audio or DEMO
        audio = t.read(path)
    except (ModelError, AudioError) as exc:
        raise CommandError(str(exc)) from exc
    want = int(args.seconds * t.fe.sample_rate)
    samples = np.resize(audio, want) if len(audio) < want else audio[:want]
    measure(t, samples[: t.fe.segment_samples * 2])  # warm-up
    spent = measure(t, samples)
    seconds = len(samples) / t.fe.sample_rate
    print(f"{seconds:.0f} s of {path.name} on {t.device} ({torch.get_num_threads()} threads), "
          f"batch {args.batch}, {spent.pop('notes'):.0f} notes")
    cpu = spent.pop("cpu")
    for stage, s in spent.items():
        print(f"  {stage:10s} {s:7.2f} s   RTF {s / seconds:.4f}")
    total = sum(spent.values())
    print(f"  {'total':10s} {total:7.2f} s   RTF {total / seconds:.4f}")
    print(f"  {'CPU':10s} {cpu:7.2f} s   {cpu * 60 / seconds:.2f} CPU-s per 60 s of audio "
          "(the process's own; the wall seconds above count other work on a shared CPU)")
    return 0
