"""Transcribe Again: re-read a passage around the notes the user fixed.

The user selects a passage (a time range, or a time x pitch box). Its notes the user added,
moved, resized or marked as right are locked; every note outside the passage stays too.
Those kept notes are forced into the decoder's token sequence (`model/constraints.py`), so
the model continues a transcription that holds them, and notes the user deleted are masked
out of it; the model writes the rest. What it wrote is reconciled with the passage's
unlocked notes (`model/reconcile.py`): notes change only near the user's fixes, where the
re-read is confident.

The passage is read as a file is (`Transcriber`): the checkpoint's readings on shifted
segment grids, merged, with the roll head's extra notes and note ends), on the file's own
segment grid from the grid line before `LEAD` ahead of the passage to `LEAD` after it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from clef_app.config import MIDI_MIN
from clef_app.model.constraints import ConstrainedGrammar, WindowConstraints
from clef_app.model.inference import Transcriber
from clef_app.model.passes import merge_passes
from clef_app.model.progress import Cancelled
from clef_app.model.reconcile import RECONCILE, Reconcile, reconcile
from clef_app.model.restrike import merge_restrikes
from clef_app.notation.codec import FrameNote, NoteStitcher, to_frames
from clef_app.notation.corrections import NONE, Corrections, Passage
from clef_app.notation.events import NoteEvent, sort_notes

LEAD = 1.0  # s: audio read before and after the passage (context for its first notes)
SAME_NOTE = 0.05  # s: a written note this close to a kept or deleted one (same pitch) is it
__all__ = ["Passage", "Reread", "reread", "split"]


@dataclass
class Reread:
    """A re-read's result: the notes it replaces, and the notes the model wrote instead."""

    removed: list[NoteEvent]
    added: list[NoteEvent]
    locked: list[NoteEvent]  # the passage's notes kept as the user left them
    unsatisfied: int = 0  # windows whose forced tokens were not all written (token limit)
    replaceable: list[NoteEvent] = field(default_factory=list)  # the passage's unlocked notes
    written: list[NoteEvent] = field(default_factory=list)  # all the model wrote for it

    @property
    def changes(self) -> bool:
        return bool(self.removed or self.added)

    def summary(self) -> str:
        """One line for the user: what the re-read kept and changed."""
        kept = f"{len(self.locked)} of your notes kept"
        if not self.changes:
            return f"{kept}; the model found nothing to change"
        return f"{kept}, {len(self.removed)} notes replaced by {len(self.added)}"


def split(notes: Iterable[NoteEvent], passage: Passage, corrections: Corrections
          ) -> tuple[list[NoteEvent], list[NoteEvent]]:
    """(kept notes, replaceable notes): the passage's notes the user did not touch are
    replaceable, every other note is kept."""
    kept, free = [], []
    for n in notes:
        (free if passage.holds(n) and n.id not in corrections.touched else kept).append(n)
    return kept, free


def reread(t: Transcriber, samples: np.ndarray, notes: Sequence[NoteEvent], passage: Passage,
           corrections: Corrections = NONE,
           cancel: Callable[[], bool] | None = None, rule: Reconcile = RECONCILE) -> Reread:
    """Re-read `passage` of `samples` (mono, the model's rate) holding the kept notes;
    what it wrote is reconciled with the passage's unlocked notes by `rule`.

    Raises:
        Cancelled: `cancel` returned True.
    """
    kept, free = split(notes, passage, corrections)
    deleted = [d for d in corrections.deleted
               if not any(_same(d, k) for k in kept)]  # the user put it back
    written, unsatisfied = _write(t, samples, passage, kept, deleted, cancel)
    written = _fit(merge_restrikes(written, t.options.restrike_gap), passage, kept, deleted)
    locked = [n for n in kept if passage.holds(n)]
    fixes = [n.onset for n in locked] + [d.onset for d in deleted if passage.holds(d)]
    removed, added = reconcile(free, written, fixes, rule)
    return Reread(removed, added, locked, unsatisfied, free, written)


