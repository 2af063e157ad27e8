"""Fast keyboard figuration over the whole keyboard: the piano repertoire users bring.

`procedural` writes accompaniment textures in the middle of the keyboard at moderate tempi.
Real études and virtuoso pieces (Chopin, Liszt, Grieg, late Beethoven) add what it lacks:
arpeggios sweeping three or four octaves, scales and runs in octaves and in thirds, wide
left-hand leaps from the lowest octave, tremolos, repeated soft chords, pedalled washes of
ten or more notes, and figuration in the top octave. Every texture here is drawn across
the full range A0-C8, so the lowest and highest octaves are heard as often as the middle.
Times are in beats, as in `procedural`; `perform` humanises them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from clef_app.config import MIDI_MAX, MIDI_MIN
from clef_app.training.perform import Piece
from clef_app.training.procedural import (
    MAJOR,
    MINOR,
    Chord,
    Row,
    _piece,
    _steps,
    nearest,
    pitches_in,
    progression,
)


def _register(rng: np.random.Generator, width: int) -> tuple[int, int]:
    """A span of `width` semitones placed anywhere on the keyboard, extremes as likely."""
    low = int(rng.integers(MIDI_MIN, MIDI_MAX - width + 1))
    return low, low + width


def sweep(rng, chord: Chord, t0, t1, scale) -> list[Row]:
    """Arpeggio over 2-4 octaves, up, down or both (Chopin op. 10/1)."""
    low, high = _register(rng, int(rng.integers(24, 49)))
    tones = pitches_in(chord, low, high)
    if len(tones) < 3:
        return []
    shape = rng.choice(["up", "down", "both"])
    if shape == "down":
        tones = tones[::-1]
    elif shape == "both":
        tones = tones + tones[-2:0:-1]
    sub = float(rng.choice([0.25, 0.125, 1 / 6]))
    held = sub * float(rng.choice([1.0, 2.0, 6.0]))
    return [(t, t + held, tones[i % len(tones)], 0.3 * (i % len(tones) == 0))
            for i, t in enumerate(_steps(t0, t1, sub))]


def scale_run(rng, chord: Chord, t0, t1, scale) -> list[Row]:
    """Scale or chromatic run, single, in octaves, thirds or sixths, anywhere."""
    low, high = _register(rng, int(rng.integers(14, 40)))
    chromatic = rng.random() < 0.2
    span = list(range(low, high + 1)) if chromatic else pitches_in(scale, low, high)
    if rng.random() < 0.5:
        span = span[::-1]
    interval = int(rng.choice([0, 0, 12, -12, 3, 4, 8, 9]))
    sub = float(rng.choice([0.25, 0.125, 1 / 6]))
    rows: list[Row] = []
    for i, t in enumerate(_steps(t0, t1, sub)):
        p = span[i % len(span)]
        rows.append((t, t + sub, p, 0.2))
        if interval:
            rows.append((t, t + sub, p + interval, 0.1))
    return rows


def leaps(rng, chord: Chord, t0, t1, scale) -> list[Row]:
    """Left hand: a bass note in the lowest octaves, then a chord one to three octaves up."""
    bass = nearest(chord[0], float(rng.integers(MIDI_MIN, 45)))
    bass = bass + 12 if bass < MIDI_MIN else bass
    upper = pitches_in(chord, bass + 12 + int(rng.integers(0, 16)), bass + 40)[:4]
    sub = float(rng.choice([0.5, 0.25, 1.0]))
    rows: list[Row] = []
    for i, t in enumerate(_steps(t0, t1, sub)):
        if i % 2 == 0:
            rows.append((t, t + sub, bass, 0.4))
            if rng.random() < 0.4:
                rows.append((t, t + sub, bass + 12, 0.3))
        else:
            rows += [(t, t + sub, p, 0.0) for p in upper]
    return rows


def tremolo(rng, chord: Chord, t0, t1, scale) -> list[Row]:
    """Octave or chord tremolo, often in the bass or the top octave."""
    root = nearest(chord[0], float(rng.choice([rng.integers(24, 48), rng.integers(84, 100)])))
    a, b = [root], [root + 12] if rng.random() < 0.6 else pitches_in(chord, root + 3, root + 12)
    sub = float(rng.choice([0.125, 0.25, 1 / 6]))
    return [(t, t + sub, p, 0.1) for i, t in enumerate(_steps(t0, t1, sub))
            for p in (a if i % 2 == 0 else b) if MIDI_MIN <= p <= MIDI_MAX]


def soft_chords(rng, chord: Chord, t0, t1, scale) -> list[Row]:
    """Repeated chords of 3-6 notes (played softly when the piece is soft)."""
    low, high = _register(rng, int(rng.integers(12, 30)))
    tones = pitches_in(chord, low, high)[: int(rng.integers(3, 7))] or [nearest(chord[0], low)]
    sub = float(rng.choice([0.25, 0.5, 1 / 3]))
    return [(t, t + sub * 0.9, p, 0.0) for t in _steps(t0, t1, sub) for p in tones]


def wash(rng, chord: Chord, t0, t1, scale) -> list[Row]:
    """Pedalled wash: 8-14 chord tones over the whole keyboard, rolled or struck together."""
    pool = pitches_in(chord, MIDI_MIN, MIDI_MAX)
    k = min(len(pool), int(rng.integers(8, 15)))
    tones = sorted(int(p) for p in rng.choice(pool, k, replace=False))
    roll = float(rng.choice([0.0, 0.0, 0.05, 0.125]))
    return [(t0 + i * roll, t1, p, 0.2) for i, p in enumerate(tones)]


def double_notes(rng, chord: Chord, t0, t1, scale) -> list[Row]:
    """Right hand in sixths or thirds with a moving inner voice, high on the keyboard."""
    center = int(rng.integers(72, 100))
    rows: list[Row] = []
    sub = float(rng.choice([0.25, 0.5]))
    pool = pitches_in(scale, center - 10, center + 10)
    for t in _steps(t0, t1, sub):
        p = int(rng.choice(pool))
        for q in (p, p - int(rng.choice([3, 4, 8, 9]))):
            rows.append((t, t + sub, q, 0.2))
    return rows


TEXTURES: dict[str, Callable] = {
    "sweep": sweep, "scale_run": scale_run, "leaps": leaps, "tremolo": tremolo,
    "soft_chords": soft_chords, "wash": wash, "double_notes": double_notes,
}  # fmt: skip


def generate(rng: np.random.Generator, seconds: float, bpm: float) -> Piece:
    """A figuration piece of about `seconds` at `bpm`: two simultaneous textures per section
    (one per hand), changing every few chords."""
    n_beats = float(np.ceil(seconds * bpm / 60.0)) + 2
    bar = float(rng.choice([4.0, 3.0, 2.0]))
    span = bar * float(rng.choice([0.5, 1.0, 1.0]))
    n_chords = int(np.ceil(n_beats / span))
    tonic, minor = int(rng.integers(12)), bool(rng.random() < 0.45)
    chords = progression(rng, n_chords, tonic, minor)
    scale = [(tonic + s) % 12 for s in (MINOR if minor else MAJOR)]
    names = list(TEXTURES)
    rows: list[Row] = []
    i = 0
    while i < n_chords:
        k = int(rng.integers(1, 5))
        hands = rng.choice(names, size=int(rng.choice([1, 2, 2])), replace=False)
        for j, chord in enumerate(chords[i : i + k]):
            a, b = (i + j) * span, (i + j + 1) * span
            for name in hands:
                rows += TEXTURES[str(name)](rng, chord, a, b, scale)
        i += k
    return _piece("procedural:figuration", rows, np.arange(n_chords) * span, bar)
