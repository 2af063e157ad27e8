"""Harmony-sensitive scores: note F1 by polyphony, and chord (simultaneity) accuracy.

Both use the onset-only matching of metrics.py (50 ms, pitch exact).

Polyphony of a moment = how many reference notes sound then, counting notes that start
within the onset tolerance (a chord's notes are simultaneous even if rolled by a few ms).
A reference note falls in the bucket of the polyphony at its onset; an estimated note that
matches one in that note's bucket, any other in the bucket of the reference polyphony at
its own onset (at least 1: a note invented in silence counts as monophonic). F1 per
bucket = 2 TP / (reference + estimated notes there), TP = matched pairs in the bucket.

A simultaneity = reference notes whose onsets lie within the tolerance of the first one.
It is right when the estimated notes with onsets in that window have exactly its pitches:
nothing missing, nothing added.
"""

from __future__ import annotations

import mir_eval
import numpy as np

from clef_app.notation.events import NoteEvent
from clef_app.training.metrics import ONSET_TOLERANCE, _arrays

BUCKETS = (("1", 1, 1), ("2-3", 2, 3), ("4+", 4, 10_000))  # name, fewest, most notes


def polyphony_at(ref: list[NoteEvent], t: float, tol: float = ONSET_TOLERANCE) -> int:
    """Reference notes sounding at `t`, or starting within `tol` of it."""
    return sum(1 for n in ref if n.onset - tol <= t < max(n.offset, n.onset + tol))


def _bucket(poly: int) -> str:
    return next(name for name, lo, hi in BUCKETS if lo <= max(poly, 1) <= hi)


def matched_pairs(ref: list[NoteEvent], est: list[NoteEvent]) -> list[tuple[int, int]]:
    """Onset-only (50 ms) matches, as (reference index, estimated index)."""
    if not ref or not est:
        return []
    ri, rp = _arrays(ref)
    ei, ep = _arrays(est)
    return mir_eval.transcription.match_notes(ri, rp, ei, ep, onset_tolerance=ONSET_TOLERANCE,
                                              offset_ratio=None)


def polyphony_counts(ref: list[NoteEvent], est: list[NoteEvent]) -> dict[str, dict[str, int]]:
    """Per bucket: reference notes, estimated notes and matched pairs (sum these over files)."""
    counts = {name: {"ref": 0, "est": 0, "tp": 0} for name, _, _ in BUCKETS}
    ref_bucket = [_bucket(polyphony_at(ref, n.onset)) for n in ref]
    est_bucket = [_bucket(polyphony_at(ref, n.onset)) for n in est]
    for i, j in matched_pairs(ref, est):
        est_bucket[j] = ref_bucket[i]  # a found note counts where its reference note does
        counts[ref_bucket[i]]["tp"] += 1
    for b in ref_bucket:
        counts[b]["ref"] += 1
    for b in est_bucket:
        counts[b]["est"] += 1
    return counts


def simultaneities(ref: list[NoteEvent], tol: float = ONSET_TOLERANCE) -> list[list[NoteEvent]]:
    """Reference notes grouped by onset: each group starts at its first note and takes the
    notes starting within `tol` after it."""
    groups: list[list[NoteEvent]] = []
    for n in sorted(ref, key=lambda n: (n.onset, n.pitch)):
        if groups and n.onset - groups[-1][0].onset <= tol:
            groups[-1].append(n)
        else:
            groups.append([n])
    return groups


def chord_counts(ref: list[NoteEvent], est: list[NoteEvent]) -> dict[str, int]:
    """Simultaneities (all, and those of 2+ notes) and how many came out exactly right."""
    onsets = np.array(sorted(n.onset for n in est)) if est else np.zeros(0)
    order = sorted(est, key=lambda n: n.onset)
    out = {"all": 0, "all_right": 0, "chords": 0, "chords_right": 0}
    for group in simultaneities(ref):
        lo = group[0].onset - ONSET_TOLERANCE
        hi = group[-1].onset + ONSET_TOLERANCE
        a, b = np.searchsorted(onsets, lo, "left"), np.searchsorted(onsets, hi, "right")
        right = sorted(n.pitch for n in order[a:b]) == sorted(n.pitch for n in group)
        out["all"] += 1
        out["all_right"] += int(right)
        if len(group) >= 2:
            out["chords"] += 1
            out["chords_right"] += int(right)
    return out


def harmony_scores(counts_poly: dict[str, dict[str, int]], counts_chord: dict[str, int]
                   ) -> dict[str, float]:
    """F1 per polyphony bucket and chord accuracy from summed counts (nan where empty)."""
    out: dict[str, float] = {}
    for name, c in counts_poly.items():
        total = c["ref"] + c["est"]
        out[f"f1_poly_{name}"] = 2 * c["tp"] / total if total else float("nan")
    out["chord_acc"] = (counts_chord["chords_right"] / counts_chord["chords"]
                        if counts_chord["chords"] else float("nan"))
    out["simultaneity_acc"] = (counts_chord["all_right"] / counts_chord["all"]
                               if counts_chord["all"] else float("nan"))
    return out
