"""Evidence a beat's attacks give for its grid, beyond how near they lie to it (used by
notation.quantize; see its module doc for how the constants were chosen).

- A grid finer than 16ths, or sextuplets, needs a run of notes one step apart: a lone
  short gap is a performance's unevenness, a flam or an ornament, not a 32nd.
- A triplet needs two notes off the beat: one a third into a beat is a pianist's timing.
- A performance's unevenness (`onset_noise`, in seconds) sets how far onsets may stray.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FINE_RUN = 2  # gaps of one step a beat needs for a grid finer than 16ths (or sextuplets)
FINE_GAP = 0.16  # of a step: how near one step such a gap lies (nearer than to a sextuplet's
# or a 32nd's step, 4/3 or 3/4 of it)
FINE_MIN = 6  # subdivision of a quarter beat from which on a run is needed (sextuplets)
UNSHOWN = 3.0  # nats: a grid its beat's attacks do not show (`unlikely_grids`)
SAME_ATTACK = 0.02  # beats: onsets this close are one attack (a chord's notes), one piece
# of evidence for the beat's grid


def ternary(sub: int) -> bool:
    return sub % 3 == 0


def onset_noise(attacks: dict[int, np.ndarray], beat_subs: Sequence[int],
                beat_seconds: np.ndarray) -> float:
    """How unevenly a performance is played, in seconds: the 75th percentile of its
    attacks' distances from the grid chosen for their beat (with TIMING_SIGMA). About 0
    for a sequencer, 3.5-19 ms for maps-dev's pianists (their ground truth, first 60 s),
    9-32 ms for Clef's transcriptions of the same recordings.

    Args:
        attacks: beat -> its attacks, in beats from the beat's start.
        beat_subs: the subdivision of every beat.
        beat_seconds: (n_beats,) each beat's length in seconds.
    """
    off = [np.abs(x - np.round(x * beat_subs[b]) / beat_subs[b]) * beat_seconds[b]
           for b, x in attacks.items()]
    return float(np.percentile(np.concatenate(off), 75)) if off else 0.0


def unlikely_grids(x: np.ndarray, after: float, subs: Sequence[int], compound: bool
                   ) -> np.ndarray:
    """(len(subs),) nats (UNSHOWN) added to each grid of a beat whose attacks (beats from
    its start, chords once; `after`: the next attack) do not show it: a triplet for one
    note off the beat, values shorter than a 16th or sextuplets without a run."""
    out = np.zeros(len(subs))
    for j, s in enumerate(subs):
        if not compound and ternary(s) and _lone_offbeat(x):
            out[j] += UNSHOWN
        if s >= (12 if compound else FINE_MIN) and not _run(x, after, s):
            out[j] += UNSHOWN
    return out


def _run(x: np.ndarray, after: float, sub: int) -> bool:
    """Whether a beat's attacks (beats from its start, sorted; `after`: the next attack)
    hold FINE_RUN gaps of one `sub` step: a run of 32nds (or sextuplet 16ths) shows them.
    A lone short gap is a performance's unevenness, a flam or an ornament, not a 32nd."""
    gaps = np.diff(np.append(x, after)) * sub
    return int(np.sum(np.abs(gaps - 1.0) < FINE_GAP)) >= FINE_RUN


def _lone_offbeat(x: np.ndarray) -> bool:
    """Whether a beat's attacks (beats from its start) are one off the beat at most: a
    single note a third into a beat is likelier a pianist's timing than a triplet."""
    return int(np.sum(np.abs(x - np.round(x)) > SAME_ATTACK)) <= 1
