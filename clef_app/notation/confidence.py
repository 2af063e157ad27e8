"""How sure a note looks: the bands the views draw a note's confidence in.

A note's `confidence` is what the model said (decoder probability x onset-roll evidence,
`model.inference.note_confidences`), not the chance that the note is right, and its range
depends on the checkpoint. What a view should show is that chance: a note is drawn
*doubtful* (pale, dashed) where fewer than DOUBTFUL_PRECISION of such notes are right, and
fully *confident* where CONFIDENT_PRECISION are; in between its shade grows.

Where those bands lie comes from the checkpoint's config (`clef.json`) when it holds a
calibration, `"calibration": {"confidence": [...], "precision": [...]}` (increasing
confidences, the precision measured at each); otherwise from SHIPPED_CALIBRATION, measured
for the shipped checkpoint. It is measured on the notes the app shows (all the readings
merged); roll-only notes (`model.rollnotes`) are first put on the decoder notes' scale
(`roll_confidence`), so one set of bands serves every note.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DOUBTFUL_PRECISION = 0.4  # notes less likely than this to be right are drawn doubtful
CONFIDENT_PRECISION = 0.8  # notes at least this likely to be right are drawn fully confident


@dataclass(frozen=True)
class ConfidenceBands:
    """Band edges in the units of `NoteEvent.confidence`."""

    doubtful_below: float
    confident_from: float

    def doubtful(self, confidence: float) -> bool:
        return confidence < self.doubtful_below

    def level(self, confidence: float) -> float:
        """0 at the doubtful edge (and below), 1 from the confident edge, linear between."""
        span = max(self.confident_from - self.doubtful_below, 1e-9)
        # plain floats, not np.clip: the spectrogram asks once per note it paints
        return min(1.0, max(0.0, (float(confidence) - self.doubtful_below) / span))


def bands_from_calibration(confidence: list[float], precision: list[float]) -> ConfidenceBands:
    """The confidences where a calibration's precision reaches each band's precision.

    Args:
        confidence: increasing note confidences.
        precision: the share of notes right at each (the curve is made non-decreasing).
    """
    c = np.asarray(confidence, dtype=float)
    p = np.maximum.accumulate(np.asarray(precision, dtype=float))
    if c.size < 2 or c.shape != p.shape or np.any(np.diff(c) <= 0):
        raise ValueError("a calibration needs two or more increasing confidences, "
                         "one precision each")

    def reach(target: float) -> float:
        above = np.nonzero(p >= target)[0]
        if above.size == 0:
            return float(c[-1]) + 1.0  # never reached: no note gets that band
        i = int(above[0])
        if i == 0:
            return float(c[0])
        return float(np.interp(target, p[i - 1 : i + 1], c[i - 1 : i + 1]))

    return ConfidenceBands(reach(DOUBTFUL_PRECISION), reach(CONFIDENT_PRECISION))


def read_bands(checkpoint: str | Path | None) -> ConfidenceBands:
    """The bands for notes of this checkpoint (SHIPPED_BANDS when its config has no
    usable calibration, or there is no checkpoint)."""
    if checkpoint is None:
        return SHIPPED_BANDS
    try:
        meta = json.loads(Path(checkpoint).with_suffix(".json").read_text(encoding="utf-8"))
        cal = meta.get("calibration") if isinstance(meta, dict) else None
        if not isinstance(cal, dict):
            return SHIPPED_BANDS
        return bands_from_calibration(cal["confidence"], cal["precision"])
    except (OSError, ValueError, KeyError, TypeError):
        return SHIPPED_BANDS


# The shipped checkpoint (step 4,500) on maps-dev's ten real piano recordings: 7,038 notes,
# each right when a true note has its pitch and an onset within 50 ms; per confidence bin,
# the bin's median confidence and the share of its notes that are right. A third of the
# notes fall below the doubtful edge (~0.15); three quarters of the right notes lie above it.
SHIPPED_CALIBRATION = (
    [0.111, 0.136, 0.162, 0.186, 0.224, 0.273, 0.323, 0.374, 0.444, 0.541, 0.652],
    [0.31, 0.36, 0.43, 0.48, 0.59, 0.65, 0.75, 0.79, 0.84, 0.90, 0.97],
)
SHIPPED_BANDS = bands_from_calibration(*SHIPPED_CALIBRATION)