def _write(t: Transcriber, samples: np.ndarray, passage: Passage, kept: Sequence[NoteEvent],
           deleted: Sequence[NoteEvent], cancel: Callable[[], bool] | None
           ) -> tuple[list[NoteEvent], int]:
    """(notes the model writes around `passage` holding `kept` and never writing `deleted`,
    windows whose forced tokens were not all written)."""
    fe = t.fe
    fps = fe.sample_rate // fe.hop_length
    total = len(samples) / fe.sample_rate
    # pass 0 begins on the file's segment grid, so the windows are those of a whole reading
    origin = round(max(0.0, passage.start - LEAD) * fps) // fe.segment_frames * fe.segment_frames
    end = round(min(total, passage.end + LEAD) * fps)
    count = max(1, t.options.passes)
    passes = [_Reading(t, origin, k * fe.segment_frames // count, end) for k in range(count)]
    near = [n for n in kept if n.offset > origin / fps - fe.segment_seconds
            and n.onset < end / fps + fe.segment_seconds]
    forced, gone = to_frames(near), _frame_notes(deleted, fps)
    sustain = t._sustain(origin / fps)
    unsatisfied = 0
    for j in range(max(p.count for p in passes)):
        if cancel is not None and cancel():
            raise Cancelled
        rows = [p for p in passes if j < p.count]
        constraints = [p.constraints(j, forced, gone) for p in rows]
        grammar = ConstrainedGrammar(constraints)
        firsts = [p.window_start(j) * fe.hop_length for p in rows]
        tokens, probs, roll = t.decode_windows_with_roll(samples, firsts, cancel=cancel,
                                                         grammar=grammar)
        for i, p in enumerate(rows):
            p.feed(j, tokens[i], probs[i], None if roll is None else roll[i])
            unsatisfied += not grammar.rows[i].satisfied
            if sustain is not None and roll is not None:
                sustain.frames.add(p.window_start(j) - origin, roll[i, :, 1])
    per_pass = [p.finish() for p in passes]
    written = (merge_passes(per_pass, t.options.pass_single, t.options.pass_both)
               if count > 1 else t.keep(per_pass[0]))
    if sustain is not None:
        written = sustain.finish(written)
    return written, unsatisfied


class _Reading:
    """One reading of the passage, its windows `shift` frames before the passage grid's."""

    def __init__(self, t: Transcriber, origin: int, shift: int, end: int) -> None:
        fe = t.fe
        self.frames = fe.segment_frames
        self.first = origin - shift  # frame where window 0 begins
        self.count = max(1, math.ceil((end - self.first) / self.frames))
        fps = fe.sample_rate // fe.hop_length
        self.stitcher = NoteStitcher(fps=fps, time_offset=self.first / fps)
        merged = t.options.passes > 1
        self.roll = t._roll_notes(self.first / fps, 0, 0.0 if merged else None)
        self.notes: list[NoteEvent] = []

    def window_start(self, j: int) -> int:
        return self.first + j * self.frames

    def constraints(self, j: int, forced: list[FrameNote], gone: list[FrameNote]
                    ) -> WindowConstraints:
        w0 = self.window_start(j)
        return WindowConstraints.build(self.frames, _shift(forced, w0), _shift(gone, w0))

    def feed(self, j: int, tokens: list[int], probs: list[float], roll: np.ndarray | None
             ) -> None:
        start = j * self.frames
        self.notes += self.stitcher.feed(start, self.frames, tokens, probs)
        if self.roll is not None and roll is not None:
            self.notes += self.roll.add_segment(start, tokens, roll)

    def finish(self) -> list[NoteEvent]:
        notes = self.notes + self.stitcher.finish()
        if self.roll is not None:
            notes += self.roll.finish()
        return [n if n.onset >= 0 else replace(n, onset=0.0) for n in notes if n.offset > 0.01]


def _fit(written: Iterable[NoteEvent], passage: Passage, kept: Sequence[NoteEvent],
         deleted: Sequence[NoteEvent]) -> list[NoteEvent]:
    """The written notes that belong in the passage: in it, none where a kept note of the
    same key or a deleted note began, ended before the next kept note of their key."""
    by_key: dict[int, list[NoteEvent]] = {}
    for k in kept:
        by_key.setdefault(k.pitch, []).append(k)
    out = []
    for n in written:
        if not passage.holds(n) or any(_same(n, d) for d in deleted):
            continue
        same_key = by_key.get(n.pitch, [])
        if any(_same(n, k) for k in same_key):
            continue  # a strike inside a kept note's (pedalled) length is a new note
        later = [k.onset for k in same_key if k.onset > n.onset]
        offset = min([n.offset, *later])
        if offset - n.onset >= 0.02:
            out.append(replace(n, offset=offset) if offset < n.offset else n)
    return sort_notes(out)


def _same(a: NoteEvent, b: NoteEvent) -> bool:
    return a.pitch == b.pitch and abs(a.onset - b.onset) <= SAME_NOTE


def _frame_notes(notes: Iterable[NoteEvent], fps: int) -> list[FrameNote]:
    """Notes on the frame grid, without `to_frames`'s merging of one key's notes."""
    return [FrameNote(round(n.onset * fps), max(round(n.onset * fps) + 1,
                                                round(n.offset * fps)), n.pitch, n.velocity)
            for n in notes if MIDI_MIN <= n.pitch]


def _shift(notes: Iterable[FrameNote], start: int) -> list[FrameNote]:
    """Notes on the grid of a window beginning at frame `start`."""
    return [FrameNote(n.on - start, n.off - start, n.pitch, n.velocity) for n in notes]
