"""Note ends from the roll head's frame probabilities.

The decoder ends a note where its segment says the key is released, but it reads 2.56 s at a
time, and a held or pedalled note outlives the segment's evidence: on real piano (maps-dev,
v3) Clef's notes ended too early, frame F1 0.66 against 0.73 for Basic Pitch. The roll head
gives, every 10 ms and for every key, the probability that the key sounds. A note whose key
still sounds at its decoder offset is held while the frame probability stays at or above a
threshold, and never past the next onset of that key. A note is only lengthened, never cut.
With several readings the probabilities are their mean.

Streams: `Frames` gathers the readings' frame probabilities as segments are decoded;
`Sustain.settle` returns a note once its end is decided, so the result is the same however
the recording is cut into batches.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from clef_app.config import FRAMES_PER_SECOND, MIDI_MIN, N_PITCHES
from clef_app.notation.events import NoteEvent


class Frames:
    """The mean frame probabilities (frames, 88) of every reading, from absolute frame 0.

    Readings add segment windows (`add`); `complete_to(f)` says every reading has added all
    its frames before f. Rows before `base` have been dropped (`drop_before`).
    """

    def __init__(self) -> None:
        self.base = 0
        self.complete = 0
        self._sum = np.zeros((0, N_PITCHES), dtype=np.float32)
        self._count = np.zeros(0, dtype=np.float32)

    def add(self, start: int, rows: np.ndarray) -> None:
        """Add one window's (frames, 88) probabilities starting at absolute frame `start`
        (frames before 0 or already dropped are ignored)."""
        rows = np.asarray(rows, dtype=np.float32)
        skip = max(0, self.base - start)
        rows, start = rows[skip:], start + skip
        end = start + len(rows)
        grow = end - self.base - len(self._count)
        if grow > 0:
            self._sum = np.concatenate([self._sum, np.zeros((grow, N_PITCHES), np.float32)])
            self._count = np.concatenate([self._count, np.zeros(grow, np.float32)])
        self._sum[start - self.base:end - self.base] += rows
        self._count[start - self.base:end - self.base] += 1

    def complete_to(self, frame: float) -> None:
        self.complete = max(self.complete, frame)

    @property
    def end(self) -> int:
        """The frame after the last one any reading has added."""
        return self.base + len(self._count)

    def key(self, key: int, lo: int, hi: int) -> np.ndarray:
        """Mean probabilities of `key` in absolute frames [lo, hi) (lo >= base)."""
        a, b = lo - self.base, max(lo, min(hi, self.end)) - self.base
        return self._sum[a:b, key] / np.maximum(self._count[a:b], 1.0)

    def mean(self) -> np.ndarray:
        """Every kept row, averaged: (frames from `base`, 88)."""
        return self._sum / np.maximum(self._count, 1.0)[:, None]

    def drop_before(self, frame: int) -> None:
        cut = min(max(0, frame - self.base), len(self._count))
        self._sum, self._count = self._sum[cut:], self._count[cut:]
        self.base += cut


class Sustain:
    """Lengthens notes while their key's frame probability stays at or above `threshold`."""

    def __init__(self, threshold: float, frames: Frames, fps: int = FRAMES_PER_SECOND,
                 time_offset: float = 0.0) -> None:
        """`frames` counts from `time_offset` (s)."""
        self.threshold, self.frames, self.fps = threshold, frames, fps
        self.time_offset = time_offset
        self._pending: list[NoteEvent] = []
        self._onsets: dict[int, list[float]] = defaultdict(list)  # pitch -> onsets seen

    def settle(self, notes: Iterable[NoteEvent], known: float) -> list[NoteEvent]:
        """Take `notes`; return those whose end is decided, lengthened.

        Args:
            known: every note starting before this time (s) has been given.
        """
        for n in notes:
            self._pending.append(n)
            self._onsets[n.pitch].append(n.onset)
        out, wait = [], []
        for n in self._pending:
            end = self._end(n, known)
            if end is None:
                wait.append(n)
            else:
                out.append(replace(n, offset=end) if end > n.offset else n)
        self._pending = wait
        self._forget(known)
        return out

    def finish(self, notes: Iterable[NoteEvent] = ()) -> list[NoteEvent]:
        """Every note left, once every reading is complete."""
        self.frames.complete_to(math.inf)
        return self.settle(notes, math.inf)

    def waiting(self) -> list[NoteEvent]:
        """The notes whose end is not decided yet, held as far as the frames go so far."""
        return [replace(n, offset=max(n.offset, self._reach(n)[0])) for n in self._pending]

    def earliest_waiting(self) -> float:
        """s: the onset of the earliest note whose end is not decided yet (inf if none)."""
        return min((n.onset for n in self._pending), default=math.inf)

    def _end(self, n: NoteEvent, known: float) -> float | None:
        """The note's end in s, or None while it depends on frames or notes not in yet."""
        end, decided = self._reach(n)
        if not decided:
            return None
        if end <= n.offset:
            return n.offset
        return end if end <= known else None  # else a note of this key may begin before it

    def _reach(self, n: NoteEvent) -> tuple[float, bool]:
        """Where the note's key stops sounding (s), never past the next onset of the key
        known so far; and whether that is decided by the frames in so far."""
        later = [t for t in self._onsets[n.pitch] if t > n.onset]
        cap = min(later, default=math.inf)
        key, start = n.pitch - MIDI_MIN, self._frame(n.offset)
        cap_frame = math.ceil((cap - self.time_offset) * self.fps) if later else math.inf
        if not 0 <= key < N_PITCHES or start >= cap_frame:
            return n.offset, True
        lo = max(start, self.frames.base)
        stop = min(self.frames.end, self.frames.complete, cap_frame)
        low = np.flatnonzero(self.frames.key(key, lo, int(stop)) < self.threshold)
        if len(low):
            return min(cap, self._time(lo + int(low[0]))), True
        # still sounding where every reading's frames end so far?
        decided = stop >= cap_frame or self.frames.complete == math.inf
        return min(cap, self._time(stop)), decided

    def _frame(self, t: float) -> int:
        return round((t - self.time_offset) * self.fps)

    def _time(self, frame: float) -> float:
        return self.time_offset + frame / self.fps

    def _forget(self, known: float) -> None:
        """Drop frames and onsets no pending or future note can need."""
        if known == math.inf:
            return
        first = min([known] + [n.offset for n in self._pending])
        self.frames.drop_before(self._frame(first) - 1)
        for onsets in self._onsets.values():
            onsets[:] = [t for t in onsets if t >= first - 1.0]


def sustain_notes(notes: list[NoteEvent], frames: np.ndarray, threshold: float,
                  fps: int = FRAMES_PER_SECOND) -> list[NoteEvent]:
    """`Sustain` over a whole recording: (frames, 88) mean frame probabilities from 0."""
    store = Frames()
    store.add(0, frames)
    return Sustain(threshold, store, fps).finish(notes)
