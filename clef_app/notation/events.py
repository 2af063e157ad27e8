"""NoteEvent: the one vocabulary type that crosses every layer."""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

_ids = itertools.count(1)
MAX_NOTE_SECONDS = 4 * 3600  # s: as long as the longest recording Clef opens


def new_note_id() -> int:
    """A process-unique id for a new note."""
    return next(_ids)


def reserve_note_ids(highest: int) -> None:
    """Make `new_note_id` return ids above `highest` (after reading notes that carry ids)."""
    global _ids
    _ids = itertools.count(max(next(_ids), highest + 1))


@dataclass(frozen=True, order=True)
class NoteEvent:
    """One note: times in seconds, MIDI pitch, velocity 1-127, confidence 0-1."""

    onset: float
    offset: float
    pitch: int
    velocity: int = 80
    id: int = field(default_factory=new_note_id, compare=False)
    confidence: float = field(default=1.0, compare=False)

    def __post_init__(self) -> None:
        if not self.offset > self.onset:
            raise ValueError(
                f"note {self.pitch} ends ({self.offset}) before it starts ({self.onset})")
        if not 0 <= self.pitch <= 127:
            raise ValueError(f"pitch {self.pitch} outside MIDI range 0-127")

    @property
    def duration(self) -> float:
        return self.offset - self.onset

    def moved(self, dt: float = 0.0, dpitch: int = 0) -> NoteEvent:
        """The same note (same id) shifted in time and pitch."""
        return replace(self, onset=self.onset + dt, offset=self.offset + dt,
                       pitch=self.pitch + dpitch)


def sort_notes(notes: Iterable[NoteEvent]) -> list[NoteEvent]:
    return sorted(notes, key=lambda n: (n.onset, n.pitch, n.offset))


def read_notes_tsv(path: str | Path) -> list[NoteEvent]:
    """Read `onset_s offset_s midi_pitch velocity` rows (header optional, tabs or spaces).

    Raises:
        ValueError: a row is not three or four numbers, or its times lie outside
            0..MAX_NOTE_SECONDS.
    """
    notes = []
    with open(path, encoding="utf-8") as f:
        reader = csv.reader(f, delimiter="\t")
        for row in reader:
            if not row or row[0].strip().startswith(("#", "onset")):
                continue
            fields = row if len(row) > 1 else row[0].split()
            if len(fields) < 3:
                raise ValueError(f"line {reader.line_num}: expected onset, offset and pitch")
            onset, offset, pitch = (float(x) for x in fields[:3])
            velocity = float(fields[3]) if len(fields) > 3 else 80.0
            if not all(math.isfinite(x) for x in (onset, offset, pitch, velocity)):
                raise ValueError(f"line {reader.line_num}: a value is not a finite number")
            if not (0.0 <= onset <= MAX_NOTE_SECONDS and 0.0 <= offset <= MAX_NOTE_SECONDS):
                raise ValueError(f"line {reader.line_num}: times must lie in "
                                 f"0..{MAX_NOTE_SECONDS} s")
            pitch, velocity = int(pitch), int(velocity)
            if offset <= onset:
                offset = onset + 0.01
            notes.append(NoteEvent(onset, offset, pitch, max(1, min(127, velocity))))
    return sort_notes(notes)


def write_notes_tsv(notes: Iterable[NoteEvent], path: str | Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write("onset_s\toffset_s\tmidi_pitch\tvelocity\n")
        for n in sort_notes(notes):
            f.write(f"{n.onset:.6f}\t{n.offset:.6f}\t{n.pitch}\t{n.velocity}\n")
