"""Constrained decoding: notes the user fixed are written into the sequence, deleted ones never.

A re-read (`model/reread.py`) decodes a window while some notes are settled: the user added,
moved, resized or confirmed them, or they lie outside the passage being re-read. Their tokens
are forced into the window's sequence at the place the grammar's canonical order gives them
(tied in at the start, note-on at their onset frame with their velocity bin, note-off at their
offset frame), so the decoder writes everything after them *knowing* they are there, as a
continuation of a transcription. Note-ons of notes the user deleted are masked out.

`ConstrainedRow` narrows `RowState.allowed()` so that every requirement stays reachable: time
never passes a required event, the ascending orders of note-offs and of (velocity bin, key)
note-ons never skip one, a model-written note of a key that a forced note needs is closed
first. A forced note may be ended early (a kept note's end often holds the pedal over later
strikes of its key, which the model must still be able to write); its note-off is then not
needed. EOS waits until every forced token is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from clef_app.config import MIDI_MIN, N_PITCHES
from clef_app.model.grammar import Grammar, RowState
from clef_app.notation.codec import (
    EOS,
    OFF_OFFSET,
    ON_OFFSET,
    TIE_END,
    TIME_OFFSET,
    VEL_OFFSET,
    FrameNote,
    velocity_bin,
)

FORBID_FRAMES = 5  # frames either side of a deleted note's onset where its key may not start


@dataclass
class WindowConstraints:
    """What one window's sequence must and must not hold, in the window's own frames.

    Keys are 0..87 (MIDI pitch - 21).
    """

    n_frames: int
    ties: set[int] = field(default_factory=set)  # keys that must be tied in
    may_tie: set[int] | None = None  # keys that may be tied in besides (None: any)
    ons: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # frame -> (vbin, key)
    offs: dict[int, set[int]] = field(default_factory=dict)  # frame -> keys released there
    held: dict[int, int] = field(default_factory=dict)  # key -> off frame of its forced note
    forbidden: set[tuple[int, int]] = field(default_factory=set)  # (frame, key): no note-on

    @classmethod
    def build(cls, n_frames: int, forced: Iterable[FrameNote], deleted: Iterable[FrameNote],
              may_tie: set[int] | None = None) -> WindowConstraints:
        """Constraints for frames [0, n_frames) from notes on the window's frame grid
        (`forced`: kept notes, written as tokens; `deleted`: onsets never to write)."""
        c = cls(n_frames, may_tie=may_tie)
        for n in forced:
            key = n.pitch - MIDI_MIN
            if not 0 <= key < N_PITCHES or n.off <= 0 or n.on >= n_frames:
                continue
            if n.on < 0:
                c.ties.add(key)
            else:
                c.ons.setdefault(n.on, []).append((velocity_bin(n.velocity), key))
            if n.off <= n_frames:
                c.offs.setdefault(n.off, set()).add(key)
        for ons in c.ons.values():
            ons.sort()
        for n in deleted:
            key = n.pitch - MIDI_MIN
            if 0 <= key < N_PITCHES:
                c.forbidden.update((f, key) for f in range(n.on - FORBID_FRAMES,
                                                           n.on + FORBID_FRAMES + 1))
        c.forbidden -= {(f, k) for f, ons in c.ons.items() for _, k in ons}
        return c

    def off_frame(self, key: int, on: int) -> int:
        """The frame where the forced note of `key` that began at `on` ends (past the window
        when it ends after it)."""
        return min((f for f, keys in self.offs.items() if key in keys and f > on),
                   default=self.n_frames + 1)


class ConstrainedRow(RowState):
    """A sequence's grammar state with forced notes and forbidden onsets."""

    def __init__(self, c: WindowConstraints) -> None:
        super().__init__(c.n_frames)
        self.c = c
        self.pending_ties = set(c.ties)
        self.pending_ons = {(f, k) for f, ons in c.ons.items() for _, k in ons}
        self.pending_offs = {(f, k) for f, keys in c.offs.items() for k in keys}
        self.forced_open = {k: c.off_frame(k, -1) for k in c.ties}  # key -> its off frame
        self.dead_ends = 0  # steps where nothing was allowed (never, if the rules hold)

    def allowed(self) -> np.ndarray:
        ok = super().allowed()
        if self.done:
            return ok
        if not self.satisfied:
            ok[EOS] = False
        if self.in_ties:
            self._narrow_ties(ok)
        else:
            self._narrow_events(ok)
        if not ok.any():
            self.dead_ends += 1
            ok[EOS] = True
        return ok

    def _narrow_ties(self, ok: np.ndarray) -> None:
        keys = np.arange(N_PITCHES)
        if self.c.may_tie is not None:
            tie_ok = np.zeros(N_PITCHES, dtype=bool)
            tie_ok[list(self.c.may_tie | self.c.ties)] = True
            ok[ON_OFFSET:OFF_OFFSET] &= tie_ok
        if self.pending_ties:
            ok[ON_OFFSET:OFF_OFFSET] &= keys <= min(self.pending_ties)
            ok[TIE_END] = False

    def _narrow_events(self, ok: np.ndarray) -> None:
        t = self.time
        pending = self.pending_ons | self.pending_offs
        frames = np.arange(self.n_frames + 1)
        next_frame = min((f for f, _ in pending), default=self.n_frames)
        ok[TIME_OFFSET:TIME_OFFSET + self.n_frames + 1] &= frames <= next_frame
        if t < 0:
            return
        ons_here = sorted((v, k) for f, ons in self.c.ons.items() if f == t for v, k in ons
                          if (t, k) in self.pending_ons)
        must_off = sorted({k for f, k in self.pending_offs if f == t}
                          | {k for _, k in ons_here if self.open[k]})
        if ons_here or must_off:
            ok[TIME_OFFSET:TIME_OFFSET + self.n_frames + 1] = False
        keys = np.arange(N_PITCHES)
        if must_off:
            ok[OFF_OFFSET:] &= keys <= must_off[0]
            ok[VEL_OFFSET:OFF_OFFSET] = False
            return
        blocked = [k for f, k in self.c.forbidden if f == t]
        blocked += [k for _, k in ons_here[1:]]  # their turn comes later
        if ons_here:
            vbin, key = ons_here[0]
            ok[VEL_OFFSET:ON_OFFSET] &= np.arange(ON_OFFSET - VEL_OFFSET) <= vbin
            if self.vel > vbin:
                ok[ON_OFFSET:OFF_OFFSET] = False
            elif self.vel == vbin:
                ok[ON_OFFSET:OFF_OFFSET] &= keys <= key
            else:
                blocked.append(key)  # only in its own velocity bin
        ok[ON_OFFSET + np.array(blocked, dtype=int)] = False

    def update(self, tok: int) -> None:
        was_in_ties, time = self.in_ties, self.time
        super().update(tok)
        if ON_OFFSET <= tok < OFF_OFFSET:
            key = tok - ON_OFFSET
            if was_in_ties:
                self.pending_ties.discard(key)
            elif (time, key) in self.pending_ons:
                self.pending_ons.discard((time, key))
                self.forced_open[key] = self.c.off_frame(key, time)
        elif OFF_OFFSET <= tok:
            key = tok - OFF_OFFSET
            self.pending_offs.discard((time, key))
            # the model may end a forced note early (to strike its key again: a kept note's
            # written end often holds the pedal); then its own note-off is not needed
            self.pending_offs.discard((self.forced_open.pop(key, -1), key))

    @property
    def satisfied(self) -> bool:
        """Every forced token was written."""
        return not (self.pending_ties or self.pending_ons or self.pending_offs)


class ConstrainedGrammar(Grammar):
    """Masks for a batch of constrained sequences (one `WindowConstraints` per row)."""

    def __init__(self, constraints: list[WindowConstraints]) -> None:
        self.rows = [ConstrainedRow(c) for c in constraints]

    def open_keys(self, row: int) -> set[int]:
        """Keys sounding at the end of a decoded row (to tie into the next window)."""
        return {int(k) for k in np.flatnonzero(self.rows[row].open)}
