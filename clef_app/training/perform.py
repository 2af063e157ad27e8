"""A score (notes in beats) played like a pianist: tempo drift, timing jitter, velocity
shaping, sustain pedal, and labels as a piano's keys and dampers make them.

Times in a `Piece` are in beats (quarter lengths); everything performed is in seconds.
Label offsets include the pedal (a note lasts while the pedal holds it, as in MAPS), and a
note is cut when its key is struck again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from clef_app.config import MIDI_MAX, MIDI_MIN
from clef_app.notation.events import NoteEvent

MIN_NOTE_SECONDS = 0.03  # s: shortest key press kept
# s: a key struck again sooner than this after its last strike is held instead. Real piano
# repeats a key within 100 ms for 0-4 % of its notes (maps-dev), the generators' fast
# repeats, tremolos and trills did for 8.5 % (down to 47 ms apart), and the decoder learnt
# to write held notes as chains of such strikes (model card, v4.1)
MIN_RESTRIKE_SECONDS = 0.09
GRID_PER_BEAT = 16  # tempo map resolution: samples per beat


@dataclass(frozen=True)
class Piece:
    """A score: notes as rows (start_beat, end_beat, midi_pitch, accent 0-1); `changes` are
    beats where the harmony or bar changes (pedal points)."""

    name: str
    notes: np.ndarray  # (n, 4) float64
    changes: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (m,) beats
    beats_per_bar: float = 4.0


@dataclass(frozen=True)
class Performance:
    """What the synthesizer plays (`keys`, `pedal`) and what the model must hear (`labels`)."""

    keys: list[NoteEvent]  # key press to key release, s
    pedal: list[tuple[float, float]]  # sustain pedal (down_s, up_s)
    labels: list[NoteEvent]  # onset to sound end (pedal included), s
    params: dict


def tempo_map(
    n_beats: float, rng: np.random.Generator, bpm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Beats grid and their times in s, with smooth tempo drift (±~12 %) and jitter.

    Returns:
        (beats, seconds), both shape (k,), for np.interp.
    """
    k = int(np.ceil(n_beats * GRID_PER_BEAT)) + 2
    beats = np.arange(k) / GRID_PER_BEAT
    drift = np.zeros(k)
    depth = rng.uniform(0.0, 0.12)
    for _ in range(3):  # a few slow sinusoids: phrases speed up and relax
        period = rng.uniform(4, 32)  # beats
        drift += depth / 3 * np.sin(2 * np.pi * beats / period + rng.uniform(0, 2 * np.pi))
    if rng.random() < 0.3:  # a ritardando at the end
        drift -= 0.25 * np.clip((beats - beats[-1] + 4) / 4, 0, 1)
    seconds_per_beat = 60.0 / (bpm * np.exp(drift))
    seconds = np.concatenate([[0.0], np.cumsum(seconds_per_beat[:-1] / GRID_PER_BEAT)])
    return beats, seconds


def velocities(piece: Piece, rng: np.random.Generator) -> np.ndarray:
    """MIDI velocities 1-127 per note: dynamic level, slow swells, accents, melody, noise."""
    starts, accent = piece.notes[:, 0], piece.notes[:, 3]
    # a quarter of the pieces soft (pp-p), the rest anywhere from mp to ff
    level = rng.uniform(12, 40) if rng.random() < 0.25 else rng.uniform(35, 110)
    spread = rng.uniform(0.3, 1.0)
    swell = np.zeros(len(starts))
    for _ in range(2):
        period = rng.uniform(8, 48)
        swell += rng.uniform(0, 18) * np.sin(2 * np.pi * starts / period + rng.uniform(0, 7))
    downbeat = np.isclose(np.mod(starts, piece.beats_per_bar), 0.0, atol=1e-3)
    v = level + spread * (swell + rng.uniform(0, 12) * downbeat + rng.uniform(5, 20) * accent)
    v += rng.normal(0, rng.uniform(2, 9), len(starts))
    return np.clip(np.round(v), 1, 127)


def key_presses(piece: Piece, rng: np.random.Generator, bpm: float) -> tuple[np.ndarray, dict]:
    """Humanised key presses, rows (onset_s, release_s, pitch, velocity), and the params."""
    notes = piece.notes
    beats, seconds = tempo_map(float(notes[:, 1].max()) + 1, rng, bpm)
    onset = np.interp(notes[:, 0], beats, seconds)
    release = np.interp(notes[:, 1], beats, seconds)
    jitter = rng.uniform(0.004, 0.015)  # s: sd of timing noise
    chord_ids = np.unique(np.round(notes[:, 0] * 96), return_inverse=True)[1]
    shared = rng.normal(0, jitter, chord_ids.max() + 1)[chord_ids]
    onset = onset + shared + rng.normal(0, jitter / 2, len(onset))
    legato = rng.uniform(0.55, 1.05)  # articulation: fraction of the written length held
    release = onset + np.maximum((release - onset) * legato, MIN_NOTE_SECONDS)
    release += rng.normal(0, jitter, len(release)).clip(-0.02, 0.05)
    release = np.maximum(release, onset + MIN_NOTE_SECONDS)
    out = np.stack([onset, release, notes[:, 2], velocities(piece, rng)], axis=1)
    out[:, :2] -= out[:, 0].min()
    params = {
        "bpm": round(bpm, 1),
        "jitter_ms": round(1000 * jitter, 1),
        "legato": round(legato, 2),
    }
    return out, params


