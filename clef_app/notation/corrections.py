"""What the user has corrected: the notes they touched and the notes they deleted.

A transcriber's edits say which notes are right: a note they added, moved, transposed,
resized, changed the velocity of or marked as right (`note_edits.CONFIRM`) is theirs, and a
note they deleted is wrong. "Transcribe Again" keeps the first and never writes the second
again (`model/reread.py`); `clef adapt` learns from both.

The record follows the undo history: it is replayed from the applied edits, so undoing a
deletion forgets it. A project file stores it besides (`corrections` in project.json), for a
project whose history is empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from clef_app.notation import note_edits
from clef_app.notation.edits import Edit, NoteEdit, note_to_dict
from clef_app.notation.events import NoteEvent

REREAD = "Transcribe again"  # the undo name of a re-read (the model's edit, not the user's)
# edits whose new notes are the user's (the score view's length edits are RESIZE too)
USER_EDITS = frozenset({note_edits.ADD, note_edits.MOVE, note_edits.TRANSPOSE,
                        note_edits.NUDGE, note_edits.RESIZE, note_edits.VELOCITY,
                        note_edits.CONFIRM})
SAME_ONSET = 0.05  # s: a note added this close to a deleted one (same pitch) undoes its deletion


@dataclass(frozen=True)
class Passage:
    """What "Transcribe Again" re-reads: onsets in [start, end) s, pitches low..high (MIDI)."""

    start: float
    end: float
    low: int = 0
    high: int = 127

    def holds(self, n: NoteEvent) -> bool:
        return self.start <= n.onset < self.end and self.low <= n.pitch <= self.high


@dataclass(frozen=True)
class Corrections:
    """Ids of the notes the user touched, and the notes they deleted (as they were)."""

    touched: frozenset[int] = frozenset()
    deleted: tuple[NoteEvent, ...] = ()

    def locked(self, notes: Iterable[NoteEvent]) -> list[NoteEvent]:
        """The notes among `notes` the user touched."""
        return [n for n in notes if n.id in self.touched]

    def is_empty(self) -> bool:
        return not self.touched and not self.deleted

    def to_dict(self, notes: Iterable[NoteEvent]) -> dict:
        """For project.json: touched ids still among `notes`, deleted notes."""
        live = {n.id for n in notes}
        return {"touched": sorted(i for i in self.touched if i in live),
                "deleted": [note_to_dict(n) for n in self.deleted]}


NONE = Corrections()


def replay(edits: Sequence[Edit], base: Corrections = NONE) -> Corrections:
    """The corrections made by applied `edits`, after those of `base`."""
    touched, deleted = set(base.touched), list(base.deleted)
    for edit in edits:
        if not isinstance(edit, NoteEdit):
            continue
        if edit.text in USER_EDITS:
            touched |= {n.id for n in edit.added}
            deleted = [d for d in deleted if not any(_same(d, n) for n in edit.added)]
        elif edit.text == note_edits.DELETE:
            deleted += edit.removed
            touched -= {n.id for n in edit.removed}
    return Corrections(frozenset(touched), tuple(deleted))


def of_history(edits: Sequence[Edit], index: int, stored: Corrections | None = None
               ) -> Corrections:
    """The corrections of a document: replayed from its history's first `index` edits, or,
    when it has no history, those stored in its project file."""
    if edits:
        return replay(edits[:index])
    return stored or NONE


def from_dict(d: Mapping, deleted: list[NoteEvent]) -> Corrections:
    """From project.json's `corrections` (the deleted notes read and checked already)."""
    return Corrections(frozenset(int(i) for i in d.get("touched", ())), tuple(deleted))


def _same(a: NoteEvent, b: NoteEvent) -> bool:
    return a.pitch == b.pitch and abs(a.onset - b.onset) <= SAME_ONSET
