"""The tempo map: a monotone piecewise-linear map between seconds and score position.

Score positions are in quarter notes (music21's quarterLength) from the first bar line;
a pickup lies at negative positions. Outside its anchors the map extrapolates with the
tempo of the nearest segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TempoMap:
    """Anchors (seconds, quarters), both strictly increasing, at least two."""

    seconds: np.ndarray  # (n,) s
    quarters: np.ndarray  # (n,) quarter notes

    def __post_init__(self) -> None:
        if len(self.seconds) < 2 or len(self.seconds) != len(self.quarters):
            raise ValueError("a tempo map needs at least two matching anchors")
        if np.any(np.diff(self.seconds) <= 0) or np.any(np.diff(self.quarters) <= 0):
            raise ValueError("tempo map anchors must increase")

    @classmethod
    def constant(cls, bpm: float, zero_seconds: float = 0.0) -> TempoMap:
        """Quarter = `bpm`, position 0 at `zero_seconds`."""
        spq = 60.0 / bpm
        return cls(np.array([zero_seconds, zero_seconds + spq]), np.array([0.0, 1.0]))

    @classmethod
    def from_beats(cls, beat_seconds: np.ndarray, beat_quarters: float, first: float = 0.0):
        """Beats at `beat_seconds`, each `beat_quarters` long, the first at position `first`."""
        beat_seconds = np.asarray(beat_seconds, dtype=float)
        q = first + beat_quarters * np.arange(len(beat_seconds))
        return cls(beat_seconds, q)

    def to_quarters(self, t) -> np.ndarray:
        return _interp(np.asarray(t, dtype=float), self.seconds, self.quarters)

    def to_seconds(self, q) -> np.ndarray:
        return _interp(np.asarray(q, dtype=float), self.quarters, self.seconds)

    def bpm_at(self, q: float) -> float:
        """Quarter notes per minute around position q."""
        i = np.searchsorted(self.quarters, q, side="right") - 1
        i = int(np.clip(i, 0, len(self.quarters) - 2))
        dq = self.quarters[i + 1] - self.quarters[i]
        return 60.0 * dq / (self.seconds[i + 1] - self.seconds[i])

    def mean_bpm(self, q0: float, q1: float) -> float:
        """Average tempo between two positions, in quarter notes per minute."""
        t0, t1 = self.to_seconds([q0, q1])
        return 60.0 * (q1 - q0) / max(t1 - t0, 1e-6)

    def with_tempo_from(self, q: float, bpm: float) -> TempoMap:
        """This map up to position q, then a constant `bpm` from there on."""
        t = float(self.to_seconds(q))
        keep = self.quarters < q
        qs = np.concatenate([self.quarters[keep], [q, q + 1.0]])
        ts = np.concatenate([self.seconds[keep], [t, t + 60.0 / bpm]])
        return TempoMap(ts, qs)


def _interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """np.interp with linear extrapolation from the end segments."""
    y = np.interp(x, xp, fp)
    lo, hi = x < xp[0], x > xp[-1]
    y = np.where(lo, fp[0] + (x - xp[0]) * (fp[1] - fp[0]) / (xp[1] - xp[0]), y)
    y = np.where(hi, fp[-1] + (x - xp[-1]) * (fp[-1] - fp[-2]) / (xp[-1] - xp[-2]), y)
    return y
