"""The token grammar as a decoding constraint: only canonical sequences can be written.

`encode_segment` writes one canonical form: ascending tie pitches, strictly increasing
times, at each time the note-offs (ascending, only of sounding notes) before the note-ons
(ascending by velocity bin, then pitch; only of silent keys), a VEL token only when the bin
changes. Masking everything else makes loops such as "ON 58 ON 58 ..." impossible, so even
an undertrained model's output is well formed.
"""

from __future__ import annotations

import numpy as np

from clef_app.config import N_PITCHES
from clef_app.notation.codec import (
    BOS,
    EOS,
    OFF_OFFSET,
    ON_OFFSET,
    PAD,
    TIE_END,
    TIME_OFFSET,
    VEL_OFFSET,
    VOCAB_SIZE,
)

N_VEL = ON_OFFSET - VEL_OFFSET


class RowState:
    """What one sequence has written so far."""

    def __init__(self, n_frames: int) -> None:
        self.n_frames = n_frames
        self.in_ties, self.done = True, False
        self.time = -1  # no TIME yet
        self.vel = -1  # last VEL bin written
        self.open = np.zeros(N_PITCHES, dtype=bool)  # keys sounding
        self.last_tie = -1
        self.last_off = -1  # at the current time
        self.last_on = (-1, -1)  # (vel bin, key) at the current time

    def allowed(self) -> np.ndarray:
        ok = np.zeros(VOCAB_SIZE, dtype=bool)
        if self.done:
            ok[PAD] = True
            return ok
        ok[EOS] = True
        keys = np.arange(N_PITCHES)
        if self.in_ties:
            ok[TIE_END] = True
            ok[ON_OFFSET:OFF_OFFSET] = keys > self.last_tie
            return ok
        ok[TIME_OFFSET + self.time + 1 : TIME_OFFSET + self.n_frames + 1] = True
        if self.time < 0:
            return ok
        on_started = self.last_on != (-1, -1) or self.vel_changed_here
        if not on_started:
            ok[OFF_OFFSET:] = self.open & (keys > self.last_off)
        vbin, key = self.last_on
        bins = np.arange(N_VEL)
        ok[VEL_OFFSET:ON_OFFSET] = (bins != self.vel) & (bins > vbin)
        if self.vel >= 0:
            later = keys > key if self.vel == vbin else np.ones(N_PITCHES, dtype=bool)
            ok[ON_OFFSET:OFF_OFFSET] = ~self.open & later & (self.vel >= vbin)
        return ok

    vel_changed_here = False

    def update(self, tok: int) -> None:
        if self.done or tok == BOS:
            return
        if tok in (EOS, PAD):
            self.done = True
        elif tok == TIE_END:
            self.in_ties = False
        elif TIME_OFFSET <= tok < VEL_OFFSET:
            self.in_ties = False
            self.time, self.last_off, self.last_on = tok - TIME_OFFSET, -1, (-1, -1)
            self.vel_changed_here = False
        elif VEL_OFFSET <= tok < ON_OFFSET:
            self.vel, self.vel_changed_here = tok - VEL_OFFSET, True
        elif ON_OFFSET <= tok < OFF_OFFSET:
            key = tok - ON_OFFSET
            if self.in_ties:
                self.last_tie = key
            else:
                self.last_on = (self.vel, key)
            self.open[key] = True
        else:
            key = tok - OFF_OFFSET
            self.last_off, self.open[key] = key, False


class Grammar:
    """Masks for a batch of sequences being decoded together."""

    def __init__(self, batch: int, n_frames: int) -> None:
        self.rows = [RowState(n_frames) for _ in range(batch)]

    def mask(self, rows: list[int] | None = None) -> np.ndarray:
        """(len(rows), vocab) bool: the tokens each of `rows` (default: every row) may
        write next."""
        return np.stack([r.allowed() for r in self._picked(rows)])

    def update(self, tokens: list[int], rows: list[int] | None = None) -> None:
        """Row `rows[i]` (default: row i) wrote `tokens[i]`."""
        for row, tok in zip(self._picked(rows), tokens, strict=True):
            row.update(tok)

    def _picked(self, rows: list[int] | None) -> list[RowState]:
        """The states of `rows` (None: every row), in that order."""
        return self.rows if rows is None else [self.rows[i] for i in rows]