def piano_keys(rows: np.ndarray, min_restrike: float = MIN_RESTRIKE_SECONDS) -> np.ndarray:
    """One key, one string: merge unisons (same onset) and strikes sooner than
    `min_restrike` after the key's last one, cut a note when its key is struck again.

    Args:
        rows: (n, 4) onset_s, offset_s, pitch, velocity.
    Returns:
        (m, 4) sorted by onset, pitch.
    """
    rows = rows[np.lexsort((rows[:, 0], rows[:, 2]))]
    kept: list[np.ndarray] = []
    for row in rows:
        prev = kept[-1] if kept and kept[-1][2] == row[2] else None
        if prev is not None and row[0] - prev[0] < max(min_restrike, MIN_NOTE_SECONDS):
            prev[1] = max(prev[1], row[1])
            prev[3] = max(prev[3], row[3])
            continue
        if prev is not None and prev[1] > row[0]:
            prev[1] = row[0]
        kept.append(row.copy())
    out = np.array(kept).reshape(-1, 4)
    return out[np.lexsort((out[:, 2], out[:, 0]))]


def pedal_intervals(
    change_s: np.ndarray, end_s: float, rng: np.random.Generator
) -> tuple[list[tuple[float, float]], str]:
    """Sustain pedal (down, up) in s: none, legato pedalling at changes, or random presses."""
    style = rng.choice(["none", "changes", "random", "long"], p=[0.3, 0.4, 0.2, 0.1])
    if style == "changes" and len(change_s) < 2:
        style = "random"
    if style == "none":
        return [], "none"
    if style == "changes":
        every = int(rng.choice([1, 1, 2]))
        points = np.sort(change_s)[::every]
        lift = rng.uniform(0.03, 0.15)  # s after the change: the new chord is caught
        gap = rng.uniform(0.05, 0.15)  # s the dampers are down
        downs = np.concatenate([[max(0.0, points[0] - 0.05)], points[1:] + lift + gap])
        ups = np.concatenate([points[1:] + lift, [end_s]])
    else:
        mean = 1.5 if style == "random" else 6.0
        t, downs_l, ups_l = rng.uniform(0, 1.0), [], []
        while t < end_s:
            d = rng.exponential(mean) + 0.3
            if rng.random() < 0.75:
                downs_l.append(t)
                ups_l.append(min(t + d, end_s))
            t += d + rng.uniform(0.05, 0.6)
        downs, ups = np.array(downs_l), np.array(ups_l)
    keep = ups - downs > 0.1
    return [(float(d), float(u)) for d, u in zip(downs[keep], ups[keep], strict=True)], str(style)


def sounding(keys: np.ndarray, pedal: list[tuple[float, float]]) -> np.ndarray:
    """Label rows: each release held until the pedal lifts, then cut at the key's next strike."""
    out = keys.copy()
    for down, up in pedal:
        held = (out[:, 1] >= down) & (out[:, 1] < up)
        out[held, 1] = up
    order = np.lexsort((out[:, 0], out[:, 2]))
    for a, b in zip(order[:-1], order[1:], strict=True):
        if out[a, 2] == out[b, 2] and out[a, 1] > out[b, 0]:
            out[a, 1] = out[b, 0]
    return out


def perform(piece: Piece, rng: np.random.Generator, bpm: float, transpose: int = 0) -> Performance:
    """Play a piece: humanised keys, pedal, labels; pitches outside 21..108 are dropped."""
    shifted = piece.notes.copy()
    shifted[:, 2] += transpose
    shifted = shifted[(shifted[:, 2] >= MIDI_MIN) & (shifted[:, 2] <= MIDI_MAX)]
    played = Piece(piece.name, shifted, piece.changes, piece.beats_per_bar)
    rows, params = key_presses(played, rng, bpm)
    keys = piano_keys(rows)
    change_s = _changes_in_seconds(played, rows)
    pedal, style = pedal_intervals(change_s, float(keys[:, 1].max()), rng)
    labels = sounding(keys, pedal)
    params.update({"transpose": transpose, "pedal": style})
    return Performance(_events(keys), pedal, _events(labels), params)


def _changes_in_seconds(piece: Piece, rows: np.ndarray) -> np.ndarray:
    """Change points mapped through the performed onsets (interpolating beats -> s)."""
    if len(piece.changes) == 0 or len(rows) < 2:
        return np.zeros(0)
    starts = piece.notes[:, 0]
    order = np.argsort(starts, kind="stable")
    beat_u, first = np.unique(starts[order], return_index=True)
    time_u = rows[order][first, 0] if len(rows) == len(starts) else np.zeros(0)
    if len(time_u) != len(beat_u) or len(beat_u) < 2:
        return np.zeros(0)
    inside = (piece.changes >= beat_u[0]) & (piece.changes <= beat_u[-1])
    return np.interp(piece.changes[inside], beat_u, time_u)


def _events(rows: np.ndarray) -> list[NoteEvent]:
    return [
        NoteEvent(float(r[0]), float(max(r[1], r[0] + 1e-3)), int(r[2]), int(r[3])) for r in rows
    ]
