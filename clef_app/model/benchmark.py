"""`clef benchmark`: real-time factor of the model on this machine, split by stage.

Real-time factor = processing seconds / audio seconds (0.1 = ten times faster than real time).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from clef_app.audio.io import AudioError, load_audio
from clef_app.cli import CommandError
from clef_app.model.decoding import greedy_decode
from clef_app.model.errors import ModelError
from clef_app.model.frontend import mel_to_image, n_segments, segment_mels
from clef_app.model.inference import Transcriber
from clef_app.notation.codec import NoteStitcher


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("audio", type=Path, nargs="?", default=None,
                   help="recording (default: the bundled demo, looped to --seconds)")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--model", type=Path, default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=0)


def measure(t: Transcriber, samples: np.ndarray, batch: int) -> dict[str, float]:
    """Seconds spent in front end, encoder and decoder (incl. stitching) over the recording."""
    fe, spent = t.fe, {"front end": 0.0, "encoder": 0.0, "decoder": 0.0}
    n, stitcher, n_notes = n_segments(len(samples), fe), NoteStitcher(), 0
    with torch.no_grad():
        for first in range(0, n, batch):
            count = min(batch, n - first)
            t0 = time.perf_counter()
            images = mel_to_image(segment_mels(samples, first, count, fe), fe).to(t.device)
            t1 = time.perf_counter()
            memory = t.model.encode(images)
            t2 = time.perf_counter()
            tokens, probs = greedy_decode(t.model, memory, fe.segment_frames)
            for k in range(count):
                n_notes += len(stitcher.feed((first + k) * fe.segment_frames, fe.segment_frames,
                                             tokens[k], probs[k]))
            t3 = time.perf_counter()
            spent["front end"] += t1 - t0
            spent["encoder"] += t2 - t1
            spent["decoder"] += t3 - t2
    spent["notes"] = n_notes
    return spent


def run(args: argparse.Namespace) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        t = Transcriber.load(args.model, device=args.device, batch_size=args.batch)
        path = args.audio or Path(__file__).resolve().parents[2] / "resources/demo/demo.flac"
        audio = load_audio(path, t.fe.sample_rate).samples
    except (ModelError, AudioError) as exc:
        raise CommandError(str(exc)) from exc
    want = int(args.seconds * t.fe.sample_rate)
    samples = np.resize(audio, want) if len(audio) < want else audio[:want]
    measure(t, samples[: t.fe.segment_samples * 2], args.batch)  # warm-up
    spent = measure(t, samples, args.batch)
    seconds = len(samples) / t.fe.sample_rate
    print(f"{seconds:.0f} s of {path.name} on {t.device} ({torch.get_num_threads()} threads), "
          f"batch {args.batch}, {spent.pop('notes'):.0f} notes")
    for stage, s in spent.items():
        print(f"  {stage:10s} {s:7.2f} s   RTF {s / seconds:.4f}")
    total = sum(spent.values())
    print(f"  {'total':10s} {total:7.2f} s   RTF {total / seconds:.4f}")
    return 0
