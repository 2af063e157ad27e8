"""Key estimation and pitch spelling by key.

The key is the major or minor key whose profile (Aarden-Essen, as in music21) best
correlates with the duration-weighted pitch-class histogram, bass notes counting double;
the first and last bass notes nudge towards their tonic. A MIDI pitch is spelled as an
interval above the tonic (diatonic degrees, then m2 m3 A4 m6 m7 for the chromatic ones,
which gives the raised 6th and 7th in minor), simplified if that needs a double accidental.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from music21 import interval, key, pitch

from clef_app.notation.quantize import QNote

BASS_WEIGHT = 1.0  # extra weight of the lowest note of each onset
CADENCE_BONUS = 0.08  # correlation added when the last bass note is the tonic
OPENING_BONUS = 0.04  # ... when the first bass note is
MAX_WEIGHT_QUARTERS = 4  # a long note counts at most this many quarters
NAMES = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")
# semitones above the tonic -> interval name
DEGREES = ("P1", "m2", "M2", "m3", "M3", "P4", "A4", "P5", "m6", "M6", "m7", "M7")


@lru_cache(maxsize=1)
def _profiles() -> np.ndarray:
    """(24, 12): major keys on C..B, then minor keys, each profile rotated to its tonic."""
    from music21.analysis.discrete import AardenEssen

    ae = AardenEssen()
    rows = []
    for mode in ("major", "minor"):
        base = np.array(ae.getWeights(mode), dtype=float)
        rows.extend(np.roll(base, t) for t in range(12))
    return np.array(rows)


def key_name(index: int) -> str:
    """0-11 major on C..B, 12-23 minor."""
    tonic = NAMES[index % 12]
    if index >= 12 and tonic in ("E-", "A-"):  # D#/G# minor read better than E-/A- minor
        tonic = {"E-": "D#", "A-": "G#"}[tonic]
    return f"{tonic} {'minor' if index >= 12 else 'major'}"


def estimate_key(qnotes: Sequence[QNote]) -> str:
    """The most likely key, e.g. 'D major' or 'B- minor' (music21 names)."""
    if not qnotes:
        return "C major"
    hist = np.zeros(12)
    by_start: dict = {}
    for q in qnotes:
        hist[q.pitch % 12] += min(float(q.length), MAX_WEIGHT_QUARTERS)
        if q.start not in by_start or q.pitch < by_start[q.start].pitch:
            by_start[q.start] = q
    for q in by_start.values():
        hist[q.pitch % 12] += BASS_WEIGHT * min(float(q.length), MAX_WEIGHT_QUARTERS)
    prof = _profiles()
    h = hist - hist.mean()
    p = prof - prof.mean(axis=1, keepdims=True)
    corr = (p @ h) / (np.linalg.norm(p, axis=1) * (np.linalg.norm(h) + 1e-9))
    starts = sorted(by_start)
    tonics = np.arange(24) % 12
    corr += CADENCE_BONUS * (tonics == by_start[starts[-1]].pitch % 12)
    corr += OPENING_BONUS * (tonics == by_start[starts[0]].pitch % 12)
    return key_name(int(np.argmax(corr)))


def parse_key(text: str) -> key.Key:
    """'D major', 'f# minor', 'B-', 'Bb minor' -> music21 Key."""
    parts = text.strip().replace("♭", "-").replace("♯", "#").split()
    if not parts:
        raise ValueError("empty key name")
    tonic = parts[0]
    if len(tonic) > 1 and tonic[1:] in ("b", "bb"):
        tonic = tonic[0] + "-" * len(tonic[1:])
    mode = parts[1].lower() if len(parts) > 1 else "major"
    if mode not in ("major", "minor"):
        raise ValueError(f"key {text!r}: mode must be major or minor")
    try:
        return key.Key(tonic[0].upper() + tonic[1:], mode)
    except Exception:  # music21 raises assorted types for names it does not know
        raise ValueError(f"key {text!r} is not a key music21 knows") from None


def spell(midi: int, key_text: str) -> pitch.Pitch:
    """The pitch with this MIDI number spelled in this key (music21 Pitch, fresh copy)."""
    return pitch.Pitch(_spelled_name(midi, key_text))


@lru_cache(maxsize=4096)
def _spelled_name(midi: int, key_text: str) -> str:
    k = parse_key(key_text)
    tonic = k.tonic
    semis = (midi - tonic.midi) % 12
    p = interval.Interval(DEGREES[semis]).transposePitch(pitch.Pitch(tonic.name + "4"))
    if p.accidental is not None and abs(p.accidental.alter) > 1:
        p = p.getEnharmonic()
    p.octave = None
    p = pitch.Pitch(p.name)
    p.octave = 4
    p.octave += (midi - p.midi) // 12
    if p.midi != midi:
        raise AssertionError(f"spelling {midi} in {key_text} gave {p}")
    return p.nameWithOctave
