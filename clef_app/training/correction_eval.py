"""A simulated user measures Transcribe Again: how many corrections it saves.

Each recording is transcribed (the shipped pipeline), cut into passages, and every passage
is compared with the ground truth (mir_eval: same pitch, onset within 50 ms). An error is a
written note that is wrong (the user deletes it) or a true note that is missing (the user
adds it with its true times): one correction each by hand. The simulated user fixes the
first k errors of the passage in time order, then re-reads it (`Pipeline.reread`), which
keeps the added notes, never writes the deleted ones again and rewrites the rest. What is
left wrong then is compared with fixing by hand alone (E - k corrections still to make):

    saved = (E - k) - errors left after the re-read, summed over passages, per minute.

Passages with at most k errors are fixed by hand alone (nothing saved, nothing lost). k = 0
(a re-read without fixes) shows what re-reading alone changes. Each re-read is scored twice
from the same decoding: as Transcribe Again applies it (reconciled, `model/reconcile.py`)
and replacing every unlocked note of the passage (as it did before), with that
replacement's churn: notes right by hand it lost, and wrong notes it wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

import mir_eval
import numpy as np

from clef_app.model.reconcile import REPLACE_ALL, reconcile
from clef_app.notation.corrections import Corrections, Passage
from clef_app.notation.events import NoteEvent
from clef_app.training.metrics import ONSET_TOLERANCE

KS = (0, 1, 3, 5)


@dataclass(frozen=True)
class Errors:
    """A passage's wrong written notes and missing true notes."""

    wrong: list[NoteEvent]
    missing: list[NoteEvent]

    @property
    def count(self) -> int:
        return len(self.wrong) + len(self.missing)

    def first(self, k: int) -> Errors:
        """The first k errors in time order (the ones the user fixes first)."""
        both = sorted([(n.onset, 0, i) for i, n in enumerate(self.wrong)]
                      + [(n.onset, 1, i) for i, n in enumerate(self.missing)])[:k]
        return Errors([self.wrong[i] for _, kind, i in both if kind == 0],
                      [self.missing[i] for _, kind, i in both if kind == 1])


def errors(ref: list[NoteEvent], est: list[NoteEvent]) -> Errors:
    """Unmatched written and true notes (pitch, onset within 50 ms, one to one)."""
    if not ref or not est:
        return Errors(list(est), list(ref))
    ri, rp = _arrays(ref)
    ei, ep = _arrays(est)
    pairs = mir_eval.transcription.match_notes(ri, rp, ei, ep, onset_tolerance=ONSET_TOLERANCE,
                                               offset_ratio=None)
    hit_r, hit_e = {i for i, _ in pairs}, {j for _, j in pairs}
    return Errors([n for j, n in enumerate(est) if j not in hit_e],
                  [n for i, n in enumerate(ref) if i not in hit_r])


def fix_by_hand(notes: list[NoteEvent], fixes: Errors) -> tuple[list[NoteEvent], Corrections]:
    """The notes after the user deleted `fixes.wrong` and added `fixes.missing`, and what
    the document remembers of it."""
    gone = {n.id for n in fixes.wrong}
    added = [NoteEvent(n.onset, n.offset, n.pitch, n.velocity) for n in fixes.missing]
    return ([n for n in notes if n.id not in gone] + added,
            Corrections(frozenset(n.id for n in added), tuple(fixes.wrong)))


def simulate(pipeline, samples: np.ndarray, rate: int, ref: list[NoteEvent],
             est: list[NoteEvent], passage_seconds: float, ks=KS) -> list[dict]:
    """One row per passage and k: errors before, by hand after k fixes, after the re-read
    (reconciled, and replacing the passage)."""
    total = len(samples) / rate
    rows = []
    for start in np.arange(0.0, total - 1.0, passage_seconds):
        passage = Passage(float(start), float(min(total, start + passage_seconds)))
        ref_p = [n for n in ref if passage.holds(n)]
        found = errors(ref_p, [n for n in est if passage.holds(n)])
        for k in ks:
            left = max(0, found.count - k)
            row = {"start": passage.start, "errors": found.count, "k": k, "hand": left,
                   "reread": left, "replaced": left, "lost": 0, "new_wrong": 0}
            if found.count > k:
                notes, fixes = fix_by_hand(est, found.first(k))
                got = pipeline.reread(samples, rate, notes, passage, fixes)
                row["reread"] = _left(ref_p, notes, passage, got.removed, got.added)
                row.update(churn(ref_p, [n for n in notes if passage.holds(n)],
                                 got.replaceable, got.written))
            rows.append(row)
    return rows


def churn(ref: list[NoteEvent], before: list[NoteEvent], old: list[NoteEvent],
          new: list[NoteEvent]) -> dict[str, int]:
    """Replacing `old` by `new` among `before` (one passage's notes): errors left, notes
    right before that it lost, wrong notes it wrote."""
    removed, added = reconcile(old, new, (), REPLACE_ALL)
    gone = {n.id for n in removed}
    after = [n for n in before if n.id not in gone] + added
    wrong_before = {n.id for n in errors(ref, before).wrong}
    found = errors(ref, after)
    return {"replaced": found.count,
            "lost": sum(1 for n in before if n.id in gone and n.id not in wrong_before
                        and not any(_same(n, m) for m in added)),
            "new_wrong": sum(1 for n in found.wrong if n.id not in {m.id for m in before})}


def _left(ref: list[NoteEvent], notes: list[NoteEvent], passage: Passage,
          removed: list[NoteEvent], added: list[NoteEvent]) -> int:
    gone = {n.id for n in removed}
    after = [n for n in notes if n.id not in gone] + added
    return errors(ref, [n for n in after if passage.holds(n)]).count


def _same(a: NoteEvent, b: NoteEvent) -> bool:
    return a.pitch == b.pitch and abs(a.onset - b.onset) <= ONSET_TOLERANCE


def summary(rows: list[dict], minutes: float) -> dict[int, dict[str, float]]:
    """Per k: errors per minute before, by hand after the k fixes, after the re-read, and
    corrections saved per minute of audio."""
    out = {}
    for k in sorted({r["k"] for r in rows}):
        mine = [r for r in rows if r["k"] == k]
        hand, left = sum(r["hand"] for r in mine), sum(r["reread"] for r in mine)
        replaced = sum(r.get("replaced", r["reread"]) for r in mine)
        out[k] = {"errors_per_min": sum(r["errors"] for r in mine) / minutes,
                  "hand_left_per_min": hand / minutes, "reread_left_per_min": left / minutes,
                  "saved_per_min": (hand - left) / minutes,
                  "replaced_saved_per_min": (hand - replaced) / minutes,
                  "lost_per_min": sum(r.get("lost", 0) for r in mine) / minutes,
                  "new_wrong_per_min": sum(r.get("new_wrong", 0) for r in mine) / minutes}
    return out


def _arrays(notes: list[NoteEvent]) -> tuple[np.ndarray, np.ndarray]:
    intervals = np.array([[n.onset, max(n.offset, n.onset + 0.01)] for n in notes])
    return intervals, mir_eval.util.midi_to_hz(np.array([n.pitch for n in notes], dtype=float))
