"""Note and frame metrics (mir_eval), the same for every system compared."""

from __future__ import annotations

import mir_eval
import numpy as np

from clef_app.notation.events import NoteEvent

ONSET_TOLERANCE = 0.05  # s
WIDE_TOLERANCE = 0.1  # s: robust to MAPS labels that lag soft onsets by 50-60 ms
OCTAVES = range(0, 9)  # octave 4 = C4-B4 (MIDI 60-71); A0-B0 is octave 0
FRAME_RATE = 100  # frames/s for frame F1


def _arrays(notes: list[NoteEvent]) -> tuple[np.ndarray, np.ndarray]:
    if not notes:
        return np.zeros((0, 2)), np.zeros(0)
    intervals = np.array([[n.onset, max(n.offset, n.onset + 0.01)] for n in notes])
    return intervals, mir_eval.util.midi_to_hz(np.array([n.pitch for n in notes], dtype=float))


def _roll(notes: list[NoteEvent], n_frames: int) -> np.ndarray:
    roll = np.zeros((n_frames, 128), dtype=bool)
    for n in notes:
        a, b = int(round(n.onset * FRAME_RATE)), int(round(n.offset * FRAME_RATE))
        roll[max(a, 0) : max(b, a + 1), n.pitch] = True
    return roll


def note_scores(ref: list[NoteEvent], est: list[NoteEvent]) -> dict[str, float]:
    """Precision/recall/F1 onset-only at 50 ms (`onset_*`) and 100 ms (`onset100_*`),
    onset+offset (50 ms), frame-level, and per octave the reference notes and how many were
    found at each tolerance (`oct{k}_n`, `oct{k}_hit50`, `oct{k}_hit100`)."""
    ri, rp = _arrays(ref)
    ei, ep = _arrays(est)
    out: dict[str, float] = {}
    for name, ratio, tol in (("onset", None, ONSET_TOLERANCE),
                             ("onset100", None, WIDE_TOLERANCE),
                             ("onset_offset", 0.2, ONSET_TOLERANCE)):
        if len(ri) and len(ei):
            p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
                ri, rp, ei, ep, onset_tolerance=tol, offset_ratio=ratio)
        else:
            p = r = f = 0.0
        out.update({f"{name}_p": p, f"{name}_r": r, f"{name}_f1": f})
    end = max([n.offset for n in ref + est] + [0.0])
    n_frames = int(end * FRAME_RATE) + 2
    a, b = _roll(ref, n_frames), _roll(est, n_frames)
    tp = float((a & b).sum())
    fp, fn = float((~a & b).sum()), float((a & ~b).sum())
    out["frame_f1"] = 2 * tp / max(2 * tp + fp + fn, 1.0)
    out["n_ref"], out["n_est"] = float(len(ref)), float(len(est))
    out["onset_dev_ms"] = onset_deviation_ms(ri, rp, ei, ep)
    out.update(octave_counts(ref, ri, rp, ei, ep))
    return out


def octave_counts(ref: list[NoteEvent], ri: np.ndarray, rp: np.ndarray, ei: np.ndarray,
                  ep: np.ndarray) -> dict[str, float]:
    """Per octave: reference notes, and those matched (pitch, onset) at 50 and at 100 ms."""
    octave = np.array([n.pitch // 12 - 1 for n in ref], dtype=int)
    out: dict[str, float] = {}
    hits = {}
    for ms, tol in ((50, ONSET_TOLERANCE), (100, WIDE_TOLERANCE)):
        found = np.zeros(len(ref), dtype=bool)
        if len(ri) and len(ei):
            pairs = mir_eval.transcription.match_notes(
                ri, rp, ei, ep, onset_tolerance=tol, offset_ratio=None)
            found[[i for i, _ in pairs]] = True
        hits[ms] = found
    for k in OCTAVES:
        mine = octave == k
        out[f"oct{k}_n"] = float(mine.sum())
        out[f"oct{k}_hit50"] = float((hits[50] & mine).sum())
        out[f"oct{k}_hit100"] = float((hits[100] & mine).sum())
    return out


def octave_recall(rows: list[dict], tolerance_ms: int = 100) -> dict[int, float]:
    """Recall per octave over all rows' notes pooled (nan where an octave has none)."""
    out = {}
    for k in OCTAVES:
        n = sum(r.get(f"oct{k}_n", 0.0) for r in rows)
        hit = sum(r.get(f"oct{k}_hit{tolerance_ms}", 0.0) for r in rows)
        out[k] = hit / n if n else float("nan")
    return out


def onset_deviation_ms(ri: np.ndarray, rp: np.ndarray, ei: np.ndarray, ep: np.ndarray) -> float:
    """Median |estimated - reference| onset of the notes matched at 50 ms, in ms (nan if none)."""
    if not len(ri) or not len(ei):
        return float("nan")
    pairs = mir_eval.transcription.match_notes(
        ri, rp, ei, ep, onset_tolerance=ONSET_TOLERANCE, offset_ratio=None)
    if not pairs:
        return float("nan")
    return float(np.median([abs(ei[j, 0] - ri[i, 0]) for i, j in pairs]) * 1000)


def matched_estimates(ref: list[NoteEvent], est: list[NoteEvent]) -> set[int]:
    """Indices of the estimated notes matched to a reference note (pitch, onset 50 ms)."""
    ri, rp = _arrays(ref)
    ei, ep = _arrays(est)
    if not len(ri) or not len(ei):
        return set()
    pairs = mir_eval.transcription.match_notes(
        ri, rp, ei, ep, onset_tolerance=ONSET_TOLERANCE, offset_ratio=None)
    return {j for _, j in pairs}


def polyphony_of(notes: list[NoteEvent], at: float) -> int:
    """How many notes sound at time `at`."""
    return sum(1 for n in notes if n.onset <= at < n.offset)
