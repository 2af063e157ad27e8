"""`clef eval --tune-confidence`: choose a checkpoint's decoding constants on some files.

In order, each with the best mean onset F1 (50 ms) on the files given:
1. the decoder notes' confidence threshold and the roll-only notes' onset threshold;
2. one, two or three readings, and the readings' merge thresholds;
3. the gap under which one key's notes are one note (`model/restrike.py`), and then the
   merge thresholds again with that gap;
4. the frame probability that holds a note on (`model/sustain.py`), by onset+offset F1.
They are stored in the checkpoint's JSON config. Choose them on files you never report:
held-out renders, or one group of maps-dev while reporting the other (the model card).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from clef_app.config import SAMPLE_RATE
from clef_app.model.passes import merge_passes
from clef_app.model.restrike import merge_restrikes
from clef_app.notation.events import NoteEvent
from clef_app.training.evaluate import (
    by_source,
    ground_truth,
    mean_of,
    model_to_update,
    samples_of,
    store_in_config,
)
from clef_app.training.metrics import note_scores

ROLL_ONSETS = (0.0, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.3)  # 0 = no roll-only notes
PASS_COUNTS = (2, 3)  # readings tried beside one
PASS_SINGLE = (0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)  # a note one pass wrote
PASS_BOTH = tuple(np.round(np.arange(0.0, 0.151, 0.025), 3))  # two or more: mean confidence
RESTRIKE_GAPS = (0.0, 0.05, 0.07, 0.09, 0.1, 0.12, 0.15)  # s; 0 = one key's notes never join
ROLL_SUSTAINS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)  # 0 = notes end as decoded


def tune_confidence(args: argparse.Namespace, files: list[Path]) -> int:
    """Choose the decoding constants on `files` (the module's steps); store them."""
    from clef_app.model.inference import passes_of

    path, tuned = model_to_update(args, "tune")
    audio = [samples_of(f) for f in files]
    refs = [ground_truth(f) or [] for f in files]
    best, one_pass_f1 = _one_pass(tuned, audio, refs)
    t = tuned.with_options(min_confidence=best[0], roll_onset=best[1])
    passes, readings = _readings(t, audio, refs, one_pass_f1, gap=0.0)
    t = t.with_options(**passes_of(passes))
    gap = _restrike_gap(t, audio, refs)
    if gap > 0 and readings is not None:
        passes, _ = _readings(t, audio, refs, -1.0, gap, {passes["count"]: readings})
        t = t.with_options(**passes_of(passes))
    sustain = 0.0
    if t.model.roll_head is not None:
        sustain = tune_sustain(t.with_options(roll_sustain=0.0, restrike_gap=gap), audio, refs)
    stored = store_in_config(path, {"min_confidence": best[0], "roll_onset": best[1],
                                     "passes": passes, "restrike_gap": gap,
                                     "roll_sustain": sustain})
    print(f"stored {passes['count']} pass(es), restrike_gap {gap} and roll_sustain {sustain} "
          f"in {stored}")
    return 0


def _one_pass(tuned, audio: list[np.ndarray], refs: list[list[NoteEvent]]
              ) -> tuple[tuple[float, float], float]:
    """(min_confidence, roll_onset) with the best onset F1 of one reading, and that F1."""
    t = tuned.with_options(min_confidence=0.0)
    lowest = ROLL_ONSETS[1] if t.model.roll_head is not None else 0.0
    decoded, roll_only = zip(*(by_source(t, x, lowest) for x in audio), strict=True)
    scores = {}
    for roll_thr in ROLL_ONSETS if t.model.roll_head is not None else (0.0,):
        for thr in np.round(np.arange(0.0, 0.51, 0.025), 3):
            floor = max(thr, roll_thr)
            kept = [[n for n in d if n.confidence >= thr]
                    + ([n for n in r if n.confidence >= floor] if roll_thr else [])
                    for d, r in zip(decoded, roll_only, strict=True)]
            scores[(float(thr), float(roll_thr))] = _onset_f1(refs, kept)
        best_here = max((k for k in scores if k[1] == roll_thr), key=scores.get)
        print(f"roll onset >= {roll_thr:.3f}: best onset F1 {scores[best_here]:.3f} "
              f"at confidence >= {best_here[0]:.3f}")
    best = max(scores, key=scores.get)
    print(f"one pass: min_confidence {best[0]}, roll_onset {best[1]}: onset F1 "
          f"{scores[best]:.3f} (decoder alone {scores[(best[0], 0.0)]:.3f})")
    return best, scores[best]


def _readings(t, audio: list[np.ndarray], refs: list[list[NoteEvent]], to_beat: float,
              gap: float, read: dict | None = None) -> tuple[dict, list | None]:
    """The readings (count and merge thresholds) whose merged notes, one key's echoes
    joined under `gap`, beat `to_beat`, and the chosen count's readings (None: one)."""
    passes, chosen, best_f1 = {"count": 1}, None, to_beat
    for count in (read or {c: None for c in PASS_COUNTS}):
        readings = (read or {}).get(count) or [
            t.with_options(passes=count).pass_notes(x, SAMPLE_RATE) for x in audio]
        merged = {(single, both): _onset_f1(refs, [merge_restrikes(merge_passes(
                      p, single, both), gap) for p in readings])
                  for single in PASS_SINGLE for both in PASS_BOTH}
        top = max(merged, key=merged.get)
        print(f"{count} passes (restrike gap {gap}): a note two or more wrote from {top[1]}, "
              f"one only one wrote from {top[0]}: onset F1 {merged[top]:.3f}")
        if merged[top] > best_f1:
            passes = {"count": count, "single": top[0], "both": top[1]}
            chosen, best_f1 = readings, merged[top]
    return passes, chosen


def _restrike_gap(t, audio: list[np.ndarray], refs: list[list[NoteEvent]]) -> float:
    """The restrike gap with the best onset F1 of `t`'s notes (ties: the shortest)."""
    notes = [t.with_options(restrike_gap=0.0).transcribe_all(x, SAMPLE_RATE) for x in audio]
    scores = {gap: _onset_f1(refs, [merge_restrikes(n, gap) for n in notes])
              for gap in RESTRIKE_GAPS}
    for gap, f1 in scores.items():
        print(f"restrike gap {gap}: onset F1 {f1:.3f}")
    return max(scores, key=lambda g: (round(scores[g], 4), -g))


def tune_sustain(t, audio: list[np.ndarray], refs: list[list[NoteEvent]]) -> float:
    """The `roll_sustain` with the best mean onset+offset F1 of `t`'s notes (0 = off)."""
    from clef_app.model.sustain import Frames, sustain_notes

    read = []
    for samples in audio:
        frames = Frames()
        notes = [n for p in t.transcribe(samples, SAMPLE_RATE, frames=frames) for n in p.notes]
        read.append((notes, frames.mean()))
    scores = {}
    for thr in ROLL_SUSTAINS:
        scores[thr] = mean_of([note_scores(r, sustain_notes(n, f, thr) if thr else n)
                             ["onset_offset_f1"] for r, (n, f) in zip(refs, read, strict=True)])
        print(f"roll_sustain {thr}: onset+offset F1 {scores[thr]:.3f}")
    return max(scores, key=scores.get)


def _onset_f1(refs: list[list[NoteEvent]], ests: list[list[NoteEvent]]) -> float:
    """Mean onset F1 (50 ms) over files."""
    return mean_of([note_scores(r, e)["onset_f1"] for r, e in zip(refs, ests, strict=True)])
