"""What `clef ablate` measures of one trained encoder kind: training cost, encoder size and
compute, and transcription scores on a set of recordings."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from clef_app.audio.io import load_audio
from clef_app.model.checkpoint import load_checkpoint
from clef_app.model.pipeline import Pipeline
from clef_app.notation.events import NoteEvent
from clef_app.training.chord_metrics import (
    BUCKETS,
    chord_counts,
    harmony_scores,
    polyphony_counts,
)
from clef_app.training.evaluate import ground_truth
from clef_app.training.metrics import note_scores

MEAN_COLUMNS = ("onset_f1", "onset_offset_f1", "frame_f1")  # averaged over files


def training_summary(run_dir: Path, batch: int, cpu_seconds: float, wall_seconds: float) -> dict:
    """Samples, CPU and wall time, throughput and held-out loss of a finished `clef train`."""
    last = json.loads((run_dir / "last.json").read_text())
    best = json.loads((run_dir / "best.json").read_text())
    rates = [r["samples_per_s"] for r in _log(run_dir) if "samples_per_s" in r]
    samples = int(last["step"]) * batch
    return {"steps": int(last["step"]), "samples": samples,
            "cpu_minutes": cpu_seconds / 60, "wall_minutes": wall_seconds / 60,
            "samples_per_s": float(np.mean(rates)) if rates else samples / max(wall_seconds, 1e-9),
            "best_step": int(best["step"]), "val_loss": best["val_loss"]}


def _log(run_dir: Path) -> list[dict]:
    path = run_dir / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def encoder_cost(checkpoint: Path) -> dict:
    """Parameters (encoder, trained ones) and encoder multiply-adds per 2.56-s segment."""
    model = load_checkpoint(checkpoint)
    fe = model.cfg.front_end
    image = torch.zeros(1, 3, fe.image_height, fe.image_width)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model.encoder(image)
    stored = sum(v.numel() for v in model.trainable_state().values())
    return {"encoder_params": sum(p.numel() for p in model.encoder.parameters()),
            "encoder_trained": any(p.requires_grad for p in model.encoder.parameters()),
            "trained_params": stored, "encoder_gmac": counter.get_total_flops() / 2e9,
            "tokens": model.rows * model.cols, "grid": [model.rows, model.cols],
            "token_dim": model.cfg.encoder_dim}


def crop(notes: list[NoteEvent], seconds: float) -> list[NoteEvent]:
    """The notes that start before `seconds`, cut off there."""
    return [NoteEvent(n.onset, min(n.offset, seconds), n.pitch, n.velocity)
            for n in notes if n.onset < seconds]


def score_files(checkpoint: Path, files: list[Path], max_seconds: float = 0.0,
                device: str = "cpu") -> dict:
    """Transcribe `files` with a checkpoint; mean note scores, pooled harmony scores, RTF.

    Args:
        max_seconds: score only each file's first seconds (0 = whole files).
    """
    t = Pipeline.load(checkpoint, device=device, tuned=False)  # every encoder alike
    sr = t.sample_rate
    t.transcribe_all(np.zeros(sr, dtype=np.float32), sr)  # warm-up: first-call overheads
    poly = {name: {"ref": 0, "est": 0, "tp": 0} for name, _, _ in BUCKETS}
    chords = {"all": 0, "all_right": 0, "chords": 0, "chords_right": 0}
    per_file, spent, seconds = [], 0.0, 0.0
    for f in files:
        samples, ref = load_audio(f, sr).samples, ground_truth(f) or []
        if max_seconds:
            samples, ref = samples[: int(max_seconds * sr)], crop(ref, max_seconds)
        started = time.perf_counter()
        est = t.transcribe_all(samples, sr)
        spent += time.perf_counter() - started
        seconds += len(samples) / sr
        per_file.append({"file": f.name, **note_scores(ref, est)})
        for name, c in polyphony_counts(ref, est).items():
            for k, v in c.items():
                poly[name][k] += v
        for k, v in chord_counts(ref, est).items():
            chords[k] += v
    means = {c: float(np.nanmean([r[c] for r in per_file])) for c in MEAN_COLUMNS}
    notes = {k: sum(r[k] for r in per_file) for k in ("n_ref", "n_est")}
    return {**means, **harmony_scores(poly, chords), "rtf": spent / max(seconds, 1e-9),
            "est_per_ref": notes["n_est"] / max(notes["n_ref"], 1.0),
            "files": len(files), "seconds": seconds, "per_file": per_file,
            "counts": {"polyphony": poly, "chords": chords}}
