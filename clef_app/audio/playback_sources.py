"""What the player plays: the recording and the synthesised notes as one two-row source,
and the notes rendered for it (cached by note set)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from clef_app.notation.events import NoteEvent


class Sources:
    """The original and the synthesised source as one (2, n) array would be, without
    stacking them: the original is referenced, not copied (an hour at 44.1 kHz is 635 MB,
    and a recording still decoding fills in under it); a missing or shorter synth reads as
    silence. Supports what playback reads: `shape`, rows `[r]`, `[r, a:b]` and `[:, a:b]`.
    """

    def __init__(self, original: np.ndarray, synth: np.ndarray | None) -> None:
        self.rows = (original, synth if synth is not None else np.zeros(0, np.float32))
        self.shape = (2, max(len(self.rows[0]), len(self.rows[1])))

    def _row(self, r: int, part: slice) -> np.ndarray:
        lo, hi, _ = part.indices(self.shape[1])
        row = self.rows[r]
        if hi <= len(row):
            return row[lo:hi]
        out = np.zeros(max(0, hi - lo), dtype=np.float32)
        got = row[lo:hi]
        out[: len(got)] = got
        return out

    def __getitem__(self, key):
        if isinstance(key, tuple):
            rows, part = key
            if isinstance(rows, slice):
                return np.stack([self._row(0, part), self._row(1, part)])
            return self._row(rows, part)
        return self._row(key, slice(None))


def trim(cache: OrderedDict, size: int = 2) -> None:
    """Drop the oldest entries beyond `size` (each holds a whole recording)."""
    while len(cache) > size:
        cache.popitem(last=False)


_SYNTH_CACHE: OrderedDict[tuple, np.ndarray] = OrderedDict()
_SYNTH_CACHE_SIZE = 4


def render_for_playback(notes: Sequence[NoteEvent], rate: int, seconds: float | None = None
                        ) -> np.ndarray:
    """The notes rendered by `clef_app.audio.synth` (GM piano) at `rate` Hz, cached by note set.

    Args:
        notes: the document's notes (onsets/offsets in seconds).
        rate: output sample rate in Hz (the player's source rate).
        seconds: output length (default: last note + the synth's release tail).
    Returns:
        (n,) float32 mono.
    """
    from clef_app.audio.synth import render_notes  # loads FluidSynth only when needed

    key = (tuple(sorted((n.onset, n.offset, n.pitch, n.velocity) for n in notes)),
           int(rate), seconds)
    if key in _SYNTH_CACHE:
        _SYNTH_CACHE.move_to_end(key)
        return _SYNTH_CACHE[key]
    audio = render_notes(list(notes), sample_rate=rate, seconds=seconds)
    _SYNTH_CACHE[key] = audio
    trim(_SYNTH_CACHE, _SYNTH_CACHE_SIZE)
    return audio
