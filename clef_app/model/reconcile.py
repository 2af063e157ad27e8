"""What a re-read changes: the passage's old notes reconciled with the notes written anew.

A re-read is a fresh transcription of the passage, about as good as the first one but wrong
in other places: replacing every unlocked note by it fixed about as many errors as it made
(per 10-s passage ±2-8 errors on maps-dev, even with no fix at all: the right notes it
lost and the wrong ones it wrote), so the user's fixes were lost in that churn. The fixes
do change what the decoder writes, but locally (on a held-out render, 5-7 changed notes a
second within 1 s of a fix, 0.2-0.8 a second further away). Reconciling keeps what the two
readings agree on and changes a note only where the first reading was unsure or the
second one is sure:

- an old note the re-read writes again (same key, onset within `SAME_NOTE`) stays as it is;
- an old note the re-read does not write goes only if less confident than `drop_below`;
- a note only the re-read writes comes in only if at least `add_from` confident;
- both only within `reach` of a fix (a note the user added, moved, resized or marked as
  right, or deleted); with no fix, the whole passage.

The constants were chosen on a held-out render, never on maps-dev: the simulated user's
re-reads (`training/correction_eval.py`) of the first 20 s of val_000000 (v4's validation
clips; too little CPU for more), scored for reach 0.5/1/2 s/unlimited, drop_below 0-0.35 and
add_from 0.2-0.5/never. drop_below 0.3-0.35 with add_from 0.2-0.4 saved the most; the
values are that plateau's cautious end. Limiting the changes to 0.5-2 s around the fixes
lost most of what reconciling saved there (most of it is the second reading's vote against
unsure notes), so `reach` is unlimited. The thresholds are on the checkpoint's confidence
scale: choose them again with a new checkpoint.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from clef_app.notation.events import NoteEvent

SAME_NOTE = 0.05  # s: onsets of one key this close are one note (the metrics' tolerance)


@dataclass(frozen=True)
class Reconcile:
    """How far a re-read may change the passage's old notes."""

    reach: float = math.inf  # s: notes change only this close (onset to onset) to a fix
    drop_below: float = 0.3  # an old note the re-read omits goes when less confident
    add_from: float = 0.4  # a note only the re-read writes comes in from this confidence


RECONCILE = Reconcile()
REPLACE_ALL = Reconcile(reach=math.inf, drop_below=math.inf, add_from=0.0)


def reconcile(old: Sequence[NoteEvent], new: Sequence[NoteEvent], fixes: Sequence[float],
              rule: Reconcile = RECONCILE) -> tuple[list[NoteEvent], list[NoteEvent]]:
    """(old notes to remove, new notes to add).

    Args:
        old: the passage's unlocked notes before the re-read.
        new: the notes the re-read wrote for the passage.
        fixes: onsets (s) of the passage's notes the user fixed or deleted.
        rule: the thresholds; `REPLACE_ALL` removes every old note and adds every new one.
    """
    if rule == REPLACE_ALL:
        return list(old), list(new)
    kept_old, kept_new = _pairs(old, new)

    def near(t: float) -> bool:
        return not fixes or any(abs(t - f) <= rule.reach for f in fixes)

    removed = [n for i, n in enumerate(old) if i not in kept_old and near(n.onset)
               and n.confidence < rule.drop_below]
    added = [n for j, n in enumerate(new) if j not in kept_new and near(n.onset)
             and n.confidence >= rule.add_from]
    return removed, added


def _pairs(old: Sequence[NoteEvent], new: Sequence[NoteEvent]) -> tuple[set[int], set[int]]:
    """Indices of old and new notes that are one note (one to one, closest onsets first)."""
    by_key: dict[int, list[int]] = {}
    for j, b in enumerate(new):
        by_key.setdefault(b.pitch, []).append(j)
    candidates = sorted((abs(a.onset - new[j].onset), i, j) for i, a in enumerate(old)
                        for j in by_key.get(a.pitch, ())
                        if abs(a.onset - new[j].onset) <= SAME_NOTE)
    left, right = set(), set()
    for _, i, j in candidates:
        if i not in left and j not in right:
            left.add(i)
            right.add(j)
    return left, right
