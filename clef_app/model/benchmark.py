"""The model's time per stage over a recording (`clef benchmark`, commands/benchmark.py).

Real-time factor = processing seconds / audio seconds (0.1 = ten times faster than real time).
"""

from __future__ import annotations

import numpy as np

from clef_app.model.pipeline import Pipeline

STAGES = ("front end", "encoder", "decoder", "stitching")


def measure(t: Pipeline, samples: np.ndarray) -> dict[str, float]:
    """Seconds spent in front end, encoder, decoder and note assembly (stitching and the
    roll head's notes) over the recording, through the same path as `clef transcribe`."""
    spent = dict.fromkeys(STAGES, 0.0)
    notes = sum(len(p.notes) for p in t.transcribe(samples, t.sample_rate, timings=spent))
    return {**spent, "notes": notes}


