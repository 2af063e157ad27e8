"""Generated piano music: what a pianist's two hands play, over random chord progressions.

Textures: Alberti bass, block and repeated chords, arpeggios, broken and doubled octaves,
stride, held bass under moving voices, melodies (alone, in octaves, in thirds, harmonised),
scales and runs, trills, fast repeated notes, dense 4-8-note chords, and unstructured random
notes so the model does not lean on tonal grammar. All times are in beats; `perform` turns
them into a humanised performance.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from clef_app.config import MIDI_MAX, MIDI_MIN
from clef_app.training.perform import Piece

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 11)  # harmonic minor: a major V
Row = tuple[float, float, int, float]  # start_beat, end_beat, pitch, accent
Chord = list[int]  # pitch classes, root first


def progression(rng: np.random.Generator, n: int, tonic: int, minor: bool) -> list[Chord]:
    """n chords: a functional-ish walk over diatonic triads/sevenths, some chromatic ones."""
    scale = [(tonic + s) % 12 for s in (MINOR if minor else MAJOR)]
    moves = np.array([3, 4, 1, 5, 6, 2])  # degree steps: 4th up, 5th up, 2nd up, ...
    degree, chords = 0, []
    for i in range(n):
        if i and rng.random() < 0.1:  # a chromatic chord: random root, major or minor
            root = int(rng.integers(12))
            chords.append([root, (root + int(rng.choice([3, 4]))) % 12, (root + 7) % 12])
            continue
        size = 4 if rng.random() < 0.3 else 3
        chords.append([scale[(degree + 2 * k) % 7] for k in range(size)])
        degree = (degree + int(rng.choice(moves, p=[0.35, 0.2, 0.15, 0.1, 0.1, 0.1]))) % 7
    return chords


def pitches_in(chord: Chord, low: int, high: int) -> list[int]:
    """All MIDI pitches in [low, high] whose pitch class is in the chord, ascending."""
    return [p for p in range(max(low, MIDI_MIN), min(high, MIDI_MAX) + 1) if p % 12 in chord]


def nearest(pc: int, center: float) -> int:
    """The MIDI pitch of pitch class pc closest to center."""
    base = int(center) - int(center) % 12 + pc
    return int(min((base - 12, base, base + 12), key=lambda p: abs(p - center)))


def _steps(t0: float, t1: float, sub: float) -> np.ndarray:
    return np.arange(t0, t1 - 1e-6, sub)


# Left-hand patterns: (rng, chord, t0, t1, low register pitch) -> rows
def alberti(rng, chord, t0, t1, low) -> list[Row]:
    root = nearest(chord[0], low)
    third, fifth = nearest(chord[1], root + 5), nearest(chord[2 % len(chord)], root + 8)
    cycle = [root, fifth, third, fifth]
    sub = float(rng.choice([0.5, 0.25]))
    return [
        (t, t + sub, cycle[i % 4], 0.2 * (i % 4 == 0)) for i, t in enumerate(_steps(t0, t1, sub))
    ]


def block(rng, chord, t0, t1, low) -> list[Row]:
    tones = pitches_in(chord, low, low + int(rng.integers(10, 20)))[:4] or [nearest(chord[0], low)]
    sub = float(rng.choice([t1 - t0, 1.0, 2.0, 0.5]))
    return [(t, t + sub, p, 0.2) for t in _steps(t0, t1, sub) for p in tones]


def arpeggio(rng, chord, t0, t1, low) -> list[Row]:
    tones = pitches_in(chord, low, low + int(rng.integers(12, 30)))
    if rng.random() < 0.5:
        tones = tones + tones[-2:0:-1]  # up and down
    sub = float(rng.choice([0.5, 0.25, 1 / 3]))
    held = float(rng.choice([sub, 2 * sub, 4 * sub]))
    return [(t, t + held, tones[i % len(tones)], 0.1) for i, t in enumerate(_steps(t0, t1, sub))]


def octaves(rng, chord, t0, t1, low) -> list[Row]:
    root = nearest(chord[0], low)
    sub = float(rng.choice([1.0, 0.5, 2.0]))
    broken = rng.random() < 0.5
    rows: list[Row] = []
    for i, t in enumerate(_steps(t0, t1, sub)):
        if broken:
            rows.append((t, t + sub, root + 12 * (i % 2), 0.2))
        else:
            rows += [(t, t + sub, root, 0.3), (t, t + sub, root + 12, 0.3)]
    return rows


def stride(rng, chord, t0, t1, low) -> list[Row]:
    root = nearest(chord[0], low)
    upper = pitches_in(chord, root + 10, root + 22)[:3]
    rows: list[Row] = []
    for i, t in enumerate(_steps(t0, t1, 1.0)):
        tones = [root - 12 * (rng.random() < 0.5), root] if i % 2 == 0 else upper
        rows += [(t, t + 0.5, p, 0.3 * (i % 2 == 0)) for p in tones]
    return rows


def held_bass(rng, chord, t0, t1, low) -> list[Row]:
    root = nearest(chord[0], low)
    rows: list[Row] = [(t0, t1, root, 0.3), (t0, t1, root - 12, 0.2)][: int(rng.integers(1, 3))]
    inner = pitches_in(chord, root + 7, root + 19)
    sub = float(rng.choice([1.0, 0.5]))
    return rows + [(t, t + sub, int(rng.choice(inner)), 0.0) for t in _steps(t0, t1, sub)]


def repeated(rng, chord, t0, t1, low) -> list[Row]:
    tones = pitches_in(chord, low + 5, low + 17)[:3] or [nearest(chord[0], low + 8)]
    sub = float(rng.choice([0.25, 0.5, 1 / 3]))
    return [(t, t + sub * 0.8, p, 0.0) for t in _steps(t0, t1, sub) for p in tones]


# Right-hand patterns: (rng, chord, t0, t1, scale, high register centre) -> rows
def melody(rng, chord, t0, t1, scale, center) -> list[Row]:
    durations = np.array([0.25, 0.5, 0.5, 1.0, 1.0, 1.5, 2.0])
    pitch, t, rows = nearest(chord[-1], center), t0, []
    doubling = int(rng.choice([0, 0, 12, -12, -3, -4, -8, -9]))
    while t < t1 - 1e-6:
        d = min(float(rng.choice(durations)), t1 - t)
        pool = [p for p in range(pitch - 7, pitch + 8) if p % 12 in (chord if d >= 1 else scale)]
        pitch = int(rng.choice(pool)) if pool else pitch
        pitch = int(np.clip(pitch, center - 12, center + 14))
        rows.append((t, t + d, pitch, 1.0))
        if doubling:
            rows.append((t, t + d, pitch + doubling, 0.4))
        t += d
    return rows


def harmonised(rng, chord, t0, t1, scale, center) -> list[Row]:
    rows = melody(rng, chord, t0, t1, scale, center)
    out: list[Row] = []
    for start, end, p, acc in rows:
        below = [q for q in pitches_in(chord, p - 12, p - 1)][-int(rng.integers(1, 4)) :]
        out += [(start, end, p, acc)] + [(start, end, q, 0.2) for q in below]
    return out


def run(rng, chord, t0, t1, scale, center) -> list[Row]:
    span = pitches_in(scale, center - 12, center + int(rng.integers(7, 26)))
    if rng.random() < 0.4:
        span = span[::-1]
    sub = float(rng.choice([0.25, 0.125, 1 / 6]))
    return [(t, t + sub, span[i % len(span)], 0.3) for i, t in enumerate(_steps(t0, t1, sub))]


def trill(rng, chord, t0, t1, scale, center) -> list[Row]:
    main = nearest(chord[int(rng.integers(len(chord)))], center)
    upper = next((p for p in range(main + 1, main + 3) if p % 12 in scale), main + 2)
    sub = float(rng.choice([0.125, 0.25, 1 / 6]))
    return [(t, t + sub, (main, upper)[i % 2], 0.3) for i, t in enumerate(_steps(t0, t1, sub))]


def fast_repeats(rng, chord, t0, t1, scale, center) -> list[Row]:
    p = nearest(chord[int(rng.integers(len(chord)))], center)
    sub = float(rng.choice([0.125, 0.25]))
    return [(t, t + sub * 0.7, p, 0.3) for t in _steps(t0, t1, sub)]


def dense(rng, chord, t0, t1, scale, center) -> list[Row]:
    pool = pitches_in(chord, center - 30, center + 14)
    rows: list[Row] = []
    sub = float(rng.choice([0.5, 1.0, 2.0, t1 - t0]))
    for t in _steps(t0, t1, sub):
        k = min(len(pool), int(rng.integers(4, 9)))
        rows += [(t, t + sub, int(p), 0.3) for p in rng.choice(pool, k, replace=False)]
    return rows


LEFT: dict[str, Callable] = {
    "alberti": alberti, "block": block, "arpeggio": arpeggio, "octaves": octaves,
    "stride": stride, "held_bass": held_bass, "repeated": repeated,
}  # fmt: skip
RIGHT: dict[str, Callable] = {
    "melody": melody, "harmonised": harmonised, "run": run, "trill": trill,
    "fast_repeats": fast_repeats, "dense": dense, "arpeggio": None, "rest": None,
}  # fmt: skip


def random_notes(rng: np.random.Generator, n_beats: float) -> list[Row]:
    """Unstructured notes: Poisson onsets, any pitch, any length, 1-6 at a time."""
    rows: list[Row] = []
    t = 0.0
    rate = rng.uniform(2, 10)  # note groups per beat... thinned below
    lo = int(rng.integers(MIDI_MIN, 60))
    hi = int(rng.integers(lo + 12, MIDI_MAX + 1))
    while t < n_beats:
        for p in rng.integers(lo, hi + 1, int(rng.integers(1, 7))):
            rows.append((t, t + float(rng.exponential(1.0)) + 0.1, int(p), 0.0))
        t += float(rng.exponential(4.0 / rate))
    return rows


def section(
    rng: np.random.Generator, chords: list[Chord], t0: float, span: float, scale
) -> list[Row]:
    """One texture (a left- and a right-hand pattern) over consecutive chords."""
    left = str(rng.choice(list(LEFT)))
    right = str(rng.choice(list(RIGHT)))
    low, center = int(rng.integers(31, 55)), int(rng.integers(62, 84))
    rows: list[Row] = []
    for i, chord in enumerate(chords):
        a, b = t0 + i * span, t0 + (i + 1) * span
        rows += LEFT[left](rng, chord, a, b, low)
        if right == "arpeggio":
            rows += arpeggio(rng, chord, a, b, center - 8)
        elif right != "rest":
            rows += RIGHT[right](rng, chord, a, b, scale, center)
    return rows


def generate(rng: np.random.Generator, seconds: float, bpm: float) -> Piece:
    """A procedural piece lasting about `seconds` at `bpm` quarter notes per minute."""
    n_beats = float(np.ceil(seconds * bpm / 60.0)) + 2
    if rng.random() < 0.12:
        rows = random_notes(rng, n_beats)
        return _piece("procedural:random", rows, np.arange(0, n_beats, 4.0), 4.0)
    bar = float(rng.choice([4.0, 4.0, 3.0, 2.0]))
    span = bar * float(rng.choice([0.5, 1.0, 1.0, 2.0]))
    n_chords = int(np.ceil(n_beats / span))
    tonic, minor = int(rng.integers(12)), bool(rng.random() < 0.35)
    chords = progression(rng, n_chords, tonic, minor)
    scale = [(tonic + s) % 12 for s in (MINOR if minor else MAJOR)]
    rows: list[Row] = []
    i = 0
    while i < n_chords:
        k = int(rng.integers(2, 9))
        rows += section(rng, chords[i : i + k], i * span, span, scale)
        i += k
    return _piece("procedural:tonal", rows, np.arange(n_chords) * span, bar)


def _piece(name: str, rows: list[Row], changes: np.ndarray, bar: float) -> Piece:
    notes = np.array(rows, dtype=np.float64).reshape(-1, 4)
    notes = notes[
        (notes[:, 2] >= MIDI_MIN) & (notes[:, 2] <= MIDI_MAX) & (notes[:, 1] > notes[:, 0])
    ]
    return Piece(name, notes, np.asarray(changes, dtype=np.float64), bar)
