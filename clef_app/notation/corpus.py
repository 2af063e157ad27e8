"""Scores as performances: a music21 score -> NoteEvents in seconds.

Used to make the demo recording and the score-quality benchmark from public-domain
pieces in music21's corpus. A tempo curve (quarter notes per minute at each position)
gives gradual tempo changes; notes are released slightly before their notated end,
the upper staff sings over the lower one, and downbeats are a little louder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from music21 import stream

from clef_app.notation.events import NoteEvent, new_note_id

LEGATO = 0.92  # of the notated length a key is held
UPPER_VELOCITY, LOWER_VELOCITY = 78, 62
DOWNBEAT_ACCENT = 8  # velocity added on bar lines


@dataclass(frozen=True)
class WrittenNote:
    """A note of the original score, for comparing with what Clef writes."""

    id: int  # the NoteEvent id of its performance
    pitch: int
    name: str  # spelled, e.g. "F#4"
    start: Fraction  # quarter notes from the score's start
    length: Fraction
    staff: int  # 0 = first part


def written_notes(score: stream.Score) -> list[WrittenNote]:
    """Every sounding note of the score (ties merged, grace notes skipped), with ids."""
    out = []
    for staff, part in enumerate(score.parts):
        for el in part.stripTies().flatten().notes:
            ql = Fraction(el.quarterLength).limit_denominator(96)
            if ql <= 0:
                continue
            start = Fraction(el.getOffsetInHierarchy(part)).limit_denominator(96)
            for p in el.pitches:
                out.append(WrittenNote(new_note_id(), p.midi, p.nameWithOctave, start, ql, staff))
    return sorted(out, key=lambda w: (w.start, w.pitch))


def performance(
    written: list[WrittenNote],
    bpm: Callable[[float], float] | float,
    start_seconds: float = 0.5,
    legato: float = LEGATO,
    bar_quarters: float = 4.0,
    first_bar_line: float = 0.0,
) -> list[NoteEvent]:
    """Play written notes: each keeps its id; `bpm` is constant or a function of position.

    Bar lines (for the downbeat accent) are every `bar_quarters` from `first_bar_line`.
    """
    end = float(max((w.start + w.length for w in written), default=0)) + 1.0
    grid = np.arange(0.0, end + 0.25, 0.25)
    rate = np.array([bpm(q) if callable(bpm) else bpm for q in grid], dtype=float)
    seconds = start_seconds + np.concatenate([[0.0], np.cumsum(0.25 * 60.0 / rate[:-1])])
    to_s = lambda q: float(np.interp(q, grid, seconds))  # noqa: E731
    notes = []
    for w in written:
        on = to_s(float(w.start))
        off = on + legato * (to_s(float(w.start + w.length)) - on)
        vel = UPPER_VELOCITY if w.staff == 0 else LOWER_VELOCITY
        if (float(w.start) - first_bar_line) % bar_quarters == 0:
            vel += DOWNBEAT_ACCENT
        notes.append(NoteEvent(on, max(off, on + 0.03), w.pitch, vel, id=w.id))
    return notes


def ritardando(bpm: float, from_q: float, to_q: float, final_ratio: float = 0.8):
    """A tempo curve: `bpm`, slowing linearly to `final_ratio` of it over [from_q, to_q]."""

    def curve(q: float) -> float:
        x = min(max((q - from_q) / max(to_q - from_q, 1e-9), 0.0), 1.0)
        return bpm * (1.0 - (1.0 - final_ratio) * x)

    return curve
