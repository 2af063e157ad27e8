"""The model's time per stage over a recording (`clef benchmark`, commands/benchmark.py).

Real-time factor = processing seconds / audio seconds (0.1 = ten times faster than real time).
"""

from __future__ import annotations

import time

import numpy as np

from clef_app.model.pipeline import Pipeline

STAGES = ("front end", "encoder", "decoder", "stitching")


def measure(t: Pipeline, samples: np.ndarray) -> dict[str, float]:
    """Seconds spent in front end, encoder, decoder and note assembly (stitching and the
    roll head's notes) over the recording, through the same path as `clef transcribe`;
    also `cpu`, the process's CPU seconds over all of it (on a machine others share, the
    wall seconds count their time too), and `notes`, how many were written."""
    spent = dict.fromkeys(STAGES, 0.0)
    started = time.process_time()
    notes = sum(len(p.notes) for p in t.transcribe(samples, t.sample_rate, timings=spent))
    return {**spent, "cpu": time.process_time() - started, "notes": notes}


